// WarehouseAnalyticsStore: the AnalyticsStore the HTTP server reads gold,
// DQ, ops and (bounded) silver and DLQ tables through, backed by a
// warehouse.
//
// Contract: every call reads the table's current snapshot (Refresh). Rows
// of a (table, date) and a table's dates are cached with the snapshot id
// they were read at and never served once the table has a newer snapshot;
// the row cache is an LRU bounded by `cache_bytes` (a partition larger than
// a quarter of it is not cached), the dates cache holds one entry per table.
// Scan() is not cached: it reads the named partitions one data file at a
// time, projected onto the columns asked for, and stops at max_rows.
// Thread-safe.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wikistream/serve/analytics_store.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::serve {

class WarehouseAnalyticsStore : public AnalyticsStore {
 public:
  explicit WarehouseAnalyticsStore(warehouse::Warehouse* warehouse, size_t cache_bytes = 256 << 20);
  Result<format::RecordBatch> ReadTable(const std::string& qualified_table,
                                        const std::optional<std::string>& partition_date) override;
  Result<std::vector<std::string>> Dates(const std::string& qualified_table) override;
  Result<int64_t> SnapshotId(const std::string& qualified_table) override;
  Result<format::RecordBatch> Scan(const std::string& qualified_table, const ScanSpec& spec) override;

 private:
  struct Entry {
    std::string key;
    int64_t snapshot_id;
    std::shared_ptr<const format::RecordBatch> rows;
    size_t bytes;
  };
  Result<std::shared_ptr<table::Table>> Current(const std::string& qualified_table);
  std::shared_ptr<const format::RecordBatch> Cached(const std::string& key, int64_t snapshot_id);
  void Remember(const std::string& key, int64_t snapshot_id, std::shared_ptr<const format::RecordBatch> rows);

  warehouse::Warehouse* warehouse_;
  const size_t cache_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;  // newest first
  std::map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  std::map<std::string, std::pair<int64_t, std::vector<std::string>>> dates_;  // table -> (snapshot id, dates)
};

}  // namespace ws::serve
