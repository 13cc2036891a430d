// BatchLock: only one batch cycle (or maintenance run) at a time against a
// warehouse directory, across processes.
//
// Contract: an exclusive advisory lock (flock) on DIR/.batch.lock, held until
// the BatchLock is destroyed. Acquire with wait=false fails with Conflict at
// once when another process holds it; with wait=true it blocks until free.
#pragma once

#include <memory>
#include <string>

#include "wikistream/common/result.h"

namespace ws::warehouse {

class BatchLock {
 public:
  static Result<std::unique_ptr<BatchLock>> Acquire(const std::string& warehouse_dir, bool wait);
  ~BatchLock();

 private:
  explicit BatchLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ws::warehouse
