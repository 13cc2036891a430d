#include "wikistream/batch/batch_cycle.h"

#include <malloc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "stage_support.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"
#include "wikistream/transform/dq.h"
#include "wikistream/warehouse/ops_tables.h"

namespace ws::batch {

using alerts::AlertSink;
using model::Alert;
using model::AlertKind;
using model::AlertSeverity;
using model::StageName;
using model::StageOutcome;
using model::StageResult;
using model::StageStatus;
using table::PartitionValues;
using table::Table;
using warehouse::Warehouse;

std::optional<int64_t> ParseSnapshotId(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<std::string> SummaryOfLatest(const Table& t, const std::string& key) {
  auto snap = t.LatestSnapshotWithSummary(key);
  if (!snap) return std::nullopt;
  return snap->summary.at(key);
}

std::function<bool(const PartitionValues&)> DateIn(const std::set<std::string>& dates) {
  return [dates](const PartitionValues& p) { return !p.empty() && dates.count(p[0]) > 0; };
}

Result<std::shared_ptr<Table>> RefreshedTable(Warehouse* warehouse, const std::string& name) {
  WS_ASSIGN_OR_RETURN(std::shared_ptr<Table> t, warehouse->table(name));
  WS_RETURN_IF_ERROR(t->Refresh());
  return t;
}

StageResult Failed(StageResult& result, Status why) {
  result.Fail(std::move(why));
  return result;
}

StageResult Skipped(StageResult& result) {
  result.outcome = StageOutcome::kSkipped;
  return result;
}

std::string CycleReport::Summary() const {
  std::string stages;
  for (const auto& a : attempts) {
    if (a.status == StageStatus::kRetrying) continue;
    if (!stages.empty()) stages += ", ";
    stages += fmt::format("{}={}", Name(a.stage), Name(a.status));
  }
  return fmt::format("cycle {} {}: {}; silver +{} rows; gold dates [{}]{}", cycle_id.substr(0, 8),
                     ok ? "ok" : "FAILED", stages, silver_rows_added, fmt::join(gold_dates, ","),
                     stopped.empty() ? "" : "; stopped " + stopped);
}

BatchCycle::BatchCycle(Warehouse* warehouse, AlertSink* alerts, BatchOptions options, const std::atomic<bool>* stop)
    : warehouse_(warehouse), alerts_(alerts), options_(options), stop_(stop) {}

Result<std::vector<int64_t>> BatchCycle::RecentSilverVolumes() {
  if (!silver_volumes_) {
    WS_ASSIGN_OR_RETURN(std::vector<int64_t> persisted,
                        warehouse::RecentStageRowsOut(warehouse_, StageName::kSilver, transform::kVolumeRunsNeeded));
    silver_volumes_.emplace(persisted.begin(), persisted.end());
  }
  return std::vector<int64_t>(silver_volumes_->begin(), silver_volumes_->end());
}

CycleReport BatchCycle::Run(std::optional<StageName> only, const std::function<Status()>& still_held) {
  CycleReport report;
  report.cycle_id = NewUuid();
  raised_loaded_since_.reset();  // what ops.alerts holds is read again under this cycle's lock
  StageRunner runner(options_.stage_attempts, options_.stage_timeout_s, stop_, options_.backoff_base_ms);

  auto on_failure = [&](StageName stage, const StageResult& r) {
    report.ok = false;
    if (r.outcome == StageOutcome::kGateFailed) return;  // the gate raised its own alert
    // A stage cut short by SIGTERM/SIGINT is an orderly stop, not a failure
    // worth paging for; the next start runs the cycle again.
    if (r.error.code() == Status::Code::kCancelled && stop_ && stop_->load()) return;
    const std::string name(Name(stage));
    Alert a;
    a.kind = AlertKind::kPipeline;
    a.severity = AlertSeverity::kCritical;
    a.entity = name;
    a.alert_date = FormatDate(NowMicros());
    a.subject = fmt::format("batch stage {} failed: {}", name, r.ErrorText());
    a.details = nlohmann::json{{"cycle_id", report.cycle_id}, {"stage", name}, {"error", r.ErrorText()}}.dump();
    Raise(std::move(a));
  };
  still_held_ = still_held ? &still_held : nullptr;
  auto run_stage = [&](StageName stage, model::StageResult (BatchCycle::*fn)(const Deadline&, CycleReport*)) {
    if (!report.stopped.empty() || !StillHeld(stage, std::string(Name(stage)), &report).ok()) {
      StageResult not_run;  // failed (so no later stage follows), not recorded as an attempt
      not_run.Fail(Status::Unavailable("cycle stopped " + report.stopped));
      return not_run;
    }
    // A stage that stopped the cycle (its lock lost before a commit) is not retried.
    StageResult r = runner.Run(report.cycle_id, stage, [&](const Deadline& d) { return (this->*fn)(d, &report); },
                               &report.attempts, [&] { return !report.stopped.empty(); });
    if (!r.ok() && report.stopped.empty()) on_failure(stage, r);
    return r;
  };

  // Each stage starts from what the previous one (or ingest, in this
  // process) freed: hand it back, or every thread's arena keeps its share.
  malloc_trim(0);
  bool silver_ok = true;
  if (!only || only == StageName::kSilver) {
    int64_t t0 = MonotonicMicros();
    StageResult r = run_stage(StageName::kSilver, &BatchCycle::RunSilver);
    report.silver_us = MonotonicMicros() - t0;
    silver_ok = r.ok();
    // The volume history follows what ops.pipeline_runs will hold.
    if (r.outcome == StageOutcome::kDone && silver_volumes_) {
      silver_volumes_->push_back(r.rows_out);
      while (silver_volumes_->size() > static_cast<size_t>(transform::kVolumeRunsNeeded)) silver_volumes_->pop_front();
    }
  }
  if ((!only && silver_ok) || only == StageName::kGold) {
    malloc_trim(0);
    int64_t t0 = MonotonicMicros();
    run_stage(StageName::kGold, &BatchCycle::RunGold);
    report.gold_us = MonotonicMicros() - t0;
  }
  if (only == StageName::kDq) run_stage(StageName::kDq, &BatchCycle::RunAudit);

  int64_t t0 = MonotonicMicros();
  Status s = warehouse::RecordRuns(warehouse_, report.attempts);
  if (!s.ok()) log::Warn("batch", "could not record pipeline runs: {}", s.ToString());
  s = RecordAlerts();
  if (!s.ok()) log::Warn("batch", "could not record alerts: {}", s.ToString());
  report.record_us = MonotonicMicros() - t0;
  malloc_trim(0);  // a cycle's working set is transient: give it back
  still_held_ = nullptr;
  return report;
}

// A cycle whose lock may be gone must not commit anything more: another
// process may have taken the lock and be running its own cycle.
Status BatchCycle::StillHeld(StageName stage, const std::string& where, CycleReport* report) {
  Status held = still_held_ ? (*still_held_)() : Status::OK();
  if (held.ok()) return held;
  report->ok = false;
  report->stopped = fmt::format("before {}: {}", where, held.message());
  log::Error("batch", "cycle {} stopped {}", report->cycle_id, report->stopped);
  Alert a;
  a.kind = AlertKind::kPipeline;
  a.severity = AlertSeverity::kCritical;
  a.entity = std::string(Name(stage));
  a.alert_date = FormatDate(NowMicros());
  a.subject = fmt::format("batch cycle stopped {}", report->stopped);
  a.details = nlohmann::json{{"cycle_id", report->cycle_id}, {"stage", Name(stage)}, {"error", held.message()}}.dump();
  alerts_->Raise(std::move(a));
  return Status::Unavailable("batch cycle stopped " + report->stopped);
}

void BatchCycle::RaiseGateAlert(const std::string& layer, const std::string& consequence, int64_t now,
                                const std::vector<std::string>& failed_checks, nlohmann::json details) {
  details["layer"] = layer;
  details["failed_checks"] = failed_checks;
  Alert a;
  a.kind = AlertKind::kDq;
  a.severity = AlertSeverity::kCritical;
  a.entity = layer;
  a.alert_date = FormatDate(now);
  a.subject = fmt::format("{} quality gate failed ({}); {}", layer, fmt::join(failed_checks, ", "), consequence);
  a.details = details.dump();
  Raise(std::move(a));
}
void BatchCycle::LoadRaisedAlertsSince(const std::string& date) {
  if (raised_loaded_since_ && *raised_loaded_since_ <= date) return;
  if (Status s = LoadRaisedAlertKeys(warehouse_, alerts_, date); !s.ok()) {
    log::Warn("batch", "could not read ops.alerts (an alert already raised may be raised again): {}", s.ToString());
    return;
  }
  raised_loaded_since_ = date;
}

void BatchCycle::Raise(Alert alert) {
  if (alert.alert_date.empty()) alert.alert_date = FormatDate(NowMicros());
  LoadRaisedAlertsSince(alert.alert_date);
  alerts_->Raise(std::move(alert));
}

Status BatchCycle::RecordAlerts() {
  std::vector<Alert> pending = alerts_->TakePending();
  if (pending.empty()) return Status::OK();
  WS_RETURN_IF_ERROR(warehouse::AppendAlerts(warehouse_, pending));
  return Status::OK();
}

Status LoadRaisedAlertKeys(Warehouse* warehouse, AlertSink* alerts, const std::string& since_date) {
  WS_ASSIGN_OR_RETURN(std::vector<std::string> keys, warehouse::RaisedAlertKeys(warehouse, since_date));
  for (const std::string& key : keys) alerts->MarkRaised(key);
  return Status::OK();
}

}  // namespace ws::batch
