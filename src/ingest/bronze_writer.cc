#include "wikistream/ingest/bronze_writer.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {

namespace bronze = warehouse::bronze;
using format::Column;
using format::RecordBatch;
using format::SchemaPtr;
using table::CommitOperation;
using table::CommitRequest;
using table::CommitResult;
using table::DataFile;
using table::PartitionValues;
using table::SnapshotInfo;
using table::Table;
using warehouse::ProjectSchema;
using warehouse::Warehouse;

BronzeWriter::BronzeWriter(Warehouse* w, std::string source_name, std::shared_ptr<Table> raw,
                           std::shared_ptr<Table> dlq)
    : warehouse_(w),
      source_name_(std::move(source_name)),
      raw_(std::move(raw)),
      dlq_(std::move(dlq)),
      index_([this](const std::string& date, int32_t hour, std::vector<std::string>* ids) {
        return LoadHour(date, hour, ids);
      }),
      dlq_buffer_(bronze::DlqEventsSchema()) {}

Result<std::unique_ptr<BronzeWriter>> BronzeWriter::Open(Warehouse* warehouse, const std::string& source_name,
                                                         bool fenced) {
  WS_ASSIGN_OR_RETURN(auto raw, warehouse->table("bronze.raw_events"));
  WS_ASSIGN_OR_RETURN(auto dlq, warehouse->table("bronze.dlq_events"));
  std::unique_ptr<BronzeWriter> w(new BronzeWriter(warehouse, source_name, raw, dlq));
  w->fenced_ = fenced;
  WS_RETURN_IF_ERROR(w->Init());
  return w;
}

Status BronzeWriter::Init() {
  WS_RETURN_IF_ERROR(raw_->Refresh());
  WS_RETURN_IF_ERROR(dlq_->Refresh());
  const std::string key = PositionKey(source_name_);
  if (auto snap = raw_->LatestSnapshotWithSummary(key)) position_ = snap->summary.at(key);

  // Which event hours already hold rows: only those need loading for dedup.
  WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, raw_->Scan());
  for (const DataFile& f : files) {
    if (f.partition.size() == 2) partitions_with_files_.insert(f.partition[0] + "/" + f.partition[1]);
  }

  // The DLQ commits before bronze. If DLQ commits landed while the bronze
  // commits after them failed (a full disk fails the bigger bronze files
  // first), the payloads of every DLQ snapshot past the bronze position will
  // be produced again: remember their ids, newest DLQ snapshot back to the
  // one whose position bronze has reached.
  if (auto snap = dlq_->LatestSnapshotWithSummary(key)) {
    dlq_position_ = snap->summary.at(key);
    std::vector<int64_t> ahead;
    int behind = 0;
    for (std::optional<SnapshotInfo> s = snap; s;) {
      auto it = s->summary.find(key);
      if (it != s->summary.end()) {
        // Also the last few DLQ commits at or behind the bronze position: a
        // source that resumes by timestamp re-sends a little overlap.
        if (it->second == position_ || behind > 0) {
          if (++behind > kDlqOverlapSnapshots) break;
        }
        ahead.push_back(s->snapshot_id);
      }
      if (!s->parent_id) break;
      auto parent = dlq_->snapshot(*s->parent_id);
      if (!parent.ok()) break;  // expired history: older DLQ rows are long behind bronze
      s = *parent;
    }
    SchemaPtr ids_only = ProjectSchema(*bronze::DlqEventsSchema(), {"dlq_id"});
    for (int64_t id : ahead) {
      WS_ASSIGN_OR_RETURN(SnapshotInfo s, dlq_->snapshot(id));
      WS_ASSIGN_OR_RETURN(std::vector<DataFile> added, dlq_->FilesAddedBetween(s.parent_id, s.snapshot_id));
      WS_ASSIGN_OR_RETURN(RecordBatch ids, warehouse_->ReadDataFiles(added, ids_only));
      for (size_t i = 0; i < ids.num_rows(); ++i) dlq_committed_ids_.emplace(ids.column(0).GetString(i));
    }
  }
  if (!position_.empty()) log::Info("bronze", "resuming source {} at {}", source_name_, position_);
  return Status::OK();
}

std::vector<std::string> BronzeWriter::AllPositions() const { return CommittedPositions(*raw_, source_name_); }

std::vector<std::string> BronzeWriter::CommittedPositions(const Table& raw, const std::string& source_name) {
  std::vector<std::string> out;
  const std::string key = PositionKey(source_name);
  for (const SnapshotInfo& s : raw.snapshots()) {
    auto it = s.summary.find(key);
    if (it != s.summary.end()) out.push_back(it->second);
  }
  return out;
}

Status BronzeWriter::LoadHour(const std::string& date, int32_t hour, std::vector<std::string>* ids) {
  const std::string hour_text = std::to_string(hour);
  if (!partitions_with_files_.count(date + "/" + hour_text)) return Status::OK();
  SchemaPtr ids_only = ProjectSchema(*bronze::RawEventsSchema(), {"event_id"});
  WS_ASSIGN_OR_RETURN(RecordBatch rows,
                      warehouse_->ReadTable(*raw_, ids_only, [&](const PartitionValues& p) {
                        return p.size() == 2 && p[0] == date && p[1] == hour_text;
                      }));
  ids->reserve(rows.num_rows());
  for (size_t i = 0; i < rows.num_rows(); ++i) ids->emplace_back(rows.column(0).GetString(i));
  return Status::OK();
}

Result<RecordBatch> BronzeWriter::Add(RecordBatch* accepted, RecordBatch* dlq) {
  RecordBatch kept_rows(bronze::RawEventsSchema());
  WS_RETURN_IF_ERROR(AddRows(accepted, dlq, [&](const RecordBatch& kept) { kept_rows = kept; }));
  return kept_rows;
}

Status BronzeWriter::AddRows(RecordBatch* accepted, RecordBatch* dlq,
                             const std::function<void(const RecordBatch&)>& on_kept) {
  if (accepted->num_rows() > 0) {
    const Column& ids = accepted->column(bronze::kEventId);
    const Column& dates = accepted->column(bronze::kEventDate);
    const Column& hours = accepted->column(bronze::kEventHour);
    std::vector<uint32_t> kept;
    kept.reserve(accepted->num_rows());
    for (size_t r = 0; r < accepted->num_rows(); ++r) {
      WS_ASSIGN_OR_RETURN(bool is_new, index_.InsertIfNew(dates.GetString(r), hours.GetInt32(r), ids.GetString(r)));
      if (is_new) kept.push_back(static_cast<uint32_t>(r));
    }
    duplicates_ += static_cast<int64_t>(accepted->num_rows() - kept.size());
    if (kept.size() != accepted->num_rows()) accepted->RetainRows(kept);
    if (on_kept && accepted->num_rows() > 0) on_kept(*accepted);
    if (accepted->num_rows() > 0) {
      buffered_rows_ += accepted->num_rows();
      buffered_bytes_ += accepted->ByteSize();
      buffer_.push_back(std::move(*accepted));
    }
  }
  if (dlq->num_rows() > 0) {
    // A payload re-sent by the source (reconnect overlap, restart) has the
    // same deterministic dlq_id: land it once.
    const Column& ids = dlq->column(bronze::kDlqId);
    for (size_t r = 0; r < dlq->num_rows(); ++r) {
      std::string_view id = ids.GetString(r);
      if (!dlq_committed_ids_.empty() && dlq_committed_ids_.count(std::string(id))) continue;
      if (!dlq_seen_.Insert(MakeIdKey(id))) continue;
      dlq_buffer_.AppendRow(*dlq, r);
    }
    // Bounded: malformed payloads are rare; forgetting old ids only matters
    // for re-sends older than a million bad payloads.
    if (dlq_seen_.size() > (1u << 20)) dlq_seen_ = IdKeySet();
  }
  *accepted = RecordBatch(bronze::RawEventsSchema());
  *dlq = RecordBatch(bronze::DlqEventsSchema());
  return Status::OK();
}

std::unique_ptr<BronzeWriter::Sealed> BronzeWriter::Seal(const std::string& position, bool force_position) {
  if (buffered_rows_ == 0 && dlq_buffer_.num_rows() == 0 && !(force_position && position != position_)) return nullptr;
  auto batch = std::make_unique<Sealed>();
  batch->started_us = MonotonicMicros();
  batch->position = position;
  batch->index_batch = index_.Seal();
  const int64_t now = NowMicros();
  for (RecordBatch& chunk : buffer_) {
    Column& processed = chunk.column(bronze::kBronzeProcessedAt);
    for (size_t r = 0; r < chunk.num_rows(); ++r) processed.SetInt64(r, now);
  }
  batch->chunks = std::move(buffer_);
  batch->rows = buffered_rows_;
  batch->dlq = std::move(dlq_buffer_);
  buffer_.clear();
  buffered_rows_ = buffered_bytes_ = 0;
  dlq_buffer_ = RecordBatch(bronze::DlqEventsSchema());
  return batch;
}

void BronzeWriter::Unseal(std::unique_ptr<Sealed> batch) {
  // The sealed rows are older than the buffer's: they go in front.
  for (RecordBatch& chunk : buffer_) batch->chunks.push_back(std::move(chunk));
  buffer_ = std::move(batch->chunks);
  buffered_rows_ += batch->rows;
  buffered_bytes_ = 0;
  for (const RecordBatch& chunk : buffer_) buffered_bytes_ += chunk.ByteSize();
  if (batch->dlq.num_rows() > 0) {
    batch->dlq.Append(dlq_buffer_);
    dlq_buffer_ = std::move(batch->dlq);
  }
}

Status BronzeWriter::WriteFiles(Sealed* batch) {
  if (batch->dlq.num_rows() > 0) {
    WS_ASSIGN_OR_RETURN(batch->dlq_files, warehouse_->WriteDataFiles(*dlq_, batch->dlq));
  }
  if (batch->rows > 0) {
    std::vector<const RecordBatch*> chunks;
    for (const RecordBatch& chunk : batch->chunks) chunks.push_back(&chunk);
    WS_ASSIGN_OR_RETURN(batch->raw_files, warehouse_->WriteDataFiles(*raw_, chunks));
  }
  return Status::OK();
}

Result<BronzeCommitInfo> BronzeWriter::CommitSealed(std::unique_ptr<Sealed> batch) {
  BronzeCommitInfo info;
  const std::string key = PositionKey(source_name_);
  if (batch->dlq.num_rows() > 0) {
    CommitRequest req;
    req.operation = CommitOperation::kAppend;
    req.added_files = std::move(batch->dlq_files);
    req.summary[key] = batch->position;
    Result<CommitResult> r = dlq_->Commit(req);
    if (!r.ok()) {
      Unseal(std::move(batch));
      return r.status();
    }
    info.files += static_cast<int64_t>(req.added_files.size());
    info.dlq_rows = static_cast<int64_t>(batch->dlq.num_rows());
    dlq_position_ = batch->position;
    batch->dlq = RecordBatch(bronze::DlqEventsSchema());  // landed: a retry must not add it again
  }

  if (batch->rows > 0 || batch->position != position_) {
    CommitRequest req;
    req.operation = CommitOperation::kAppend;
    req.added_files = batch->raw_files;
    req.summary[key] = batch->position;
    const std::string expected = position_;
    if (fenced_) req.validate = [this, key, expected](const SnapshotInfo*) -> Status {
      // Fence: another writer of this source advanced the position.
      auto snap = raw_->LatestSnapshotWithSummary(key);
      std::string current = snap ? snap->summary.at(key) : std::string();
      if (current != expected) {
        return Status::Conflict("another bronze writer advanced source " + source_name_ + " to " + current);
      }
      return Status::OK();
    };
    Result<CommitResult> r = raw_->Commit(req);
    if (!r.ok()) {
      Unseal(std::move(batch));
      return r.status();
    }
    info.snapshot_id = r->snapshot_id;
    info.files += static_cast<int64_t>(batch->raw_files.size());
    info.rows = static_cast<int64_t>(batch->rows);
    for (const DataFile& f : batch->raw_files) partitions_with_files_.insert(f.partition[0] + "/" + f.partition[1]);
    position_ = batch->position;
    index_.Commit(batch->index_batch);
  }
  // dlq_committed_ids_ stays: a backlog re-delivered after a restart may span
  // several commits (the set only holds the DLQ rows that were ahead).
  info.duration_us = MonotonicMicros() - batch->started_us;
  // Give freed memory back to the system every kTrimIntervalUs, so that the
  // heap does not keep what earlier batches freed (docs/performance.md).
  // Not at every commit: trimming, and faulting the pages back in for the
  // next batch, cost a replay a sixth of its ingest time.
  batch.reset();
  if (const int64_t now = MonotonicMicros(); now - last_trim_us_ >= kTrimIntervalUs) {
    malloc_trim(0);
    last_trim_us_ = now;
  }
  return info;
}

bool BronzeWriter::commit_written() const {
  return in_flight_ && in_flight_->written.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

Result<BronzeCommitInfo> BronzeWriter::FinishCommit() {
  if (!in_flight_) return BronzeCommitInfo{};
  std::unique_ptr<Sealed> batch = std::move(in_flight_);
  Status written = batch->written.get();
  if (!written.ok()) {
    Unseal(std::move(batch));
    return written;
  }
  return CommitSealed(std::move(batch));
}

Result<BronzeCommitInfo> BronzeWriter::StartCommit(const std::string& position) {
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo done, FinishCommit());
  std::unique_ptr<Sealed> batch = Seal(position, /*force_position=*/false);
  if (batch) {
    Sealed* b = batch.get();
    b->written = std::async(std::launch::async, [this, b] { return WriteFiles(b); });
    in_flight_ = std::move(batch);
  }
  return done;
}

Result<BronzeCommitInfo> BronzeWriter::Commit(const std::string& position, bool force_position) {
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo info, FinishCommit());
  std::unique_ptr<Sealed> batch = Seal(position, force_position);
  if (!batch) return info;
  if (Status s = WriteFiles(batch.get()); !s.ok()) {
    Unseal(std::move(batch));
    return s;
  }
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo now, CommitSealed(std::move(batch)));
  if (info.snapshot_id == 0 && info.rows == 0 && info.dlq_rows == 0) return now;
  now.rows += info.rows;
  now.dlq_rows += info.dlq_rows;
  now.files += info.files;
  if (now.snapshot_id == 0) now.snapshot_id = info.snapshot_id;
  now.duration_us = std::max(now.duration_us, info.duration_us);
  return now;
}

}  // namespace ws::ingest
