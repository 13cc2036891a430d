// BatchCycle's silver stage: the bronze rows appended since silver's last
// commit, cut into chunks, each cleaned, audited by the silver gate and
// published on its own (write-audit-publish, batch_cycle.h).
#include <algorithm>
#include <cstring>
#include <future>
#include <thread>

#include <fmt/format.h>

#include "stage_support.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/transform/dq.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/ops_tables.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::batch {

namespace bronze = warehouse::bronze;
using format::Column;
using format::ColumnFileStats;
using format::RecordBatch;
using format::Schema;
using format::SchemaPtr;
using model::StageResult;
using table::CommitOperation;
using table::CommitRequest;
using table::DataFile;
using table::ScanOptions;
using table::SnapshotInfo;
using table::Table;
using warehouse::ProjectSchema;

namespace {

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

}  // namespace

StageResult BatchCycle::RunSilver(const Deadline& deadline, CycleReport* report) {
  StageResult result;
  auto bronze_r = RefreshedTable(warehouse_, "bronze.raw_events");
  if (!bronze_r.ok()) return Failed(result, bronze_r.status());
  auto silver_r = RefreshedTable(warehouse_, "silver.cleaned_events");
  if (!silver_r.ok()) return Failed(result, silver_r.status());
  Table& bronze_t = **bronze_r;
  Table& silver_t = **silver_r;

  auto current = bronze_t.current_snapshot();
  std::optional<int64_t> done = ParseSnapshotId(SummaryOfLatest(silver_t, kBronzeSnapshotKey));
  result.input_snapshot = current ? std::to_string(current->snapshot_id) : "";
  if (!current || (done && *done == current->snapshot_id)) return Skipped(result);
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
      if (rows >= options_.silver_chunk_rows || i + 1 == chain.size()) {
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
    if (!bronze_rows.ok()) return Failed(result, bronze_rows.status());
    StageResult chunk = RunSilverChunk(silver_t, from, to, *bronze_rows, deadline, report, &ids,
                                       fmt::format("silver commit {}/{}", i + 1, chunks.size()));
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
                                       CycleReport* report, SilverIds* ids, const std::string& commit_name) {
  StageResult result;
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
  if (Status s = LoadSilverIds(silver_t, touched, ids, &existing_rows); !s.ok()) return Failed(result, s);
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
  if (!volumes.ok()) return Failed(result, volumes.status().WithContext("reading the silver volume history"));
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
    return Failed(result, recorded);
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
    if (Status s = deadline.Check("silver"); !s.ok()) return Failed(result, s);
    files = warehouse_->WriteDataFiles(silver_t, silver_rows);
  }
  if (!files->ok()) return Failed(result, files->status());
  if (Status held = StillHeld(model::StageName::kSilver, commit_name, report); !held.ok()) {
    discard_files();
    return Failed(result, held);
  }
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
  if (!committed.ok()) return Failed(result, committed.status());
  result.output_snapshot = std::to_string(committed->snapshot_id);
  result.rows_out = static_cast<int64_t>(silver_rows.num_rows());
  // What this chunk published is what the next chunk must not publish again.
  const Column& new_ids = silver_rows.column("event_id");
  for (size_t i = 0; i < silver_rows.num_rows(); ++i) ids->keys.Insert(MakeIdKey(new_ids.GetString(i)));
  report->silver_rows_added += result.rows_out;
  return result;
}

}  // namespace ws::batch
