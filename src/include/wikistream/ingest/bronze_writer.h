// BronzeWriter: lands accepted events in bronze.raw_events and rejected
// payloads in bronze.dlq_events, exactly once.
//
// Contract (nothing lost, nothing doubled; docs/operations.md "Exactly-once into bronze"):
// - Open() reads back the resume position the last bronze commit stored
//   under `wikistream.source.<source_name>`; the caller resumes its Source
//   there. Events re-delivered after a crash are dropped by event_id
//   (ingest rule 5, through EventIdIndex loaded from the table), re-DLQ'd
//   payloads by their deterministic dlq_id.
// - Add() takes the rows an EventIngestor produced for a poll, drops
//   duplicates and buffers the rest; it returns the rows kept (for the live
//   aggregator).
// - Commit(position) writes the buffer as Parquet files (one per event
//   hour) and commits DLQ first, then bronze, each snapshot carrying the
//   position and a unique commit id; bronze_processed_at is the commit time.
//   On failure nothing is lost: the buffer is kept and the next Commit
//   retries it (the same rows, a newer position).
// - StartCommit(position) pipelines the same steps: it seals the buffer and
//   lands it on a background thread (Parquet files, then the DLQ and bronze
//   table commits) while the caller keeps adding rows to a fresh buffer. One
//   batch is in flight at most, so snapshots stay in order. What the caller's
//   thread owns (the resume position, the event-id index, the fence
//   counters) takes the outcome in FinishCommit (or the next
//   StartCommit/Commit, which first finish the batch in flight): the
//   background only touches its own sealed batch and the tables. A failed
//   write or commit puts the sealed rows back in front of the buffer, so the
//   next commit retries them as Commit does.
// - Fences (checked inside the catalog's compare-and-swap, on every retry):
//   BronzeFence::kSingleWriter: if another process advanced this source's
//   position since we loaded it, Commit fails with Conflict instead of
//   double-writing. BronzeFence::kKafkaOffsets (consumers of one group
//   sharing the position key): each table only takes records whose offset is
//   at or above the committed next offset of their partition (the maximum
//   over every position stored for the source); the rows below it are
//   already in the table (written by the partition's previous owner), so
//   they are dropped, the files rewritten and the commit retried. They are
//   counted in fenced_rows()/fenced_dlq_rows().
// Not thread-safe: one ingest loop owns a BronzeWriter (the background
// task of StartCommit works on its own sealed batch and the thread-safe
// Tables).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/ingest/kafka_fence.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/ingest/event_id_index.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::ingest {

enum class BronzeFence {
  kSingleWriter,  // one writer owns the source's position (EventStreams, replay, synthetic)
  kKafkaOffsets,  // consumers of one Kafka group; records carry "topic/partition@offset"
};

struct BronzeCommitInfo {
  int64_t rows = 0;
  int64_t dlq_rows = 0;
  int64_t files = 0;
  int64_t snapshot_id = 0;  // 0 when nothing was committed
  int64_t duration_us = 0;
};

class BronzeWriter {
 public:
  // Kafka consumers of one group share the position key, each storing its
  // own map (see AllPositions and MergeKafkaPositions): kKafkaOffsets.
  static Result<std::unique_ptr<BronzeWriter>> Open(warehouse::Warehouse* warehouse,
                                                    const std::string& source_name,
                                                    BronzeFence fence = BronzeFence::kSingleWriter);
  // Every position ever committed for this source, oldest first.
  std::vector<std::string> AllPositions() const;
  // The same, read from the snapshots of a bronze.raw_events table.
  static std::vector<std::string> CommittedPositions(const table::Table& raw, const std::string& source_name);

  static std::string PositionKey(const std::string& source_name) { return "wikistream.source." + source_name; }

  const std::string& resume_position() const { return position_; }
  // Accepted rows (RawEventsSchema) and DLQ rows (DlqEventsSchema) of one
  // poll; both are consumed (cleared). Returns the accepted rows kept.
  Result<format::RecordBatch> Add(format::RecordBatch* accepted, format::RecordBatch* dlq);
  // Same, without copying: `on_kept` (may be empty) sees the kept rows
  // before they are moved into the buffer. `positions` (kKafkaOffsets; may
  // be null) holds the source position of each accepted row, in row order:
  // rows without one are never fenced. (The DLQ rows carry theirs.)
  Status AddRows(format::RecordBatch* accepted, format::RecordBatch* dlq,
                 const std::function<void(const format::RecordBatch&)>& on_kept,
                 const std::vector<std::string_view>* positions = nullptr);
  int64_t duplicates() const { return duplicates_; }
  // Rows the Kafka offset fence dropped because another consumer had
  // already landed them (bronze.raw_events, bronze.dlq_events).
  int64_t fenced_rows() const { return fenced_rows_; }
  int64_t fenced_dlq_rows() const { return fenced_dlq_rows_; }
  // Rows (bronze and DLQ) in the buffer, not yet handed to a commit.
  size_t buffered_rows() const { return buffered_rows_ + dlq_buffer_.num_rows(); }
  size_t buffered_bytes() const { return buffered_bytes_ + dlq_buffer_.ByteSize(); }
  // Rows not yet committed: the buffer plus the batch in flight.
  size_t uncommitted_rows() const { return buffered_rows() + (in_flight_ ? in_flight_->num_rows() : 0); }
  // Commits the buffer (possibly empty: then only when `force_position`,
  // to record how far the source was read, e.g. at shutdown), after the
  // batch in flight if there is one; the info covers both.
  Result<BronzeCommitInfo> Commit(const std::string& position, bool force_position = false);
  // Finishes the batch in flight (waiting for its files), then seals the
  // buffer and starts writing it. Returns what was committed meanwhile.
  Result<BronzeCommitInfo> StartCommit(const std::string& position);
  // Commits the batch in flight, waiting for its files if need be;
  // snapshot_id 0 and no rows when nothing was in flight.
  Result<BronzeCommitInfo> FinishCommit();
  bool commit_in_flight() const { return in_flight_ != nullptr; }
  // A batch is in flight and has landed (or failed): FinishCommit will not wait.
  bool commit_landed() const;
  // Frees what only ingesting needs (the ids of committed hours; reloaded
  // from the table if the writer is used again), e.g. before --once's batch
  // cycle.
  void ReleaseIngestMemory() { index_.ReleaseCommitted(); }

 private:
  // A buffer handed to a commit: its rows, the position it brings bronze
  // to, and what landing it found out. While it is in flight only the
  // background task touches it.
  struct Sealed {
    std::vector<format::RecordBatch> chunks;
    std::vector<std::vector<RowOffset>> offsets;  // per chunk, per row (kKafkaOffsets; else empty)
    KafkaPartitions partitions;  // the names of the ids in `offsets`, as of sealing
    size_t rows = 0;
    format::RecordBatch dlq;
    std::string position;
    std::string base_position;  // the committed position when sealed (kSingleWriter's fence)
    uint64_t index_batch = 0;
    int64_t started_us = 0;
    std::vector<table::DataFile> dlq_files, raw_files;
    bool raw_landed = false;  // the bronze commit (rows or position) succeeded
    int64_t fenced_rows = 0, fenced_dlq_rows = 0;
    std::future<Result<BronzeCommitInfo>> landed;  // valid while it lands in the background
    size_t num_rows() const { return rows + dlq.num_rows(); }
  };

  BronzeWriter(warehouse::Warehouse* w, std::string source_name, std::shared_ptr<table::Table> raw,
               std::shared_ptr<table::Table> dlq);
  BronzeFence fence_ = BronzeFence::kSingleWriter;
  Status Init();
  Status LoadHour(const std::string& date, int32_t hour, std::vector<std::string>* ids);
  // Moves the buffer into a Sealed batch (null when there is nothing to commit).
  std::unique_ptr<Sealed> Seal(const std::string& position, bool force_position);
  // Write the batch's data files of one table; each touches only its part
  // of the batch.
  Status WriteDlqFiles(Sealed* batch);
  Status WriteRawFiles(Sealed* batch);
  // Writes the files and commits them, DLQ first; safe on another thread
  // (touches only the batch and the tables).
  Result<BronzeCommitInfo> Land(Sealed* batch);
  // The caller's side of a landed (or failed) batch: the position, the
  // index and the counters move on, or the rows go back to the buffer.
  Result<BronzeCommitInfo> Conclude(std::unique_ptr<Sealed> batch, Result<BronzeCommitInfo> landed);
  // The two table commits of Land, each under its fence. With
  // kKafkaOffsets, a commit the fence refuses drops the rows the table
  // already holds, rewrites the batch's files and tries again.
  Status CommitDlq(Sealed* batch, BronzeCommitInfo* info);
  Result<table::CommitResult> CommitRaw(Sealed* batch);
  // The smallest offset per partition id of the batch's bronze rows.
  static std::vector<int64_t> RawMinOffsets(const Sealed& batch);
  // Drops the rows below `next_offset(partition)`; returns how many.
  static size_t DropFencedRaw(Sealed* batch, const std::function<int64_t(std::string_view)>& next_offset);
  static size_t DropFencedDlq(Sealed* batch, const std::function<int64_t(std::string_view)>& next_offset);
  void Unseal(std::unique_ptr<Sealed> batch);

  warehouse::Warehouse* warehouse_;
  std::string source_name_;
  std::shared_ptr<table::Table> raw_;
  std::shared_ptr<table::Table> dlq_;
  std::string position_;          // the last committed position
  std::unordered_set<std::string> partitions_with_files_;  // "date/hour" known to hold bronze rows
  std::unordered_set<std::string> dlq_committed_ids_;      // DLQ rows already landed ahead of bronze
  IdKeySet dlq_seen_;                                       // dlq_ids added by this writer
  static constexpr int kDlqOverlapSnapshots = 3;
  static constexpr int64_t kTrimIntervalUs = 2'000'000;
  int64_t last_trim_us_ = 0;  // MonotonicMicros of the last malloc_trim
  EventIdIndex index_;
  // The kept rows of each poll since the last commit, as polled: written to
  // Parquet chunk by chunk, never concatenated (a copy of the whole buffer).
  std::vector<format::RecordBatch> buffer_;
  std::vector<std::vector<RowOffset>> buffer_offsets_;  // parallel to buffer_ (kKafkaOffsets)
  KafkaPartitions partitions_;
  CommittedOffsets raw_committed_, dlq_committed_;  // kKafkaOffsets: the tables' merged positions (used by Land)
  int64_t fenced_rows_ = 0, fenced_dlq_rows_ = 0;
  size_t buffered_rows_ = 0;
  size_t buffered_bytes_ = 0;
  format::RecordBatch dlq_buffer_;
  int64_t duplicates_ = 0;
  std::unique_ptr<Sealed> in_flight_;
};

}  // namespace ws::ingest
