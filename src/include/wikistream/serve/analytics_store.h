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
// SnapshotId(t) changes whenever t's rows may have changed (the Iceberg
// snapshot id; 0 for a table without rows or that does not exist): the API
// derives ETags and its response cache keys from it. Scan() reads a bounded
// slice of a large table (silver: one user's or one page's events): only the
// named partitions, projected onto the named columns, filtered row by row,
// stopping after max_rows kept rows; it is not cached.
#pragma once

#include <cstdint>
#include <functional>
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
  virtual Result<int64_t> SnapshotId(const std::string& qualified_table) = 0;

  struct ScanSpec {
    std::vector<std::string> dates;    // partitions to read
    std::vector<std::string> columns;  // projection, in this order (unknown names are left out)
    // Rows of the projected batch to keep (null = all).
    std::function<bool(const format::RecordBatch& rows, size_t row)> keep;
    size_t max_rows = SIZE_MAX;  // stop once this many rows are kept
  };
  // The default reads each partition with ReadTable.
  virtual Result<format::RecordBatch> Scan(const std::string& qualified_table, const ScanSpec& spec);
};

// The rows `keep` selects from `rows`, projected onto `columns` (names
// `rows` lacks are left out), appended to *out (created on first use).
void AppendProjected(const format::RecordBatch& rows, const std::vector<std::string>& columns,
                     const std::function<bool(const format::RecordBatch&, size_t)>& keep, size_t max_rows,
                     format::RecordBatch* out);

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
  // A counter bumped by every Append/Clear (never repeated).
  Result<int64_t> SnapshotId(const std::string& qualified_table) override;

 private:
  std::mutex mu_;
  std::map<std::string, format::RecordBatch> tables_;
  std::map<std::string, int64_t> versions_;
  int64_t next_version_ = 1;
};

}  // namespace ws::serve
