#include "wikistream/warehouse/batch_lock.h"

namespace ws::warehouse {

Result<std::unique_ptr<BatchLock>> BatchLock::Acquire(const std::string& warehouse_dir, bool wait,
                                                      const std::string& catalog_uri) {
  auto lock = table::AcquireCatalogLock(catalog_uri, warehouse_dir, "batch", wait);
  if (!lock.ok()) {
    if (lock.status().IsConflict()) return Status::Conflict("another batch is running against " + warehouse_dir);
    return lock.status();
  }
  return std::unique_ptr<BatchLock>(new BatchLock(std::move(*lock)));
}

}  // namespace ws::warehouse
