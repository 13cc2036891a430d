// WarehouseAnalyticsStore: the AnalyticsStore the HTTP server reads gold,
// DQ and ops tables through, backed by a warehouse.
//
// Contract: reads the current snapshot of each table and caches the rows per
// (table, date, snapshot id), so serving follows new commits without
// re-reading unchanged data. The cache is bounded (cleared past 256 entries).
// Thread-safe.
#pragma once

#include <map>
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
  explicit WarehouseAnalyticsStore(warehouse::Warehouse* warehouse) : warehouse_(warehouse) {}
  Result<format::RecordBatch> ReadTable(const std::string& qualified_table,
                                const std::optional<std::string>& partition_date) override;
  Result<std::vector<std::string>> Dates(const std::string& qualified_table) override;

 private:
  warehouse::Warehouse* warehouse_;
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, format::RecordBatch>> cache_;  // key -> (snapshot id, rows)
};

}  // namespace ws::serve
