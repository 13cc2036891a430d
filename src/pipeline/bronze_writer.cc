#include "wikistream/pipeline/bronze_writer.h"

#include <fmt/format.h>
#include <malloc.h>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/event/bronze_schema.h"

namespace ws {

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

std::vector<std::string> BronzeWriter::AllPositions() const {
  std::vector<std::string> out;
  const std::string key = PositionKey(source_name_);
  for (const SnapshotInfo& s : raw_->snapshots()) {
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
    RecordBatch taken;
    RecordBatch* kept_rows = accepted;
    if (kept.size() != accepted->num_rows()) {
      taken = accepted->Take(kept);
      kept_rows = &taken;
    }
    if (on_kept && kept_rows->num_rows() > 0) on_kept(*kept_rows);
    if (kept_rows->num_rows() > 0) {
      buffered_rows_ += kept_rows->num_rows();
      buffered_bytes_ += kept_rows->ByteSize();
      buffer_.push_back(std::move(*kept_rows));
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

Result<BronzeCommitInfo> BronzeWriter::Commit(const std::string& position, bool force_position) {
  BronzeCommitInfo info;
  const int64_t started = MonotonicMicros();
  const bool have_rows = buffered_rows_ > 0;
  const bool have_dlq = dlq_buffer_.num_rows() > 0;
  if (!have_rows && !have_dlq && !(force_position && position != position_)) return info;

  const std::string key = PositionKey(source_name_);
  const int64_t now = NowMicros();

  if (have_dlq) {
    WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, warehouse_->WriteDataFiles(*dlq_, dlq_buffer_));
    CommitRequest req;
    req.operation = CommitOperation::kAppend;
    req.added_files = std::move(files);
    req.summary[key] = position;
    WS_ASSIGN_OR_RETURN(CommitResult r, dlq_->Commit(req));
    info.files += static_cast<int64_t>(req.added_files.size());
    info.dlq_rows = static_cast<int64_t>(dlq_buffer_.num_rows());
    dlq_position_ = position;
    dlq_buffer_ = RecordBatch(bronze::DlqEventsSchema());
    (void)r;
  }

  if (have_rows || position != position_) {
    std::vector<const RecordBatch*> chunks;
    for (RecordBatch& chunk : buffer_) {
      Column& processed = chunk.column(bronze::kBronzeProcessedAt);
      for (size_t r = 0; r < chunk.num_rows(); ++r) processed.SetInt64(r, now);
      chunks.push_back(&chunk);
    }
    WS_ASSIGN_OR_RETURN(std::vector<DataFile> files, warehouse_->WriteDataFiles(*raw_, chunks));
    CommitRequest req;
    req.operation = CommitOperation::kAppend;
    req.added_files = files;
    req.summary[key] = position;
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
    WS_ASSIGN_OR_RETURN(CommitResult r, raw_->Commit(req));
    info.snapshot_id = r.snapshot_id;
    info.files += static_cast<int64_t>(files.size());
    info.rows = static_cast<int64_t>(buffered_rows_);
    // Release the batch's memory to the system now: the peak of one commit
    // should not stay as the process's footprint.
    buffer_ = {};
    buffered_rows_ = buffered_bytes_ = 0;
    malloc_trim(0);
    for (const DataFile& f : files) partitions_with_files_.insert(f.partition[0] + "/" + f.partition[1]);
    position_ = position;
    index_.Commit();
  }
  // dlq_committed_ids_ stays: a backlog re-delivered after a restart may span
  // several commits (the set only holds the DLQ rows that were ahead).
  info.duration_us = MonotonicMicros() - started;
  return info;
}

}  // namespace ws
