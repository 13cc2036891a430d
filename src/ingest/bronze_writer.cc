#include "wikistream/ingest/bronze_writer.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/source/kafka.h"
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
      raw_committed_(PositionKey(source_name_)),
      dlq_committed_(PositionKey(source_name_)),
      dlq_buffer_(bronze::DlqEventsSchema()) {}

Result<std::unique_ptr<BronzeWriter>> BronzeWriter::Open(Warehouse* warehouse, const std::string& source_name,
                                                         BronzeFence fence) {
  WS_ASSIGN_OR_RETURN(auto raw, warehouse->table("bronze.raw_events"));
  WS_ASSIGN_OR_RETURN(auto dlq, warehouse->table("bronze.dlq_events"));
  std::unique_ptr<BronzeWriter> w(new BronzeWriter(warehouse, source_name, raw, dlq));
  w->fence_ = fence;
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
                             const std::function<void(const RecordBatch&)>& on_kept,
                             const std::vector<std::string_view>* positions) {
  if (accepted->num_rows() > 0) {
    std::vector<RowOffset> offsets;
    if (fence_ == BronzeFence::kKafkaOffsets) {
      offsets.resize(accepted->num_rows());
      if (positions && positions->size() == accepted->num_rows()) {
        for (size_t r = 0; r < offsets.size(); ++r) offsets[r] = partitions_.Parse((*positions)[r]);
      }
    }
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
    if (kept.size() != accepted->num_rows()) {
      accepted->RetainRows(kept);
      if (!offsets.empty()) {
        for (size_t i = 0; i < kept.size(); ++i) offsets[i] = offsets[kept[i]];
        offsets.resize(kept.size());
      }
    }
    if (on_kept && accepted->num_rows() > 0) on_kept(*accepted);
    if (accepted->num_rows() > 0) {
      buffered_rows_ += accepted->num_rows();
      buffered_bytes_ += accepted->ByteSize();
      buffer_.push_back(std::move(*accepted));
      buffer_offsets_.push_back(std::move(offsets));
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
  batch->base_position = position_;
  batch->partitions = partitions_;
  batch->index_batch = index_.Seal();
  const int64_t now = NowMicros();
  for (RecordBatch& chunk : buffer_) {
    Column& processed = chunk.column(bronze::kBronzeProcessedAt);
    for (size_t r = 0; r < chunk.num_rows(); ++r) processed.SetInt64(r, now);
  }
  batch->chunks = std::move(buffer_);
  batch->offsets = std::move(buffer_offsets_);
  batch->rows = buffered_rows_;
  batch->dlq = std::move(dlq_buffer_);
  buffer_.clear();
  buffer_offsets_.clear();
  buffered_rows_ = buffered_bytes_ = 0;
  dlq_buffer_ = RecordBatch(bronze::DlqEventsSchema());
  return batch;
}

void BronzeWriter::Unseal(std::unique_ptr<Sealed> batch) {
  // The sealed rows are older than the buffer's: they go in front.
  for (RecordBatch& chunk : buffer_) batch->chunks.push_back(std::move(chunk));
  buffer_ = std::move(batch->chunks);
  for (std::vector<RowOffset>& offsets : buffer_offsets_) batch->offsets.push_back(std::move(offsets));
  buffer_offsets_ = std::move(batch->offsets);
  buffered_rows_ += batch->rows;
  buffered_bytes_ = 0;
  for (const RecordBatch& chunk : buffer_) buffered_bytes_ += chunk.ByteSize();
  if (batch->dlq.num_rows() > 0) {
    batch->dlq.Append(dlq_buffer_);
    dlq_buffer_ = std::move(batch->dlq);
  }
}

Status BronzeWriter::WriteDlqFiles(Sealed* batch) {
  if (batch->dlq.num_rows() == 0) return Status::OK();
  WS_ASSIGN_OR_RETURN(batch->dlq_files, warehouse_->WriteDataFiles(*dlq_, batch->dlq));
  return Status::OK();
}

Status BronzeWriter::WriteRawFiles(Sealed* batch) {
  if (batch->rows == 0) return Status::OK();
  std::vector<const RecordBatch*> chunks;
  for (const RecordBatch& chunk : batch->chunks) chunks.push_back(&chunk);
  WS_ASSIGN_OR_RETURN(batch->raw_files, warehouse_->WriteDataFiles(*raw_, chunks));
  return Status::OK();
}

Result<BronzeCommitInfo> BronzeWriter::Land(Sealed* batch) {
  // The bronze files (the bulk of the bytes) are encoded and uploaded while
  // the DLQ lands: on an object store each step is a chain of round trips.
  // The two touch disjoint parts of the batch.
  std::future<Status> raw_written;
  if (batch->rows > 0) raw_written = std::async(std::launch::async, [this, batch] { return WriteRawFiles(batch); });
  BronzeCommitInfo info;
  Status dlq = WriteDlqFiles(batch);
  if (dlq.ok() && batch->dlq.num_rows() > 0) dlq = CommitDlq(batch, &info);
  Status raw = raw_written.valid() ? raw_written.get() : Status::OK();
  WS_RETURN_IF_ERROR(dlq);
  WS_RETURN_IF_ERROR(raw);
  if (batch->rows > 0 || batch->position != batch->base_position) {
    WS_ASSIGN_OR_RETURN(CommitResult r, CommitRaw(batch));
    batch->raw_landed = true;
    info.snapshot_id = r.snapshot_id;
    info.files += static_cast<int64_t>(batch->raw_files.size());
    info.rows = static_cast<int64_t>(batch->rows);
  }
  return info;
}

Result<BronzeCommitInfo> BronzeWriter::Conclude(std::unique_ptr<Sealed> batch, Result<BronzeCommitInfo> landed) {
  fenced_rows_ += batch->fenced_rows;
  fenced_dlq_rows_ += batch->fenced_dlq_rows;
  if (!landed.ok()) {
    Unseal(std::move(batch));
    return landed.status();
  }
  BronzeCommitInfo info = *landed;
  if (batch->raw_landed) {
    for (const DataFile& f : batch->raw_files) partitions_with_files_.insert(f.partition[0] + "/" + f.partition[1]);
    position_ = batch->position;
    // Rows the fence dropped stay in the index: the table holds them.
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

namespace {

// A fenced commit rewrites its files at most this often before giving up
// (Conflict; the rows go back to the buffer and the next commit retries).
// Each round means another consumer landed an overlapping commit meanwhile.
constexpr int kMaxFenceRounds = 5;

CommitRequest AppendRequest(const std::vector<DataFile>& files, const std::string& key, const std::string& position) {
  CommitRequest req;
  req.operation = CommitOperation::kAppend;
  req.added_files = files;
  req.summary[key] = position;
  return req;
}

// After a fence hit: the table's newest state, so that one rewrite drops
// everything already landed (the first attempt of a commit validates against
// the state this process last loaded, which may be behind).
void CatchUp(Table* table, CommittedOffsets* committed) {
  if (Status s = table->Refresh(); !s.ok()) {
    // The drop then uses what the refused attempt saw; a later round catches up.
    log::Warn("bronze", "cannot reload {}: {}", table->name(), s.ToString());
    return;
  }
  if (auto current = table->current_snapshot()) committed->Update(*table, &*current);
}

Status FenceConflict(const std::string& table, const std::string& partition, int64_t first, int64_t next) {
  return Status::Conflict(fmt::format("{}: offset {} of {} is already committed (next offset {})", table, first,
                                      partition, next));
}

}  // namespace

std::vector<int64_t> BronzeWriter::RawMinOffsets(const Sealed& batch) {
  std::vector<int64_t> min(batch.partitions.size(), INT64_MAX);
  for (const std::vector<RowOffset>& offsets : batch.offsets) {
    for (const RowOffset& o : offsets) {
      if (o.partition >= 0) min[o.partition] = std::min(min[o.partition], o.offset);
    }
  }
  return min;
}

size_t BronzeWriter::DropFencedRaw(Sealed* batch, const std::function<int64_t(std::string_view)>& next_offset) {
  std::vector<int64_t> next(batch->partitions.size());
  for (size_t p = 0; p < next.size(); ++p) next[p] = next_offset(batch->partitions.name(static_cast<int32_t>(p)));
  size_t dropped = 0;
  std::vector<RecordBatch> chunks;
  std::vector<std::vector<RowOffset>> chunk_offsets;
  for (size_t c = 0; c < batch->chunks.size(); ++c) {
    RecordBatch& chunk = batch->chunks[c];
    std::vector<RowOffset>& offsets = batch->offsets[c];
    std::vector<uint32_t> kept;
    kept.reserve(offsets.size());
    for (size_t r = 0; r < offsets.size(); ++r) {
      if (offsets[r].partition < 0 || offsets[r].offset >= next[offsets[r].partition]) kept.push_back(static_cast<uint32_t>(r));
    }
    dropped += offsets.size() - kept.size();
    if (kept.empty()) continue;
    if (kept.size() != offsets.size()) {
      chunk.RetainRows(kept);
      for (size_t i = 0; i < kept.size(); ++i) offsets[i] = offsets[kept[i]];
      offsets.resize(kept.size());
    }
    chunks.push_back(std::move(chunk));
    chunk_offsets.push_back(std::move(offsets));
  }
  batch->chunks = std::move(chunks);
  batch->offsets = std::move(chunk_offsets);
  batch->rows -= dropped;
  return dropped;
}

size_t BronzeWriter::DropFencedDlq(Sealed* batch, const std::function<int64_t(std::string_view)>& next_offset) {
  const Column& positions = batch->dlq.column(bronze::kSourcePosition);
  std::vector<uint32_t> kept;
  for (size_t r = 0; r < batch->dlq.num_rows(); ++r) {
    std::string_view partition;
    int64_t offset = 0;
    if (positions.IsNull(r) || !source::ParseKafkaRecordPosition(positions.GetString(r), &partition, &offset) ||
        offset >= next_offset(partition)) {
      kept.push_back(static_cast<uint32_t>(r));
    }
  }
  const size_t dropped = batch->dlq.num_rows() - kept.size();
  if (dropped > 0) batch->dlq.RetainRows(kept);
  return dropped;
}

Status BronzeWriter::CommitDlq(Sealed* batch, BronzeCommitInfo* info) {
  const std::string key = PositionKey(source_name_);
  // A DLQ row below a partition's committed next offset of either table is
  // in bronze.dlq_events: a DLQ position is stored only with the DLQ rows
  // below it, and a bronze position only after the same batch's DLQ commit.
  auto next_offset = [this](std::string_view partition) {
    return std::max(dlq_committed_.next_offset(partition), raw_committed_.next_offset(partition));
  };
  for (int round = 1;; ++round) {
    CommitRequest req = AppendRequest(batch->dlq_files, key, batch->position);
    bool fenced = false;
    if (fence_ == BronzeFence::kKafkaOffsets) {
      req.validate = [&](const SnapshotInfo* current) -> Status {
        dlq_committed_.Update(*dlq_, current);
        const Column& positions = batch->dlq.column(bronze::kSourcePosition);
        for (size_t r = 0; r < batch->dlq.num_rows(); ++r) {
          std::string_view partition;
          int64_t offset = 0;
          if (positions.IsNull(r) || !source::ParseKafkaRecordPosition(positions.GetString(r), &partition, &offset)) {
            continue;
          }
          if (int64_t next = next_offset(partition); offset < next) {
            fenced = true;
            return FenceConflict("bronze.dlq_events", std::string(partition), offset, next);
          }
        }
        return Status::OK();
      };
    }
    Result<CommitResult> r = dlq_->Commit(req);
    if (r.ok()) {
      info->files += static_cast<int64_t>(req.added_files.size());
      info->dlq_rows = static_cast<int64_t>(batch->dlq.num_rows());
      batch->dlq = RecordBatch(bronze::DlqEventsSchema());  // landed: a retry must not add it again
      return Status::OK();
    }
    if (!fenced || round == kMaxFenceRounds) return r.status();
    CatchUp(dlq_.get(), &dlq_committed_);
    const size_t dropped = DropFencedDlq(batch, next_offset);
    batch->fenced_dlq_rows += static_cast<int64_t>(dropped);
    log::Warn("bronze", "{}; dropped {} DLQ rows another consumer already landed", r.status().message(), dropped);
    // The files written so far are orphans now (maintenance deletes them).
    batch->dlq_files.clear();
    if (batch->dlq.num_rows() == 0) return Status::OK();
    WS_RETURN_IF_ERROR(WriteDlqFiles(batch));
  }
}

Result<CommitResult> BronzeWriter::CommitRaw(Sealed* batch) {
  const std::string key = PositionKey(source_name_);
  for (int round = 1;; ++round) {
    CommitRequest req = AppendRequest(batch->raw_files, key, batch->position);
    bool fenced = false;
    if (fence_ == BronzeFence::kKafkaOffsets) {
      req.validate = [&, min = RawMinOffsets(*batch)](const SnapshotInfo* current) -> Status {
        raw_committed_.Update(*raw_, current);
        for (size_t p = 0; p < min.size(); ++p) {
          const std::string& partition = batch->partitions.name(static_cast<int32_t>(p));
          if (int64_t next = raw_committed_.next_offset(partition); min[p] < next) {
            fenced = true;
            return FenceConflict("bronze.raw_events", partition, min[p], next);
          }
        }
        return Status::OK();
      };
    } else {
      const std::string expected = batch->base_position;
      req.validate = [this, key, expected](const SnapshotInfo*) -> Status {
        // Fence: another writer of this source advanced the position.
        auto snap = raw_->LatestSnapshotWithSummary(key);
        std::string current = snap ? snap->summary.at(key) : std::string();
        if (current != expected) {
          return Status::Conflict("another bronze writer advanced source " + source_name_ + " to " + current);
        }
        return Status::OK();
      };
    }
    Result<CommitResult> r = raw_->Commit(req);
    if (r.ok() || !fenced || round == kMaxFenceRounds) return r;
    CatchUp(raw_.get(), &raw_committed_);
    const size_t dropped =
        DropFencedRaw(batch, [this](std::string_view partition) { return raw_committed_.next_offset(partition); });
    batch->fenced_rows += static_cast<int64_t>(dropped);
    log::Warn("bronze", "{}; dropped {} rows another consumer already landed", r.status().message(), dropped);
    // The files written so far are orphans now (maintenance deletes them).
    batch->raw_files.clear();
    WS_RETURN_IF_ERROR(WriteRawFiles(batch));
  }
}

bool BronzeWriter::commit_landed() const {
  return in_flight_ && in_flight_->landed.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

Result<BronzeCommitInfo> BronzeWriter::FinishCommit() {
  if (!in_flight_) return BronzeCommitInfo{};
  std::unique_ptr<Sealed> batch = std::move(in_flight_);
  Result<BronzeCommitInfo> landed = batch->landed.get();
  return Conclude(std::move(batch), std::move(landed));
}

Result<BronzeCommitInfo> BronzeWriter::StartCommit(const std::string& position) {
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo done, FinishCommit());
  std::unique_ptr<Sealed> batch = Seal(position, /*force_position=*/false);
  if (batch) {
    Sealed* b = batch.get();
    b->landed = std::async(std::launch::async, [this, b] { return Land(b); });
    in_flight_ = std::move(batch);
  }
  return done;
}

Result<BronzeCommitInfo> BronzeWriter::Commit(const std::string& position, bool force_position) {
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo info, FinishCommit());
  std::unique_ptr<Sealed> batch = Seal(position, force_position);
  if (!batch) return info;
  Result<BronzeCommitInfo> landed = Land(batch.get());
  WS_ASSIGN_OR_RETURN(BronzeCommitInfo now, Conclude(std::move(batch), std::move(landed)));
  if (info.snapshot_id == 0 && info.rows == 0 && info.dlq_rows == 0) return now;
  now.rows += info.rows;
  now.dlq_rows += info.dlq_rows;
  now.files += info.files;
  if (now.snapshot_id == 0) now.snapshot_id = info.snapshot_id;
  now.duration_us = std::max(now.duration_us, info.duration_us);
  return now;
}

}  // namespace ws::ingest
