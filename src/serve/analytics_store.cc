#include "wikistream/serve/analytics_store.h"

#include <algorithm>
#include <set>

namespace ws::serve {

using format::Column;
using format::RecordBatch;

std::string DateColumnOf(const std::string& table) {
  static const std::pair<const char*, const char*> kColumns[] = {
      {"gold.hourly_stats", "stat_date"},
      {"gold.risk_scores", "stat_date"},
      {"gold.trending_pages", "stat_date"},
      {"gold.top_contributors", "stat_date"},
      {"gold.daily_analytics_summary", "summary_date"},
      {"dq_audit.quality_results", "run_date"},
      {"dq_audit.profile_metrics", "run_date"},
      {"ops.pipeline_runs", "run_date"},
      {"ops.alerts", "alert_date"},
      {"silver.cleaned_events", "event_date"},
      {"bronze.raw_events", "event_date"},
      {"bronze.dlq_events", "received_date"},
  };
  for (const auto& [t, c] : kColumns) {
    if (table == t) return c;
  }
  return "";
}

Status InMemoryAnalyticsStore::Append(const std::string& table, const RecordBatch& rows) {
  const std::string date_col = DateColumnOf(table);
  if (date_col.empty()) return Status::InvalidArgument("unknown table " + table);
  if (!rows.schema() || rows.schema()->FieldIndex(date_col) < 0) {
    return Status::InvalidArgument(table + " rows lack column " + date_col);
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) {
    tables_.emplace(table, rows);
    return Status::OK();
  }
  if (!it->second.schema()->Equals(*rows.schema())) {
    return Status::InvalidArgument(table + ": schema differs from the rows already held");
  }
  it->second.Append(rows);
  return Status::OK();
}

void InMemoryAnalyticsStore::Clear(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_.erase(table);
}

Result<RecordBatch> InMemoryAnalyticsStore::ReadTable(const std::string& table,
                                                      const std::optional<std::string>& date) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::NotFound("no table " + table);
  if (!date) return it->second;
  const RecordBatch& all = it->second;
  const Column& col = all.column(DateColumnOf(table));
  std::vector<uint32_t> keep;
  for (size_t r = 0; r < all.num_rows(); ++r) {
    if (col.IsValid(r) && col.GetString(r) == *date) keep.push_back(static_cast<uint32_t>(r));
  }
  return all.Take(keep);
}

Result<std::vector<std::string>> InMemoryAnalyticsStore::Dates(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::NotFound("no table " + table);
  const Column& col = it->second.column(DateColumnOf(table));
  std::set<std::string> dates;
  for (size_t r = 0; r < col.size(); ++r) {
    if (col.IsValid(r)) dates.emplace(col.GetString(r));
  }
  return std::vector<std::string>(dates.begin(), dates.end());
}

}  // namespace ws::serve
