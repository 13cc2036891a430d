// IngestLoop: source → ingest rules → bronze, the heart of `wikistream run`
// and `wikistream bronze`.
//
// Contract: Run() polls the source in bounded batches, applies the ingest
// rules (on up to `threads` threads, each with its own EventIngestor; row
// order is kept), hands the rows to the BronzeWriter (which drops duplicates)
// and the kept rows to `on_rows` (the live aggregator), and commits every
// `commit_interval_s` or `commit_max_events`, whichever comes first (with
// `pipelined_commits`, a commit point seals the buffer and the batch lands
// (files, then table commits) on a background thread while the next polls
// are parsed; a commit point that finds the batch before still landing
// keeps buffering, up to `max_buffered_bytes`, and starts as soon as it
// has landed, so batches land in order). It
// returns OK when the source ends (finite sources: after a final commit) or
// `stop` becomes true (after a final commit that also records the position);
// it returns the error when a commit keeps failing (`max_commit_failures`
// in a row) so the supervisor can restart it from the committed position.
// Memory is bounded: polling pauses while `max_buffered_events` wait for a
// commit. stats() is safe to call from other threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/source/source.h"

namespace ws::ingest {

struct IngestLoopOptions {
  double commit_interval_s = 10;
  int64_t commit_max_events = 100000;
  // Commit early once the buffer holds this many bytes: bounds memory when
  // events are large (the raw payload dominates) or arrive in a flood.
  size_t commit_max_bytes = 32u << 20;
  size_t poll_batch = 4096;
  int threads = 1;
  // Land each commit (Parquet files and table commits) on a background
  // thread while the next polls are parsed (BronzeWriter::StartCommit), one
  // batch at a time and in order. Worth it with a second core.
  bool pipelined_commits = false;
  // Pipelined: while a batch is still landing, the buffer may grow to this
  // many bytes before the commit point waits for it. Bigger batches pay a
  // slow store's round trips less often; this bounds the memory they take.
  size_t max_buffered_bytes = 32u << 20;
  int max_commit_failures = 5;
  int64_t max_buffered_events = 400000;
  model::DomainFilter domains;
  std::function<void(const format::RecordBatch&)> on_rows;  // accepted, deduplicated rows
  std::function<void(const BronzeCommitInfo&)> on_commit;
};

struct IngestLoopStats {
  IngestCounters counters;
  int64_t polled = 0;
  int64_t commits = 0;
  int64_t committed_rows = 0;
  int64_t committed_dlq_rows = 0;
  // Rows the Kafka offset fence dropped: another consumer had landed them.
  int64_t fenced_rows = 0;
  int64_t fenced_dlq_rows = 0;
  int64_t commit_failures = 0;
  int64_t commit_failures_in_a_row = 0;  // 0 once a commit lands (readiness)
  int64_t iterations = 0;  // passes of the loop, idle polls included (liveness)
  int64_t last_commit_at_us = 0;  // wall clock
  int64_t last_event_at_us = 0;   // wall clock of the last polled record
  int64_t parse_us = 0;           // time spent in the ingest rules
  int64_t commit_us = 0;          // time spent writing and committing
  std::string last_error;
};

class IngestLoop {
 public:
  IngestLoop(source::Source* source, BronzeWriter* writer, IngestLoopOptions options);
  ~IngestLoop();
  Status Run(const std::atomic<bool>& stop);
  IngestLoopStats stats() const;

 private:
  Status IngestBatch(std::vector<source::SourceRecord>* records);
  // The outcome of the commit that landed or failed, if one did (a
  // pipelined commit point may only start one). `deferred`: the commit point
  // found the batch before still landing and left the buffer filling.
  std::optional<Status> CommitNow(bool force_position, bool* deferred);
  // Books a commit attempt's outcome (stats, callback, failure count).
  Status Settle(const Result<BronzeCommitInfo>& r, int64_t started_us);

  source::Source* source_;
  BronzeWriter* writer_;
  IngestLoopOptions options_;
  std::vector<EventIngestor> ingestors_;
  mutable std::mutex mu_;
  IngestLoopStats stats_;
  int64_t duplicates_ = 0;  // the writer's count, copied under mu_ after each batch
};

}  // namespace ws::ingest
