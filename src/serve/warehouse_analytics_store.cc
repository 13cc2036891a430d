#include "wikistream/serve/warehouse_analytics_store.h"

#include <functional>
#include <set>

namespace ws::serve {

using format::RecordBatch;
using format::SchemaPtr;
using table::PartitionValues;
using table::ScanOptions;

namespace {

// The row bytes a cached partition holds (an estimate for the bound).
size_t Bytes(const RecordBatch& rows) { return rows.ByteSize() + 256; }

std::function<bool(const PartitionValues&)> DateFilter(const std::optional<std::string>& date) {
  if (!date) return nullptr;
  return [d = *date](const PartitionValues& p) { return !p.empty() && p[0] == d; };
}

}  // namespace

WarehouseAnalyticsStore::WarehouseAnalyticsStore(warehouse::Warehouse* warehouse, size_t cache_bytes)
    : warehouse_(warehouse), cache_bytes_(cache_bytes) {}

Result<std::shared_ptr<table::Table>> WarehouseAnalyticsStore::Current(const std::string& qualified_table) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse_->table(qualified_table));
  WS_RETURN_IF_ERROR(table->Refresh());
  return table;
}

Result<int64_t> WarehouseAnalyticsStore::SnapshotId(const std::string& qualified_table) {
  WS_ASSIGN_OR_RETURN(auto table, Current(qualified_table));
  auto snap = table->current_snapshot();
  return snap ? snap->snapshot_id : 0;
}

std::shared_ptr<const RecordBatch> WarehouseAnalyticsStore::Cached(const std::string& key, int64_t snapshot_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  if (it->second->snapshot_id != snapshot_id) {  // a newer snapshot: the entry is stale
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->rows;
}

void WarehouseAnalyticsStore::Remember(const std::string& key, int64_t snapshot_id,
                                       std::shared_ptr<const RecordBatch> rows) {
  const size_t bytes = Bytes(*rows);
  if (bytes > cache_bytes_ / 4) return;  // one partition never takes most of the cache
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, snapshot_id, std::move(rows), bytes});
  index_[key] = lru_.begin();
  bytes_ += bytes;
  while (bytes_ > cache_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

Result<RecordBatch> WarehouseAnalyticsStore::ReadTable(const std::string& qualified_table,
                                                       const std::optional<std::string>& partition_date) {
  WS_ASSIGN_OR_RETURN(auto table, Current(qualified_table));
  auto snap = table->current_snapshot();
  SchemaPtr schema = table->schema();
  if (!snap) return RecordBatch(schema);
  const std::string key = qualified_table + "|" + partition_date.value_or("*");
  if (auto hit = Cached(key, snap->snapshot_id)) return *hit;
  ScanOptions options;
  options.snapshot_id = snap->snapshot_id;
  options.partition_filter = DateFilter(partition_date);
  WS_ASSIGN_OR_RETURN(auto files, table->Scan(options));
  WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse_->ReadDataFiles(files, schema));
  Remember(key, snap->snapshot_id, std::make_shared<const RecordBatch>(rows));
  return rows;
}

Result<std::vector<std::string>> WarehouseAnalyticsStore::Dates(const std::string& qualified_table) {
  WS_ASSIGN_OR_RETURN(auto table, Current(qualified_table));
  auto snap = table->current_snapshot();
  const int64_t id = snap ? snap->snapshot_id : 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dates_.find(qualified_table);
    if (it != dates_.end() && it->second.first == id) return it->second.second;
  }
  WS_ASSIGN_OR_RETURN(auto files, table->Scan());
  std::set<std::string> dates;
  for (const auto& f : files) {
    if (!f.partition.empty() && f.stats.record_count > 0) dates.insert(f.partition[0]);
  }
  std::vector<std::string> list(dates.begin(), dates.end());
  std::lock_guard<std::mutex> lock(mu_);
  dates_[qualified_table] = {id, list};  // one entry per table: bounded
  return list;
}

Result<RecordBatch> WarehouseAnalyticsStore::Scan(const std::string& qualified_table, const ScanSpec& spec) {
  WS_ASSIGN_OR_RETURN(auto table, Current(qualified_table));
  auto snap = table->current_snapshot();
  RecordBatch out;
  if (!snap) return out;
  const SchemaPtr schema = table->schema();
  std::vector<std::string> names;
  for (const auto& c : spec.columns) {
    if (schema->FieldIndex(c) >= 0) names.push_back(c);
  }
  const SchemaPtr projection = warehouse::ProjectSchema(*schema, names);
  out = RecordBatch(projection);
  for (const auto& date : spec.dates) {
    ScanOptions options;
    options.snapshot_id = snap->snapshot_id;
    options.partition_filter = DateFilter(date);
    WS_ASSIGN_OR_RETURN(auto files, table->Scan(options));
    // One file at a time, projected: a large partition is never held whole.
    for (const auto& file : files) {
      WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse_->ReadDataFiles({file}, projection));
      AppendProjected(rows, names, spec.keep, spec.max_rows, &out);
      if (out.num_rows() >= spec.max_rows) return out;
    }
  }
  return out;
}

}  // namespace ws::serve
