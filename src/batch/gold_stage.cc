// BatchCycle's gold stage: the dates whose silver changed since gold's last
// commit recomputed, audited by the gold gate, published one overwrite commit
// per table, and the risk alerts of the recomputed dates raised.
#include <malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "stage_support.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/common/time.h"
#include "wikistream/transform/dq.h"
#include "wikistream/warehouse/ops_tables.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::batch {

using format::Column;
using format::RecordBatch;
using format::SchemaPtr;
using model::Alert;
using model::AlertKind;
using model::AlertSeverity;
using model::StageResult;
using table::CommitOperation;
using table::CommitRequest;
using table::DataFile;
using table::PartitionValues;
using table::ScanOptions;
using table::SnapshotInfo;
using table::Table;
using warehouse::ProjectSchema;
using warehouse::Warehouse;

namespace {

// The silver columns gold reads (gold.h): a date's rows in memory stay small.
SchemaPtr SilverProjectionForGold() {
  static const SchemaPtr p = ProjectSchema(
      *warehouse::SilverTable().schema,
      {"event_type", "domain", "region", "title", "user_normalized", "user_type", "is_bot", "is_anonymous",
       "length_delta", "is_large_deletion", "is_large_addition", "event_timestamp", "event_date", "event_hour"});
  return p;
}

}  // namespace

Result<GoldFromSilver> ComputeGoldFromSilver(Warehouse* warehouse, Table& silver_t, const std::vector<std::string>& dates,
                                             int64_t now, int threads) {
  std::vector<std::string> needed = transform::SilverDatesNeededFor(dates);
  ScanOptions scan;
  scan.partition_filter = DateIn(std::set<std::string>(needed.begin(), needed.end()));
  WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, silver_t.Scan(scan));
  int64_t rows = 0;
  for (const DataFile& f : files) rows += f.stats.record_count;
  threads = std::max(1, threads);
  transform::GoldAccumulator accumulator(dates, now, transform::GoldPassesFor(rows, threads));

  GoldFromSilver out;
  for (const auto& d : dates) out.silver_rows_per_date[d] = 0;
  std::atomic<int> next_pass{0};
  std::atomic<bool> failed{false};
  std::vector<Status> errors(threads);
  auto worker = [&](int w) {
    for (int pass = next_pass++; pass < accumulator.passes() && !failed; pass = next_pass++) {
      for (const DataFile& file : files) {
        auto part = warehouse->ReadDataFiles({file}, SilverProjectionForGold());
        if (!part.ok()) {
          errors[w] = part.status();
          failed = true;
          return;
        }
        accumulator.Add(*part, pass);
        if (pass != 0) continue;
        out.silver_rows_read += static_cast<int64_t>(part->num_rows());
        for (const auto& [date, n] : transform::CountRowsPerDate(*part, "event_date")) {
          auto it = out.silver_rows_per_date.find(date);
          if (it != out.silver_rows_per_date.end()) it->second += n;
        }
      }
      accumulator.EndPass(pass);
      malloc_trim(0);  // the pass's tables are freed: hand them back before the next one grows
    }
  };
  std::vector<std::thread> helpers;
  for (int w = 1; w < std::min(threads, accumulator.passes()); ++w) helpers.emplace_back(worker, w);
  worker(0);
  for (auto& t : helpers) t.join();
  for (const Status& e : errors) {
    if (!e.ok()) return e;
  }
  out.gold = accumulator.Finish();
  return out;
}

void BatchCycle::RaiseRiskAlerts(const RecordBatch& risk) {
  if (risk.num_rows() == 0) return;
  const Column& triggered = risk.column("alert_triggered");
  const Column& entity = risk.column("entity_id");
  const Column& date = risk.column("stat_date");
  const Column& score = risk.column("risk_score");
  const Column& evidence = risk.column("evidence");
  // The dates recomputed here may be older than the keys the process
  // loaded at start (a replay's, or yesterday's late events), and another
  // process may have recorded alerts since: ops.alerts, read under the
  // batch lock, says which of those dates' alerts were already raised.
  std::string oldest;
  for (size_t r = 0; r < risk.num_rows(); ++r) {
    if (triggered.GetBool(r) && (oldest.empty() || date.GetString(r) < oldest)) oldest = date.GetString(r);
  }
  // Gold is committed: a read failure must not fail the stage (its retry
  // would find nothing to recompute and raise nothing); it is logged.
  if (!oldest.empty()) LoadRaisedAlertsSince(oldest);
  for (size_t r = 0; r < risk.num_rows(); ++r) {
    if (!triggered.GetBool(r)) continue;
    Alert a;
    a.kind = AlertKind::kRisk;
    a.severity = AlertSeverity::kHigh;
    a.entity = std::string(entity.GetString(r));
    a.alert_date = std::string(date.GetString(r));
    a.subject = fmt::format("HIGH risk user {} on {} (score {})", a.entity, a.alert_date, score.GetInt32(r));
    a.details = std::string(evidence.GetString(r));
    Raise(std::move(a));
  }
}

StageResult BatchCycle::RunGold(const Deadline& deadline, CycleReport* report) {
  StageResult result;
  auto silver_r = RefreshedTable(warehouse_, "silver.cleaned_events");
  if (!silver_r.ok()) return Failed(result, silver_r.status());
  Table& silver_t = **silver_r;
  auto silver_snap = silver_t.current_snapshot();
  result.input_snapshot = silver_snap ? std::to_string(silver_snap->snapshot_id) : "";
  if (!silver_snap) return Skipped(result);

  // The oldest silver snapshot any gold table has caught up to.
  // Snapshot ids are random, so "oldest" is by silver's sequence number; a
  // snapshot silver no longer lists (expired) counts as "never" (full scan).
  std::vector<std::shared_ptr<Table>> gold_tables;
  std::optional<int64_t> oldest;
  int64_t oldest_sequence = 0;
  bool any_never = false;
  for (const warehouse::TableDef* def : warehouse::GoldTables()) {
    auto t = RefreshedTable(warehouse_, def->full_name());
    if (!t.ok()) return Failed(result, t.status());
    auto done = ParseSnapshotId(SummaryOfLatest(**t, kSilverSnapshotKey));
    auto done_snap = done ? silver_t.snapshot(*done) : Result<SnapshotInfo>(Status::NotFound("none"));
    if (!done_snap.ok()) {
      any_never = true;
    } else if (!oldest || done_snap->sequence_number < oldest_sequence) {
      oldest = done;
      oldest_sequence = done_snap->sequence_number;
    }
    gold_tables.push_back(*t);
  }
  std::optional<int64_t> from = any_never ? std::nullopt : oldest;
  if (from && *from == silver_snap->snapshot_id) return Skipped(result);
  auto added = silver_t.FilesAddedBetween(from, silver_snap->snapshot_id);
  if (!added.ok() && added.status().IsNotFound()) added = silver_t.Scan();
  if (!added.ok()) return Failed(result, added.status());
  std::set<std::string> touched;
  for (const DataFile& f : *added) {
    if (!f.partition.empty()) touched.insert(f.partition[0]);
  }
  if (touched.empty()) return Skipped(result);
  std::vector<std::string> dates = transform::GoldDatesToRecompute(touched);
  report->gold_dates = dates;
  const int64_t now = NowMicros();
  auto computed = ComputeGoldFromSilver(warehouse_, silver_t, dates, now, options_.threads);
  if (!computed.ok()) return Failed(result, computed.status());
  result.rows_in = computed->silver_rows_read;
  transform::GoldResult& gold = computed->gold;
  const std::map<std::string, int64_t>& silver_per_date = computed->silver_rows_per_date;

  int64_t dq0 = MonotonicMicros();
  transform::GoldGateContext ctx;
  ctx.run_id = report->cycle_id;
  ctx.run_time_us = now;
  transform::GateOutcome gate = transform::RunGoldGate(gold, silver_per_date, ctx);
  report->dq_us += MonotonicMicros() - dq0;
  if (Status s = deadline.Check("gold"); !s.ok()) return Failed(result, s);
  if (Status s = warehouse::RecordQuality(warehouse_, gate.quality_results, gate.profile_metrics); !s.ok()) {
    return Failed(result, s);
  }
  if (!gate.passed) {
    report->gold_gate_failed = true;
    RaiseGateAlert("gold", "nothing published", now, gate.failed_checks,
                   {{"silver_snapshot", result.input_snapshot}, {"dates", dates}});
    result.FailGate("gold", gate.failed_checks);
    return result;
  }

  // Publish: one overwrite commit per table replacing the recomputed dates.
  const RecordBatch* outputs[] = {&gold.hourly_stats, &gold.risk_scores, &gold.daily_summary, &gold.trending_pages,
                                  &gold.top_contributors};
  std::vector<PartitionValues> partitions;
  for (const auto& d : dates) partitions.push_back({d});
  int64_t rows_out = 0;
  for (size_t i = 0; i < gold_tables.size(); ++i) {
    if (Status s = deadline.Check("gold"); !s.ok()) return Failed(result, s);
    Table& t = *gold_tables[i];
    auto files = warehouse_->WriteDataFiles(t, *outputs[i]);
    if (!files.ok()) return Failed(result, files.status());
    const std::string where = "gold commit of " + t.ns() + "." + t.name();
    if (Status held = StillHeld(model::StageName::kGold, where, report); !held.ok()) {
      for (const DataFile& f : *files) warehouse_->fs()->RemoveLeftover(f.path);
      return Failed(result, held);
    }
    CommitRequest req;
    req.operation = CommitOperation::kOverwrite;
    req.added_files = std::move(*files);
    req.overwrite_partitions = partitions;
    req.summary[kSilverSnapshotKey] = std::to_string(silver_snap->snapshot_id);
    auto committed = t.Commit(req);
    if (!committed.ok()) return Failed(result, committed.status());
    rows_out += static_cast<int64_t>(outputs[i]->num_rows());
    if (i == 0) result.output_snapshot = std::to_string(committed->snapshot_id);
  }
  result.rows_out = rows_out;

  RaiseRiskAlerts(gold.risk_scores);
  return result;
}

}  // namespace ws::batch
