// FileSystem: the one interface every byte WikiStream persists goes through.
//
// Contract: paths are plain local paths here; other stores implement the same
// interface with their own paths (ws::storage::S3FileSystem: "s3://bucket/key",
// whose header says what each method means on an object store). Every method
// returns a Status instead of throwing.
// Durability: data is durable only after WritableFile::Sync() returned OK and
// the containing directory was synced with SyncDir() (for new names).
// CreateNoClobber fails with AlreadyExists if the name exists, which is how
// concurrent committers avoid overwriting each other's metadata files.
// Rename replaces the target atomically (POSIX rename).
// Implementations are thread-safe; a WritableFile is used by one thread.
// FaultInjectionFileSystem (below) wraps another FileSystem so tests can fail
// the Nth write, cut a write short, report ENOSPC, or "crash" (fail every
// operation from some point on), at any step of any commit.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"

namespace ws {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;   // fsync
  virtual Status Close() = 0;  // idempotent
  virtual uint64_t Size() const = 0;  // bytes appended so far
};

// Positional reads of a whole file or a range.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual uint64_t Size() const = 0;
  // Reads exactly n bytes at offset into *out, or fails (short file -> Corruption).
  virtual Status ReadAt(uint64_t offset, size_t n, std::string* out) const = 0;
  // The same into dst[0, n), for callers that reuse a buffer. The default
  // reads through a string; files that can read in place override it.
  virtual Status ReadInto(uint64_t offset, size_t n, char* dst) const;
};

struct FileInfo {
  std::string path;
  uint64_t size = 0;
  int64_t modified_micros = 0;
  bool is_directory = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<WritableFile>> Create(const std::string& path) = 0;         // truncates
  virtual Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& path) = 0;  // O_EXCL
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) = 0;
  virtual Result<std::string> ReadAll(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;  // NotFound if absent
  virtual Status CreateDirs(const std::string& path) = 0;  // mkdir -p
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  // Regular files and directories directly under `dir` (not recursive).
  virtual Result<std::vector<FileInfo>> List(const std::string& dir) = 0;
  // All regular files under `dir`, recursively.
  virtual Result<std::vector<FileInfo>> ListRecursive(const std::string& dir) = 0;
  // Whether CreateNoClobber(path) is exclusive: of two writers racing for one
  // new name, exactly one succeeds. Object stores without conditional PUT
  // check with a HEAD first, which both writers can pass; the later PUT then
  // replaces the earlier object. Writers that need a name of their own on
  // such stores add a unique part to it (table metadata files do).
  virtual Result<bool> CreatesExclusively(const std::string& path);

  // Writes `data` to a fresh name and makes it durable: create (no clobber
  // when `no_clobber`), append, sync, close, sync the parent directory.
  Status WriteFileDurably(const std::string& path, std::string_view data, bool no_clobber);
  // Replaces `path` so that readers see the old or the new content, never a
  // mix. Here: writes path + ".tmp-<uuid>", syncs, renames over `path`, syncs
  // the dir. Stores without an atomic rename override it (object stores: one PUT).
  virtual Status ReplaceFileAtomically(const std::string& path, std::string_view data);
  // Removes a file an operation wrote but failed to complete, on that
  // operation's error path. The caller returns its own, first error; a file
  // that cannot be removed is logged, not returned: nothing references it, so
  // it is an orphan that `maintain` removes later (absent is fine).
  void RemoveLeftover(const std::string& path);
};

// The local POSIX file system. Returns a process-wide instance.
FileSystem* DefaultFileSystem();

// What a fault does when it fires.
enum class FaultKind {
  kIOError,      // the operation fails with EIO
  kNoSpace,      // the operation fails with ENOSPC
  kShortWrite,   // an Append writes half of its bytes, then fails
  kCrash,        // this and every later mutating operation fail, as if the process died
};

// Wraps a FileSystem and fails the Nth mutating operation (Create,
// CreateNoClobber, Append, Sync, Rename, Remove, SyncDir; counted from 1)
// whose path contains `path_filter` (empty = any path).
class FaultInjectionFileSystem : public FileSystem {
 public:
  explicit FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

  void FailAt(int64_t nth_operation, FaultKind kind, std::string path_filter = "");
  void Disarm();            // no fault fires from now on; also lifts a crash
  int64_t operations() const { return ops_.load(); }  // mutating ops seen so far
  bool fired() const { return fired_.load(); }
  bool crashed();  // a kCrash fault fired and was not lifted

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override;
  Result<std::string> ReadAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::vector<FileInfo>> List(const std::string& dir) override;
  Result<std::vector<FileInfo>> ListRecursive(const std::string& dir) override;
  Result<bool> CreatesExclusively(const std::string& path) override;

  // Called by wrapped files; returns the fault to apply to this op, if any.
  Status MaybeFail(const std::string& path, bool* short_write);

 private:
  FileSystem* base_;
  std::mutex mu_;
  int64_t fail_at_ = -1;
  FaultKind kind_ = FaultKind::kIOError;
  std::string filter_;
  bool crashed_ = false;
  std::atomic<int64_t> ops_{0};
  std::atomic<bool> fired_{false};
};

}  // namespace ws
