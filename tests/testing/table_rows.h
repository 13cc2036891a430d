// A table's rows as sorted text, for comparing two warehouses (a reference
// run and a run under crashes, faults or another topology). Columns that
// hold wall-clock times of the run (`*_processed_at`, `ingested_at`,
// `received_at`) and the raw payload are left out, and so are `also_skip`.
// A failed read is a test failure and an empty vector. Header-only; the
// test area must link ws_warehouse.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "wikistream/warehouse/table_schemas.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::testing {

inline bool IsRunTimeColumn(const std::string& name) {
  const std::string suffix = "_processed_at";
  return (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ||
         name == "ingested_at" || name == "received_at";
}

inline std::vector<std::string> SortedTableRows(warehouse::Warehouse* wh, const std::string& table,
                                                const std::set<std::string>& also_skip = {},
                                                int64_t* row_count = nullptr) {
  auto t = wh->table(table);
  EXPECT_TRUE(t.ok()) << table << ": " << t.status().ToString();
  if (!t.ok()) return {};
  EXPECT_TRUE((*t)->Refresh().ok()) << table;
  format::SchemaPtr schema = (*t)->schema();
  std::vector<std::string> names;
  for (const auto& f : schema->fields()) {
    if (!IsRunTimeColumn(f.name) && f.name != "raw" && !also_skip.count(f.name)) names.push_back(f.name);
  }
  auto rows = wh->ReadTable(**t, warehouse::ProjectSchema(*schema, names));
  EXPECT_TRUE(rows.ok()) << table << ": " << rows.status().ToString();
  if (!rows.ok()) return {};
  std::vector<std::string> out;
  for (size_t r = 0; r < rows->num_rows(); ++r) {
    std::string line;
    for (size_t c = 0; c < rows->num_columns(); ++c) {
      line += rows->column(c).IsNull(r) ? "<null>" : rows->column(c).ValueToString(r);
      line += '|';
    }
    out.push_back(std::move(line));
  }
  if (row_count) *row_count = static_cast<int64_t>(out.size());
  std::sort(out.begin(), out.end());
  return out;
}

// bronze (events and DLQ), silver and every gold table: what the pipeline
// derives from its input (the ops and DQ tables record how it ran).
inline std::vector<std::string> PipelineTables() {
  std::vector<std::string> names = {"bronze.raw_events", "bronze.dlq_events", warehouse::SilverTable().full_name()};
  for (const auto* def : warehouse::GoldTables()) names.push_back(def->full_name());
  return names;
}

}  // namespace ws::testing
