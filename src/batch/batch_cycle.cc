#include "wikistream/batch/batch_cycle.h"

#include <malloc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_set>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"
#include "wikistream/transform/dq.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/ops_tables.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::batch {

namespace bronze = warehouse::bronze;
using alerts::AlertSink;
using format::Column;
using format::ColumnFileStats;
using format::RecordBatch;
using format::Schema;
using format::SchemaPtr;
using model::Alert;
using model::AlertKind;
using model::AlertSeverity;
using model::StageName;
using model::StageOutcome;
using model::StageResult;
using model::StageStatus;
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

constexpr const char* kBronzeSnapshotKey = "wikistream.bronze-snapshot";
constexpr const char* kSilverSnapshotKey = "wikistream.silver-snapshot";

// The bronze columns silver and its gate need (not the raw payload): reading
// them is most of silver's I/O.
SchemaPtr BronzeProjectionForSilver() {
  static const SchemaPtr p = ProjectSchema(
      *bronze::RawEventsSchema(),
      {"event_id", "rc_id", "event_type", "namespace", "domain", "wiki", "title", "user", "is_bot", "is_minor",
       "length_old", "length_new", "length_delta", "revision_old", "revision_new", "event_timestamp", "ingested_at",
       "bronze_processed_at", "event_date", "event_hour", "source"});
  return p;
}

// The silver columns gold reads (gold.h): a date's rows in memory stay small.
SchemaPtr SilverProjectionForGold() {
  static const SchemaPtr p = ProjectSchema(
      *warehouse::SilverTable().schema,
      {"event_type", "domain", "region", "title", "user_normalized", "user_type", "is_bot", "is_anonymous",
       "length_delta", "is_large_deletion", "is_large_addition", "event_timestamp", "event_date", "event_hour"});
  return p;
}

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

struct GoldFromSilver {
  transform::GoldResult gold;
  std::map<std::string, int64_t> silver_rows_per_date;  // of each gold date (zero if none)
  int64_t silver_rows_read = 0;
};

// Gold for `dates` from the silver partitions they need, fed one data file
// at a time so that a day of silver is never in memory at once, in as many
// passes as keep gold's aggregates bounded (GoldPassesFor). The passes run
// on up to `threads` threads, each reading the files for itself.
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

}  // namespace

std::string CycleReport::Summary() const {
  std::string stages;
  for (const auto& a : attempts) {
    if (a.status == StageStatus::kRetrying) continue;
    if (!stages.empty()) stages += ", ";
    stages += fmt::format("{}={}", Name(a.stage), Name(a.status));
  }
  return fmt::format("cycle {} {}: {}; silver +{} rows; gold dates [{}]", cycle_id.substr(0, 8),
                     ok ? "ok" : "FAILED", stages, silver_rows_added, fmt::join(gold_dates, ","));
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

CycleReport BatchCycle::Run(std::optional<StageName> only) {
  CycleReport report;
  report.cycle_id = NewUuid();
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
    alerts_->Raise(std::move(a));
  };
  auto run_stage = [&](StageName stage, model::StageResult (BatchCycle::*fn)(const Deadline&, CycleReport*)) {
    StageResult r = runner.Run(report.cycle_id, stage, [&](const Deadline& d) { return (this->*fn)(d, &report); },
                               &report.attempts);
    if (!r.ok()) on_failure(stage, r);
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
  return report;
}

StageResult BatchCycle::RunSilver(const Deadline& deadline, CycleReport* report) {
  StageResult result;
  auto fail = [&](Status s) {
    result.Fail(std::move(s));
    return result;
  };
  auto bronze_r = warehouse_->table("bronze.raw_events");
  auto silver_r = warehouse_->table("silver.cleaned_events");
  if (!bronze_r.ok()) return fail(bronze_r.status());
  if (!silver_r.ok()) return fail(silver_r.status());
  Table& bronze_t = **bronze_r;
  Table& silver_t = **silver_r;
  if (Status s = bronze_t.Refresh(); !s.ok()) return fail(s);
  if (Status s = silver_t.Refresh(); !s.ok()) return fail(s);

  auto current = bronze_t.current_snapshot();
  std::optional<int64_t> done = ParseSnapshotId(SummaryOfLatest(silver_t, kBronzeSnapshotKey));
  result.input_snapshot = current ? std::to_string(current->snapshot_id) : "";
  if (!current || (done && *done == current->snapshot_id)) {
    result.outcome = StageOutcome::kSkipped;
    return result;
  }
  // Walk the bronze snapshots after `done`, oldest first, and cut them into
  // chunks of about kSilverChunkRows: each chunk is audited and published on
  // its own, which bounds memory whatever the backlog (a 10M-event replay).
  std::vector<std::pair<int64_t, int64_t>> chain;  // (snapshot id, added records)
  bool reached_done = !done.has_value();
  for (std::optional<int64_t> id = current->snapshot_id; id;) {
    auto snap = bronze_t.snapshot(*id);
    if (!snap.ok()) break;
    auto added = snap->summary.find("added-records");
    chain.emplace_back(*id, added == snap->summary.end() ? 0 : std::strtoll(added->second.c_str(), nullptr, 10));
    if (done && snap->parent_id == done) {
      reached_done = true;
      break;
    }
    id = snap->parent_id;
  }
  std::reverse(chain.begin(), chain.end());
  std::vector<std::pair<std::optional<int64_t>, int64_t>> chunks;  // (from exclusive, to)
  if (!reached_done) {
    // The processed snapshot was expired: reprocess every bronze file in one
    // pass; dropping ids already in silver keeps the result identical.
    log::Warn("silver", "bronze snapshot {} is no longer in the history; reprocessing all bronze", done.value_or(-1));
    chunks.emplace_back(std::nullopt, current->snapshot_id);
  } else {
    std::optional<int64_t> from = done;
    int64_t rows = 0;
    for (size_t i = 0; i < chain.size(); ++i) {
      rows += chain[i].second;
      if (rows >= kSilverChunkRows || i + 1 == chain.size()) {
        chunks.emplace_back(from, chain[i].first);
        from = chain[i].first;
        rows = 0;
      }
    }
  }
  auto read_chunk = [&, reached_done](size_t i) -> Result<RecordBatch> {
    const auto& [from, to] = chunks[i];
    WS_ASSIGN_OR_RETURN(std::vector<DataFile> files,
                        reached_done ? bronze_t.FilesAddedBetween(from, to) : bronze_t.Scan());
    return warehouse_->ReadDataFiles(files, BronzeProjectionForSilver());
  };
  // With a second thread the next chunk's bronze rows are read while this
  // one is built, audited and published (one more chunk in memory).
  const bool prefetch = options_.threads > 1;
  std::future<Result<RecordBatch>> next;
  if (prefetch && !chunks.empty()) next = std::async(std::launch::async, read_chunk, 0);
  SilverIds ids;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto& [from, to] = chunks[i];
    Result<RecordBatch> bronze_rows = prefetch ? next.get() : read_chunk(i);
    if (prefetch && i + 1 < chunks.size()) next = std::async(std::launch::async, read_chunk, i + 1);
    if (!bronze_rows.ok()) return fail(bronze_rows.status());
    StageResult chunk = RunSilverChunk(silver_t, from, to, *bronze_rows, deadline, report, &ids);
    result.rows_in += chunk.rows_in;
    result.rows_out += chunk.rows_out;
    if (!chunk.output_snapshot.empty()) result.output_snapshot = chunk.output_snapshot;
    if (!chunk.ok()) {
      result.outcome = chunk.outcome;
      result.error = chunk.error;
      result.gate = chunk.gate;
      result.failed_checks = chunk.failed_checks;
      return result;
    }
  }
  return result;
}

Status BatchCycle::LoadSilverIds(Table& silver_t, const std::set<EventHour>& touched, SilverIds* ids,
                                 int64_t* date_rows) {
  // Hours the previous chunks loaded but this one does not touch are dropped
  // (a set cannot forget single keys: start over), so the set holds the
  // hours in play, not every hour of a long backlog.
  for (const EventHour& h : ids->hours) {
    if (!touched.count(h)) {
      *ids = SilverIds();
      break;
    }
  }
  *date_rows = 0;
  if (!silver_t.current_snapshot()) {
    ids->hours.insert(touched.begin(), touched.end());
    return Status::OK();
  }
  std::set<std::string> dates;
  std::set<EventHour> missing;
  for (const EventHour& h : touched) {
    dates.insert(h.first);
    if (!ids->hours.count(h)) missing.insert(h);
  }
  ScanOptions scan;
  scan.partition_filter = DateIn(dates);
  WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, silver_t.Scan(scan));
  for (const DataFile& f : files) *date_rows += f.stats.record_count;
  if (missing.empty()) return Status::OK();

  // Only the files whose event_hour bounds reach a missing hour of their date.
  const Schema& schema = *warehouse::SilverTable().schema;
  const int32_t hour_field = schema.field(static_cast<size_t>(schema.FieldIndex("event_hour"))).id;
  auto bound = [](const std::optional<std::string>& b, int32_t otherwise) {
    int32_t v = otherwise;
    if (b && b->size() == 4) std::memcpy(&v, b->data(), 4);  // Iceberg int: 4 bytes little-endian
    return v;
  };
  std::vector<DataFile> needed;
  for (const DataFile& f : files) {
    int32_t lo = 0, hi = 23;
    for (const ColumnFileStats& c : f.stats.columns) {
      if (c.field_id == hour_field) lo = bound(c.lower_bound, 0), hi = bound(c.upper_bound, 23);
    }
    auto first = missing.lower_bound(EventHour(f.partition[0], lo));
    if (first != missing.end() && first->first == f.partition[0] && first->second <= hi) needed.push_back(f);
  }
  SchemaPtr projection = ProjectSchema(schema, {"event_id", "event_date", "event_hour"});
  WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse_->ReadDataFiles(needed, projection));
  const Column& id = rows.column(0);
  const Column& date = rows.column(1);
  const Column& hour = rows.column(2);
  EventHour key;
  for (size_t i = 0; i < rows.num_rows(); ++i) {
    key.first.assign(date.GetString(i));
    key.second = hour.GetInt32(i);
    if (!missing.count(key)) continue;
    if (!ids->keys.Insert(MakeIdKey(id.GetString(i)))) {
      ++ids->duplicates;
      if (ids->duplicate_examples.size() < 5) ids->duplicate_examples.emplace_back(id.GetString(i));
    }
  }
  ids->hours.insert(missing.begin(), missing.end());
  return Status::OK();
}

StageResult BatchCycle::RunSilverChunk(Table& silver_t, std::optional<int64_t> done, int64_t to,
                                       const RecordBatch& bronze_rows, const Deadline& deadline,
                                       CycleReport* report, SilverIds* ids) {
  StageResult result;
  auto fail = [&](Status s) {
    result.Fail(std::move(s));
    return result;
  };
  result.input_snapshot = std::to_string(to);
  result.rows_in = static_cast<int64_t>(bronze_rows.num_rows());

  // Event ids already in silver for the event hours this input touches:
  // silver is one row per event_id ever, and a duplicate shares its
  // original's event time.
  std::set<EventHour> touched;
  {
    const Column& dates = bronze_rows.column("event_date");
    const Column& hours = bronze_rows.column("event_hour");
    for (size_t i = 0; i < bronze_rows.num_rows(); ++i) {
      if (i > 0 && hours.GetInt32(i) == hours.GetInt32(i - 1) && dates.GetString(i) == dates.GetString(i - 1)) continue;
      touched.emplace(std::string(dates.GetString(i)), hours.GetInt32(i));
    }
  }
  int64_t existing_rows = 0;
  if (Status s = LoadSilverIds(silver_t, touched, ids, &existing_rows); !s.ok()) return fail(s);
  const int64_t existing_duplicates = ids->duplicates;
  const IdKeySet& existing = ids->keys;
  const std::vector<std::string>& duplicate_examples = ids->duplicate_examples;
  const int64_t now = NowMicros();
  RecordBatch silver_rows = transform::BuildSilver(
      bronze_rows, [&](std::string_view id) { return existing.size() > 0 && existing.Contains(MakeIdKey(id)); },
      now);

  // Write-audit-publish: the rows are audited before a commit can reference
  // them. With a second thread the files are written while the gate runs
  // (and deleted if it fails); with one, only rows that passed are written.
  transform::SilverGateContext ctx;
  ctx.run_id = report->cycle_id;
  ctx.run_time_us = now;
  auto volumes = RecentSilverVolumes();
  if (!volumes.ok()) return fail(volumes.status().WithContext("reading the silver volume history"));
  ctx.recent_run_volumes = std::move(volumes).value();
  ctx.touched_partition_rows = existing_rows + static_cast<int64_t>(silver_rows.num_rows());
  ctx.touched_partition_duplicates = existing_duplicates;
  ctx.duplicate_examples = duplicate_examples;
  transform::GateOutcome gate;
  Status recorded;
  auto audit = [&] {
    int64_t dq0 = MonotonicMicros();
    gate = transform::RunSilverGate(bronze_rows, silver_rows, ctx);
    recorded = deadline.Check("silver");
    if (recorded.ok()) recorded = warehouse::RecordQuality(warehouse_, gate.quality_results, gate.profile_metrics);
    report->dq_us += MonotonicMicros() - dq0;
  };
  std::optional<Result<std::vector<DataFile>>> files;
  if (options_.threads > 1) {
    std::thread auditor(audit);
    if (Status s = deadline.Check("silver"); s.ok()) {
      files = warehouse_->WriteDataFiles(silver_t, silver_rows);
    } else {
      files = s;
    }
    auditor.join();
  } else {
    audit();
  }
  auto discard_files = [&] {
    if (files && files->ok()) {
      for (const DataFile& f : **files) warehouse_->fs()->RemoveLeftover(f.path);
    }
  };
  if (!recorded.ok()) {
    discard_files();
    return fail(recorded);
  }
  if (!gate.passed) {
    discard_files();
    report->silver_gate_failed = true;
    RaiseGateAlert("silver", "gold not updated", now, gate.failed_checks,
                   {{"bronze_snapshot", result.input_snapshot}, {"run_id", report->cycle_id}});
    result.FailGate("silver", gate.failed_checks);
    return result;
  }
  if (!files) {
    if (Status s = deadline.Check("silver"); !s.ok()) return fail(s);
    files = warehouse_->WriteDataFiles(silver_t, silver_rows);
  }
  if (!files->ok()) return fail(files->status());
  CommitRequest req;
  req.operation = CommitOperation::kAppend;
  req.added_files = std::move(**files);
  req.summary[kBronzeSnapshotKey] = std::to_string(to);
  const std::optional<int64_t> expected = done;
  req.validate = [&silver_t, expected](const SnapshotInfo*) -> Status {
    // Another batch process processed bronze meanwhile (the lock should
    // prevent it; this keeps silver exactly-once even without it).
    if (ParseSnapshotId(SummaryOfLatest(silver_t, kBronzeSnapshotKey)) != expected) {
      return Status::Conflict("silver was advanced by another batch run");
    }
    return Status::OK();
  };
  auto committed = silver_t.Commit(req);
  if (!committed.ok()) return fail(committed.status());
  result.output_snapshot = std::to_string(committed->snapshot_id);
  result.rows_out = static_cast<int64_t>(silver_rows.num_rows());
  // What this chunk published is what the next chunk must not publish again.
  const Column& new_ids = silver_rows.column("event_id");
  for (size_t i = 0; i < silver_rows.num_rows(); ++i) ids->keys.Insert(MakeIdKey(new_ids.GetString(i)));
  report->silver_rows_added += result.rows_out;
  return result;
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
  alerts_->Raise(std::move(a));
}

StageResult BatchCycle::RunGold(const Deadline& deadline, CycleReport* report) {
  StageResult result;
  auto fail = [&](Status s) {
    result.Fail(std::move(s));
    return result;
  };
  auto silver_r = warehouse_->table("silver.cleaned_events");
  if (!silver_r.ok()) return fail(silver_r.status());
  Table& silver_t = **silver_r;
  if (Status s = silver_t.Refresh(); !s.ok()) return fail(s);
  auto silver_snap = silver_t.current_snapshot();
  result.input_snapshot = silver_snap ? std::to_string(silver_snap->snapshot_id) : "";
  if (!silver_snap) {
    result.outcome = StageOutcome::kSkipped;
    return result;
  }

  // The oldest silver snapshot any gold table has caught up to.
  // Snapshot ids are random, so "oldest" is by silver's sequence number; a
  // snapshot silver no longer lists (expired) counts as "never" (full scan).
  std::vector<std::shared_ptr<Table>> gold_tables;
  std::optional<int64_t> oldest;
  int64_t oldest_sequence = 0;
  bool any_never = false;
  for (const warehouse::TableDef* def : warehouse::GoldTables()) {
    auto t = warehouse_->table(def->full_name());
    if (!t.ok()) return fail(t.status());
    if (Status s = (*t)->Refresh(); !s.ok()) return fail(s);
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
  if (from && *from == silver_snap->snapshot_id) {
    result.outcome = StageOutcome::kSkipped;
    return result;
  }
  auto added = silver_t.FilesAddedBetween(from, silver_snap->snapshot_id);
  if (!added.ok() && added.status().IsNotFound()) added = silver_t.Scan();
  if (!added.ok()) return fail(added.status());
  std::set<std::string> touched;
  for (const DataFile& f : *added) {
    if (!f.partition.empty()) touched.insert(f.partition[0]);
  }
  if (touched.empty()) {
    result.outcome = StageOutcome::kSkipped;
    return result;
  }
  std::vector<std::string> dates = transform::GoldDatesToRecompute(touched);
  report->gold_dates = dates;
  const int64_t now = NowMicros();
  auto computed = ComputeGoldFromSilver(warehouse_, silver_t, dates, now, options_.threads);
  if (!computed.ok()) return fail(computed.status());
  result.rows_in = computed->silver_rows_read;
  transform::GoldResult& gold = computed->gold;
  const std::map<std::string, int64_t>& silver_per_date = computed->silver_rows_per_date;

  int64_t dq0 = MonotonicMicros();
  transform::GoldGateContext ctx;
  ctx.run_id = report->cycle_id;
  ctx.run_time_us = now;
  transform::GateOutcome gate = transform::RunGoldGate(gold, silver_per_date, ctx);
  report->dq_us += MonotonicMicros() - dq0;
  if (Status s = deadline.Check("gold"); !s.ok()) return fail(s);
  if (Status s = warehouse::RecordQuality(warehouse_, gate.quality_results, gate.profile_metrics); !s.ok()) {
    return fail(s);
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
    if (Status s = deadline.Check("gold"); !s.ok()) return fail(s);
    Table& t = *gold_tables[i];
    auto files = warehouse_->WriteDataFiles(t, *outputs[i]);
    if (!files.ok()) return fail(files.status());
    CommitRequest req;
    req.operation = CommitOperation::kOverwrite;
    req.added_files = std::move(*files);
    req.overwrite_partitions = partitions;
    req.summary[kSilverSnapshotKey] = std::to_string(silver_snap->snapshot_id);
    auto committed = t.Commit(req);
    if (!committed.ok()) return fail(committed.status());
    rows_out += static_cast<int64_t>(outputs[i]->num_rows());
    if (i == 0) result.output_snapshot = std::to_string(committed->snapshot_id);
  }
  result.rows_out = rows_out;

  // A user's first HIGH of a day: one alert, whoever finds it first.
  const RecordBatch& risk = gold.risk_scores;
  if (risk.num_rows() > 0) {
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
    // would find nothing to recompute and raise nothing).
    if (!oldest.empty()) {
      if (Status s = LoadRaisedAlertKeys(warehouse_, alerts_, oldest); !s.ok()) {
        log::Warn("gold", "could not read ops.alerts (an alert already raised may be raised again): {}", s.ToString());
      }
    }
    for (size_t r = 0; r < risk.num_rows(); ++r) {
      if (!triggered.GetBool(r)) continue;
      Alert a;
      a.kind = AlertKind::kRisk;
      a.severity = AlertSeverity::kHigh;
      a.entity = std::string(entity.GetString(r));
      a.alert_date = std::string(date.GetString(r));
      a.subject = fmt::format("HIGH risk user {} on {} (score {})", a.entity, a.alert_date, score.GetInt32(r));
      a.details = std::string(evidence.GetString(r));
      alerts_->Raise(std::move(a));
    }
  }
  return result;
}

StageResult BatchCycle::RunAudit(const Deadline& deadline, CycleReport* report) {
  // Re-audit the latest silver date: its gold recomputed from silver and the
  // gold gate's checks over it (reconciliation with silver included).
  // Nothing is published; the results go to dq_audit.
  StageResult result;
  auto fail = [&](Status s) {
    result.Fail(std::move(s));
    return result;
  };
  auto silver_r = warehouse_->table("silver.cleaned_events");
  if (!silver_r.ok()) return fail(silver_r.status());
  Table& silver_t = **silver_r;
  if (Status s = silver_t.Refresh(); !s.ok()) return fail(s);
  auto files = silver_t.Scan();
  if (!files.ok()) return fail(files.status());
  std::string latest;
  for (const DataFile& f : *files) {
    if (!f.partition.empty() && f.partition[0] > latest) latest = f.partition[0];
  }
  if (latest.empty()) {
    result.outcome = StageOutcome::kSkipped;
    return result;
  }
  std::vector<std::string> dates = {latest};
  const int64_t now = NowMicros();
  auto computed = ComputeGoldFromSilver(warehouse_, silver_t, dates, now, options_.threads);
  if (!computed.ok()) return fail(computed.status());
  transform::GoldResult& gold = computed->gold;
  std::map<std::string, int64_t>& per_date = computed->silver_rows_per_date;
  transform::GoldGateContext ctx;
  ctx.run_id = report->cycle_id;
  ctx.run_time_us = now;
  transform::GateOutcome gate = transform::RunGoldGate(gold, per_date, ctx);
  if (Status s = deadline.Check("dq"); !s.ok()) return fail(s);
  if (Status s = warehouse::RecordQuality(warehouse_, gate.quality_results, gate.profile_metrics); !s.ok()) {
    return fail(s);
  }
  result.rows_in = per_date[latest];
  if (!gate.passed) {
    report->gold_gate_failed = true;
    result.FailGate("gold", gate.failed_checks);
  }
  return result;
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
