#include "wikistream/warehouse/maintenance.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <utility>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"

namespace ws::warehouse {

using table::ExpireOptions;
using table::PartitionValues;
using table::Table;

Result<std::string> MaintainWarehouse(Warehouse* warehouse, const MaintenancePolicy& policy,
                                      const std::function<void()>& progress) {
  const int64_t now_ms = NowMicros() / 1000;
  int64_t compacted = 0, expired = 0, deleted = 0;
  for (const TableSpec& spec : AllTableSpecs()) {
    auto t = warehouse->table(spec.qualified());
    if (!t.ok()) continue;
    Table& table = **t;
    WS_RETURN_IF_ERROR(table.Refresh());
    WS_ASSIGN_OR_RETURN(auto files, table.Scan());
    // Compact partitions holding many small files (micro-batches).
    std::map<PartitionValues, std::pair<int, int64_t>> per_partition;
    for (const auto& f : files) {
      auto& [count, bytes] = per_partition[f.partition];
      ++count;
      bytes += f.stats.file_size_bytes;
    }
    for (const auto& [partition, cb] : per_partition) {
      if (cb.first < policy.compact_min_files || cb.second / cb.first > policy.compact_max_mean_file_bytes) continue;
      auto r = table.Compact(partition);
      if (progress) progress();
      if (!r.ok()) {
        log::Warn("maintain", "{}: compaction of {} failed: {}", spec.qualified(), fmt::join(partition, "/"),
                  r.status().ToString());
        continue;
      }
      if (r->attempts > 0) ++compacted;
    }
    ExpireOptions eo;
    eo.older_than_ms = now_ms - policy.expire_snapshots_older_than_ms;
    eo.retain_last = policy.retain_last_snapshots;
    auto e = table.ExpireSnapshots(eo);
    if (!e.ok()) return Status(e.status().code(), spec.qualified() + ": " + e.status().message());
    expired += e->snapshots_expired;
    deleted += e->files_deleted;
    auto o = table.RemoveOrphanFiles(now_ms - policy.orphan_files_older_than_ms);
    if (!o.ok()) return Status(o.status().code(), spec.qualified() + ": " + o.status().message());
    deleted += o->files_deleted;
    if (progress) progress();
  }
  return fmt::format("maintain: {} partitions compacted, {} snapshots expired, {} files deleted", compacted, expired,
                     deleted);
}

}  // namespace ws::warehouse
