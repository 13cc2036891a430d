// Warehouse maintenance: what `wikistream maintain` and
// POST /api/admin/maintain do to every table.
//
// Contract: MaintainWarehouse compacts each partition holding at least
// compact_min_files data files whose mean size is at most
// compact_max_mean_file_bytes, expires snapshots older than
// expire_snapshots_older_than_ms (keeping the newest retain_last_snapshots),
// and removes orphan files older than orphan_files_older_than_ms, in every
// table of AllTableSpecs(). A failed compaction is logged and skipped; a
// failed expiry or orphan removal fails the run. The caller holds the
// BatchLock. Returns a one-line summary. `progress` (may be empty) is called
// after each partition compacted and after each table's expiry and orphan
// removal: what a liveness probe counts as progress.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "wikistream/common/result.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::warehouse {

struct MaintenancePolicy {
  int compact_min_files = 4;
  int64_t compact_max_mean_file_bytes = 64LL << 20;
  int64_t expire_snapshots_older_than_ms = 24LL * 3600 * 1000;
  int retain_last_snapshots = 20;
  int64_t orphan_files_older_than_ms = 3600LL * 1000;
};

Result<std::string> MaintainWarehouse(Warehouse* warehouse, const MaintenancePolicy& policy = {},
                                      const std::function<void()>& progress = nullptr);

}  // namespace ws::warehouse
