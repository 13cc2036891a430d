#include "wikistream/serve/analytics_store.h"

#include <algorithm>
#include <set>

namespace ws::serve {

using format::Column;
using format::Field;
using format::RecordBatch;
using format::Schema;

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
    versions_[table] = next_version_++;
    return Status::OK();
  }
  if (!it->second.schema()->Equals(*rows.schema())) {
    return Status::InvalidArgument(table + ": schema differs from the rows already held");
  }
  it->second.Append(rows);
  versions_[table] = next_version_++;
  return Status::OK();
}

void InMemoryAnalyticsStore::Clear(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_.erase(table);
  versions_[table] = next_version_++;
}

Result<int64_t> InMemoryAnalyticsStore::SnapshotId(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find(table);
  return it == versions_.end() ? 0 : it->second;
}

void AppendProjected(const RecordBatch& rows, const std::vector<std::string>& columns,
                     const std::function<bool(const RecordBatch&, size_t)>& keep, size_t max_rows,
                     RecordBatch* out) {
  if (!rows.schema()) return;
  std::vector<int> index;
  if (!out->schema()) {
    std::vector<Field> fields;
    for (const auto& name : columns) {
      int i = rows.schema()->FieldIndex(name);
      if (i >= 0) fields.push_back(rows.schema()->field(static_cast<size_t>(i)));
    }
    *out = RecordBatch(std::make_shared<Schema>(rows.schema()->schema_id(), std::move(fields)));
  }
  for (const Field& f : out->schema()->fields()) index.push_back(rows.schema()->FieldIndex(f.name));
  for (size_t r = 0; r < rows.num_rows() && out->num_rows() < max_rows; ++r) {
    if (keep && !keep(rows, r)) continue;
    for (size_t c = 0; c < index.size(); ++c) {
      if (index[c] < 0) {
        out->column(c).AppendNull();
      } else {
        out->column(c).AppendFrom(rows.column(static_cast<size_t>(index[c])), r);
      }
    }
  }
}

Result<RecordBatch> AnalyticsStore::Scan(const std::string& table, const ScanSpec& spec) {
  RecordBatch out;
  for (const auto& date : spec.dates) {
    auto part = ReadTable(table, date);
    if (!part.ok()) {
      if (part.status().IsNotFound()) break;
      return part.status();
    }
    AppendProjected(*part, spec.columns, spec.keep, spec.max_rows, &out);
    if (out.num_rows() >= spec.max_rows) break;
  }
  return out;
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
