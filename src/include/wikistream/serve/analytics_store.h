// AnalyticsStore: how the HTTP server reads the warehouse tables.
//
// Contract: tables are named "<namespace>.<table>" ("gold.hourly_stats").
// Every table the API reads is partitioned by one date column (stat_date,
// summary_date, run_date, alert_date); ReadTable(t, date) returns only that
// partition's rows, ReadTable(t, nullopt) every row. Columns are looked up
// by name (docs/tables.md), so a store may return extra columns or another
// order. A table that does not exist yet is Status::NotFound (the API then
// answers with empty results, not an error). Implementations must be
// thread-safe: the server calls them from several request threads.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/format/record_batch.h"

namespace ws::serve {

class AnalyticsStore {
 public:
  virtual ~AnalyticsStore() = default;
  virtual Result<format::RecordBatch> ReadTable(const std::string& qualified_table,
                                        const std::optional<std::string>& partition_date) = 0;
  // Distinct partition dates holding rows, ascending.
  virtual Result<std::vector<std::string>> Dates(const std::string& qualified_table) = 0;
};

// The date partition column of each table the API reads ("" if unknown).
std::string DateColumnOf(const std::string& qualified_table);

// A store over RecordBatches held in memory: fixtures for tests, and a
// stand-in when no warehouse is open. Thread-safe.
class InMemoryAnalyticsStore : public AnalyticsStore {
 public:
  // Appends rows to the table (creating it); the date column is
  // DateColumnOf(table), which the rows must carry.
  Status Append(const std::string& qualified_table, const format::RecordBatch& rows);
  void Clear(const std::string& qualified_table);

  Result<format::RecordBatch> ReadTable(const std::string& qualified_table,
                                const std::optional<std::string>& partition_date) override;
  Result<std::vector<std::string>> Dates(const std::string& qualified_table) override;

 private:
  std::mutex mu_;
  std::map<std::string, format::RecordBatch> tables_;
};

}  // namespace ws::serve
