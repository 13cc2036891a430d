#include "wikistream/common/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "wikistream/common/logging.h"
#include "wikistream/common/uuid.h"

namespace ws {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == EEXIST) return Status::AlreadyExists(msg);
  return Status::IOError(msg);
}

std::string ParentDir(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    // Only a file abandoned on an error path is still open here; its writer
    // already reports that error.
    if (Status s = Close(); !s.ok()) log::Warn("fs", "closing abandoned {}: {}", path_, s.ToString());
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError("append to closed file " + path_);
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError("sync of closed file " + path_);
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close", path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  uint64_t Size() const override { return size_; }

  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    WS_RETURN_IF_ERROR(CheckRange(offset, n));  // before sizing the string for it
    out->resize(n);
    return ReadInto(offset, n, out->data());
  }

  Status ReadInto(uint64_t offset, size_t n, char* dst) const override {
    WS_RETURN_IF_ERROR(CheckRange(offset, n));
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) return Status::Corruption("unexpected end of file " + path_);
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

 private:
  Status CheckRange(uint64_t offset, size_t n) const {
    if (offset > size_ || n > size_ - offset) {
      return Status::Corruption("read past end of " + path_ + " (offset " + std::to_string(offset) + ", length " +
                                std::to_string(n) + ", size " + std::to_string(size_) + ")");
    }
    return Status::OK();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixFileSystem : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    return OpenWritable(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
  }

  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& path) override {
    return OpenWritable(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("stat", path, err);
    }
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::string> ReadAll(const std::string& path) override {
    WS_ASSIGN_OR_RETURN(auto file, OpenForRead(path));
    std::string data;
    WS_RETURN_IF_ERROR(file->ReadAt(0, file->Size(), &data));
    return data;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from + " to", to, errno);
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove", path, errno);
    return Status::OK();
  }

  Status CreateDirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::IOError("create directory " + path + ": " + ec.message());
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync directory", path, err);
    return Status::OK();
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return ErrnoStatus("stat", path, errno);
  }

  Result<std::vector<FileInfo>> List(const std::string& dir) override {
    std::vector<FileInfo> out;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return Status::NotFound("list " + dir + ": " + ec.message());
      return Status::IOError("list " + dir + ": " + ec.message());
    }
    for (const auto& entry : it) {
      FileInfo info;
      if (!Describe(entry.path().string(), &info)) continue;  // vanished meanwhile
      if (info.is_directory || entry.is_regular_file(ec)) out.push_back(std::move(info));
    }
    return out;
  }

  Result<std::vector<FileInfo>> ListRecursive(const std::string& dir) override {
    std::vector<FileInfo> out;
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(dir, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return Status::NotFound("list " + dir + ": " + ec.message());
      return Status::IOError("list " + dir + ": " + ec.message());
    }
    for (auto end = std::filesystem::recursive_directory_iterator(); it != end; it.increment(ec)) {
      if (ec) return Status::IOError("list " + dir + ": " + ec.message());
      if (!it->is_regular_file(ec)) continue;
      FileInfo info;
      if (Describe(it->path().string(), &info)) out.push_back(std::move(info));
    }
    return out;
  }

 private:
  static bool Describe(const std::string& path, FileInfo* info) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    info->path = path;
    info->size = static_cast<uint64_t>(st.st_size);
    info->modified_micros = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
    info->is_directory = S_ISDIR(st.st_mode);
    return true;
  }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("create", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
};

// A file whose every mutating call first asks the injector whether to fail.
class FaultInjectedWritableFile : public WritableFile {
 public:
  FaultInjectedWritableFile(FaultInjectionFileSystem* fs, std::string path, std::unique_ptr<WritableFile> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (!base_) return Status::IOError("append to closed file " + path_);
    bool short_write = false;
    Status s = fs_->MaybeFail(path_, &short_write);
    if (short_write) {
      Status partial = base_->Append(data.substr(0, data.size() / 2));
      if (!partial.ok()) return partial;
      return Status::IOError("short write to " + path_ + " (injected)");
    }
    if (!s.ok()) return s;
    return base_->Append(data);
  }
  Status Sync() override {
    if (!base_) return Status::IOError("sync of closed file " + path_);
    bool short_write = false;
    WS_RETURN_IF_ERROR(fs_->MaybeFail(path_, &short_write));
    return base_->Sync();
  }
  Status Close() override {
    // A crashed process closes nothing: drop the file unclosed, so a store
    // that publishes on close (an object store) publishes nothing.
    if (fs_->crashed()) {
      base_.reset();
      return Status::IOError("simulated crash: close " + path_);
    }
    return base_ ? base_->Close() : Status::OK();
  }
  uint64_t Size() const override { return base_ ? base_->Size() : 0; }

 private:
  FaultInjectionFileSystem* fs_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

Status RandomAccessFile::ReadInto(uint64_t offset, size_t n, char* dst) const {
  std::string data;
  WS_RETURN_IF_ERROR(ReadAt(offset, n, &data));
  std::memcpy(dst, data.data(), n);
  return Status::OK();
}

Status FileSystem::WriteFileDurably(const std::string& path, std::string_view data, bool no_clobber) {
  WS_ASSIGN_OR_RETURN(auto file, no_clobber ? CreateNoClobber(path) : Create(path));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status closed = file->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) {
    // A half-written file must not be mistaken for a complete one later. But
    // AlreadyExists from Sync/Close (an object store's conditional PUT lost
    // the race) means the name holds someone else's file: leave it.
    if (s.code() != Status::Code::kAlreadyExists) RemoveLeftover(path);
    return s;
  }
  return SyncDir(ParentDir(path));
}

Result<bool> FileSystem::CreatesExclusively(const std::string&) { return true; }

Status FileSystem::ReplaceFileAtomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp-" + NewUuid();
  WS_ASSIGN_OR_RETURN(auto file, Create(tmp));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status closed = file->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = Rename(tmp, path);
  if (!s.ok()) {
    RemoveLeftover(tmp);
    return s;
  }
  return SyncDir(ParentDir(path));
}

void FileSystem::RemoveLeftover(const std::string& path) {
  Status s = Remove(path);
  if (!s.ok() && !s.IsNotFound()) log::Warn("fs", "could not remove the leftover {}: {}", path, s.ToString());
}

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* fs = new PosixFileSystem();
  return fs;
}

void FaultInjectionFileSystem::FailAt(int64_t nth_operation, FaultKind kind, std::string path_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = nth_operation;
  kind_ = kind;
  filter_ = std::move(path_filter);
  crashed_ = false;
  ops_ = 0;
  fired_ = false;
}

void FaultInjectionFileSystem::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = -1;
  crashed_ = false;
}

bool FaultInjectionFileSystem::crashed() {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

Status FaultInjectionFileSystem::MaybeFail(const std::string& path, bool* short_write) {
  *short_write = false;
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return Status::IOError("simulated crash: " + path);
  if (!filter_.empty() && path.find(filter_) == std::string::npos) return Status::OK();
  int64_t n = ++ops_;
  if (fail_at_ < 0 || n != fail_at_) return Status::OK();
  fired_ = true;
  switch (kind_) {
    case FaultKind::kIOError:
      return Status::IOError("injected I/O error at operation " + std::to_string(n) + ": " + path);
    case FaultKind::kNoSpace:
      return Status::IOError("injected ENOSPC (No space left on device) at operation " + std::to_string(n) + ": " + path);
    case FaultKind::kShortWrite:
      *short_write = true;
      return Status::IOError("injected short write: " + path);
    case FaultKind::kCrash:
      crashed_ = true;
      return Status::IOError("simulated crash at operation " + std::to_string(n) + ": " + path);
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::Create(const std::string& path) {
  bool short_write = false;
  WS_RETURN_IF_ERROR(MaybeFail(path, &short_write));
  WS_ASSIGN_OR_RETURN(auto base, base_->Create(path));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultInjectedWritableFile>(this, path, std::move(base)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::CreateNoClobber(const std::string& path) {
  bool short_write = false;
  WS_RETURN_IF_ERROR(MaybeFail(path, &short_write));
  WS_ASSIGN_OR_RETURN(auto base, base_->CreateNoClobber(path));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultInjectedWritableFile>(this, path, std::move(base)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::OpenForRead(const std::string& path) {
  return base_->OpenForRead(path);
}

Result<std::string> FaultInjectionFileSystem::ReadAll(const std::string& path) { return base_->ReadAll(path); }

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  bool short_write = false;
  WS_RETURN_IF_ERROR(MaybeFail(to, &short_write));
  return base_->Rename(from, to);
}

Status FaultInjectionFileSystem::Remove(const std::string& path) {
  bool short_write = false;
  WS_RETURN_IF_ERROR(MaybeFail(path, &short_write));
  return base_->Remove(path);
}

Status FaultInjectionFileSystem::CreateDirs(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return Status::IOError("simulated crash: " + path);
  }
  return base_->CreateDirs(path);
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  bool short_write = false;
  WS_RETURN_IF_ERROR(MaybeFail(path, &short_write));
  return base_->SyncDir(path);
}

Result<bool> FaultInjectionFileSystem::Exists(const std::string& path) { return base_->Exists(path); }

Result<std::vector<FileInfo>> FaultInjectionFileSystem::List(const std::string& dir) { return base_->List(dir); }

Result<std::vector<FileInfo>> FaultInjectionFileSystem::ListRecursive(const std::string& dir) {
  return base_->ListRecursive(dir);
}

Result<bool> FaultInjectionFileSystem::CreatesExclusively(const std::string& path) {
  return base_->CreatesExclusively(path);
}

}  // namespace ws
