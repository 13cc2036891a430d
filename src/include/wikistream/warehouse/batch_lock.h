// BatchLock: only one batch cycle (or maintenance run) at a time against a
// warehouse, across processes and, with a PostgreSQL catalog, across hosts.
//
// Contract: the catalog's "batch" lock (table/catalog_backend.h), held until
// the BatchLock is destroyed: with the default or an SQLite catalog an
// exclusive flock on .batch.lock beside the catalog file (DIR/.batch.lock by
// default); with PostgreSQL a session advisory lock in the catalog database,
// which the server releases if the holder dies. Acquire with wait=false fails
// with Conflict at once when another process holds it; with wait=true it
// waits until it is free. Check() says whether it is still certainly held
// (a PostgreSQL session can be lost): a holder checks it before each stage.
#pragma once

#include <memory>
#include <string>

#include "wikistream/common/result.h"
#include "wikistream/table/catalog.h"
#include "wikistream/table/catalog_backend.h"

namespace ws::warehouse {

class BatchLock {
 public:
  // `catalog`: its uri and catalog_name name the lock (other fields unused).
  static Result<std::unique_ptr<BatchLock>> Acquire(const std::string& warehouse_dir, bool wait,
                                                    const table::CatalogOptions& catalog = {});
  Status Check() { return lock_->Check(); }

 private:
  explicit BatchLock(std::unique_ptr<table::CatalogLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<table::CatalogLock> lock_;
};

}  // namespace ws::warehouse
