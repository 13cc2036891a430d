// Helpers shared by the fuzz targets (header-only: each target is one .cc).
//
// MemoryFileSystem holds files in memory so readers that take a FileSystem
// path (ParquetReader, AvroFileReader, ReadManifest) can be fed fuzz input
// without touching the disk: a temp file per input would make the disk the
// bottleneck and leave litter when a run is killed.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/file_system.h"

namespace ws::fuzz {

class MemoryFile : public RandomAccessFile {
 public:
  explicit MemoryFile(std::shared_ptr<const std::string> data) : data_(std::move(data)) {}
  uint64_t Size() const override { return data_->size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    if (offset > data_->size() || n > data_->size() - offset) return Status::Corruption("read past end of file");
    out->assign(*data_, offset, n);
    return Status::OK();
  }

 private:
  std::shared_ptr<const std::string> data_;
};

// Read-only: every mutating call fails, which no reader should need.
class MemoryFileSystem : public FileSystem {
 public:
  void Put(const std::string& path, std::string data) {
    files_[path] = std::make_shared<const std::string>(std::move(data));
  }
  Result<std::unique_ptr<WritableFile>> Create(const std::string&) override { return ReadOnly(); }
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string&) override { return ReadOnly(); }
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    return std::unique_ptr<RandomAccessFile>(new MemoryFile(it->second));
  }
  Result<std::string> ReadAll(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    return *it->second;
  }
  Status Rename(const std::string&, const std::string&) override { return ReadOnly(); }
  Status Remove(const std::string&) override { return ReadOnly(); }
  Status CreateDirs(const std::string&) override { return ReadOnly(); }
  Status SyncDir(const std::string&) override { return ReadOnly(); }
  Result<bool> Exists(const std::string& path) override { return files_.count(path) > 0; }
  Result<std::vector<FileInfo>> List(const std::string&) override { return std::vector<FileInfo>{}; }
  Result<std::vector<FileInfo>> ListRecursive(const std::string&) override { return std::vector<FileInfo>{}; }

 private:
  static Status ReadOnly() { return Status::NotSupported("MemoryFileSystem is read-only"); }
  std::map<std::string, std::shared_ptr<const std::string>> files_;
};

// A property the target checks was violated: print and abort so libFuzzer
// saves the input as a crash.
[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace ws::fuzz
