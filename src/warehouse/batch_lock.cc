#include "wikistream/warehouse/batch_lock.h"

namespace ws::warehouse {

Result<std::unique_ptr<BatchLock>> BatchLock::Acquire(const std::string& warehouse_dir, bool wait,
                                                      const table::CatalogOptions& catalog) {
  auto lock = table::AcquireCatalogLock(catalog.uri, warehouse_dir, "batch", wait, catalog.backend_options());
  if (!lock.ok()) {
    if (lock.status().IsConflict()) return Status::Conflict("another batch is running against " + warehouse_dir);
    return lock.status();
  }
  return std::unique_ptr<BatchLock>(new BatchLock(std::move(*lock)));
}

}  // namespace ws::warehouse
