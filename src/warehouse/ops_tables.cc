#include "wikistream/warehouse/ops_tables.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::warehouse {

using format::RecordBatch;
using format::SchemaPtr;
using model::Alert;
using model::StageAttempt;
using table::PartitionValues;

Status RecordQuality(Warehouse* warehouse, const RecordBatch& results, const RecordBatch& profiles) {
  const std::pair<const char*, const RecordBatch*> parts[] = {{"dq_audit.quality_results", &results},
                                                              {"dq_audit.profile_metrics", &profiles}};
  for (const auto& [name, rows] : parts) WS_RETURN_IF_ERROR(warehouse->AppendRows(name, *rows));
  return Status::OK();
}

Status RecordRuns(Warehouse* warehouse, const std::vector<StageAttempt>& attempts) {
  if (attempts.empty()) return Status::OK();
  const TableDef& def = PipelineRunsTable();
  RecordBatch rows(def.schema);
  for (const StageAttempt& a : attempts) {
    rows.column("run_id").AppendString(a.run_id);
    rows.column("cycle_id").AppendString(a.cycle_id);
    rows.column("stage").AppendString(Name(a.stage));
    rows.column("attempt").AppendInt32(a.attempt);
    rows.column("status").AppendString(Name(a.status));
    rows.column("started_at").AppendInt64(a.started_at_us);
    rows.column("finished_at").AppendInt64(a.finished_at_us);
    auto opt = [&](const char* col, const std::string& v) {
      if (v.empty()) {
        rows.column(col).AppendNull();
      } else {
        rows.column(col).AppendString(v);
      }
    };
    opt("input_snapshot", a.result.input_snapshot);
    opt("output_snapshot", a.result.output_snapshot);
    rows.column("rows_in").AppendInt64(a.result.rows_in);
    rows.column("rows_out").AppendInt64(a.result.rows_out);
    opt("error", a.result.ErrorText());
    rows.column("run_date").AppendString(FormatDate(a.started_at_us));
  }
  return warehouse->AppendRows(def.full_name(), rows);
}

Status AppendAlerts(Warehouse* warehouse, const std::vector<Alert>& alerts) {
  if (alerts.empty()) return Status::OK();
  auto date_of = [](const Alert& a) { return a.alert_date.empty() ? FormatDate(a.raised_at_us) : a.alert_date; };
  std::string oldest = date_of(alerts.front());
  for (const Alert& a : alerts) oldest = std::min(oldest, date_of(a));
  // Whoever raised them (a batch cycle, the live path, the ingest
  // supervisor, another process), the rows' identities are checked against
  // the table here too. If it cannot be read, recording every alert beats
  // losing one.
  std::unordered_set<std::string> recorded;
  if (auto keys = RaisedAlertKeys(warehouse, oldest); keys.ok()) {
    recorded.insert(keys->begin(), keys->end());
  } else {
    log::Warn("alerts", "could not read ops.alerts (an alert may be recorded twice): {}", keys.status().ToString());
  }
  const TableDef& def = AlertsTable();
  RecordBatch rows(def.schema);
  for (const Alert& a : alerts) {
    if (!recorded.insert(model::AlertKey(a.kind, a.entity, date_of(a))).second) continue;
    rows.column("alert_id").AppendString(a.alert_id);
    rows.column("raised_at").AppendInt64(a.raised_at_us);
    rows.column("alert_date").AppendString(date_of(a));
    rows.column("kind").AppendString(Name(a.kind));
    rows.column("severity").AppendString(Name(a.severity));
    rows.column("subject").AppendString(a.subject);
    rows.column("entity").AppendString(a.entity);
    rows.column("details").AppendString(a.details.empty() ? "{}" : a.details);
    rows.column("delivered").AppendBool(a.delivered);
    if (a.delivery_error.empty()) {
      rows.column("delivery_error").AppendNull();
    } else {
      rows.column("delivery_error").AppendString(a.delivery_error);
    }
  }
  return warehouse->AppendRows(def.full_name(), rows);
}

Result<std::vector<int64_t>> RecentStageRowsOut(Warehouse* warehouse, model::StageName stage, size_t n) {
  const TableDef& def = PipelineRunsTable();
  WS_ASSIGN_OR_RETURN(auto table, warehouse->table(def.full_name()));
  WS_RETURN_IF_ERROR(table->Refresh());
  WS_ASSIGN_OR_RETURN(std::vector<table::DataFile> files, table->Scan());
  std::map<std::string, std::vector<table::DataFile>, std::greater<>> by_date;  // newest run_date first
  for (table::DataFile& f : files) by_date[f.partition.empty() ? "" : f.partition[0]].push_back(std::move(f));
  SchemaPtr cols = ProjectSchema(*def.schema, {"stage", "status", "rows_out", "started_at"});
  std::vector<std::pair<int64_t, int64_t>> runs;  // (started_at, rows_out)
  for (const auto& [date, date_files] : by_date) {
    if (runs.size() >= n) break;
    WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse->ReadDataFiles(date_files, cols));
    for (size_t i = 0; i < rows.num_rows(); ++i) {
      if (rows.column(0).GetString(i) != Name(stage) ||
          rows.column(1).GetString(i) != Name(model::StageStatus::kSucceeded)) {
        continue;
      }
      runs.emplace_back(rows.column(3).GetInt64(i), rows.column(2).GetInt64(i));
    }
  }
  std::sort(runs.begin(), runs.end());
  std::vector<int64_t> out;
  for (size_t i = runs.size() > n ? runs.size() - n : 0; i < runs.size(); ++i) out.push_back(runs[i].second);
  return out;
}

Result<std::vector<std::string>> RaisedAlertKeys(Warehouse* warehouse, const std::string& since_date) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse->table(AlertsTable().full_name()));
  WS_RETURN_IF_ERROR(table->Refresh());  // what other processes recorded since this one opened it
  SchemaPtr cols = ProjectSchema(*AlertsTable().schema, {"kind", "entity", "alert_date"});
  WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse->ReadTable(*table, cols, [since_date](const PartitionValues& p) {
                        return !p.empty() && p[0] >= since_date;
                      }));
  std::vector<std::string> keys;
  const format::Column& kind = rows.column(0);
  const format::Column& entity = rows.column(1);
  const format::Column& date = rows.column(2);
  for (size_t i = 0; i < rows.num_rows(); ++i) {
    std::optional<model::AlertKind> k = model::ParseAlertKind(kind.GetString(i));
    if (!k) continue;  // a kind this version does not raise cannot be raised again
    keys.push_back(model::AlertKey(*k, entity.IsNull(i) ? std::string_view() : entity.GetString(i), date.GetString(i)));
  }
  return keys;
}

}  // namespace ws::warehouse
