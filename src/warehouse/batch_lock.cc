#include "wikistream/warehouse/batch_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace ws::warehouse {

Result<std::unique_ptr<BatchLock>> BatchLock::Acquire(const std::string& warehouse_dir, bool wait) {
  std::string path = warehouse_dir + "/.batch.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path);
  if (::flock(fd, wait ? LOCK_EX : (LOCK_EX | LOCK_NB)) != 0) {
    ::close(fd);
    return Status::Conflict("another batch is running against " + warehouse_dir);
  }
  return std::unique_ptr<BatchLock>(new BatchLock(fd));
}

BatchLock::~BatchLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace ws::warehouse
