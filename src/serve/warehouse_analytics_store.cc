#include "wikistream/serve/warehouse_analytics_store.h"

#include <functional>
#include <set>

namespace ws::serve {

using format::RecordBatch;
using format::SchemaPtr;
using table::PartitionValues;
using table::ScanOptions;

Result<RecordBatch> WarehouseAnalyticsStore::ReadTable(const std::string& qualified_table,
                                                       const std::optional<std::string>& partition_date) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse_->table(qualified_table));
  WS_RETURN_IF_ERROR(table->Refresh());
  auto snap = table->current_snapshot();
  SchemaPtr schema = table->schema();
  if (!snap) return RecordBatch(schema);
  const std::string key = qualified_table + "|" + partition_date.value_or("*");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.first == snap->snapshot_id) return it->second.second;
  }
  std::function<bool(const PartitionValues&)> filter;
  if (partition_date) {
    std::string d = *partition_date;
    filter = [d](const PartitionValues& p) { return !p.empty() && p[0] == d; };
  }
  ScanOptions options;
  options.snapshot_id = snap->snapshot_id;
  options.partition_filter = filter;
  WS_ASSIGN_OR_RETURN(auto files, table->Scan(options));
  WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse_->ReadDataFiles(files, schema));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 256) cache_.clear();  // bounded: dates x tables
  cache_[key] = {snap->snapshot_id, rows};
  return rows;
}

Result<std::vector<std::string>> WarehouseAnalyticsStore::Dates(const std::string& qualified_table) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse_->table(qualified_table));
  WS_RETURN_IF_ERROR(table->Refresh());
  WS_ASSIGN_OR_RETURN(auto files, table->Scan());
  std::set<std::string> dates;
  for (const auto& f : files) {
    if (!f.partition.empty() && f.stats.record_count > 0) dates.insert(f.partition[0]);
  }
  return std::vector<std::string>(dates.begin(), dates.end());
}

}  // namespace ws::serve
