#include "wikistream/ingest/ingest_loop.h"

#include <thread>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using source::Source;
using source::SourceRecord;

IngestLoop::IngestLoop(Source* source, BronzeWriter* writer, IngestLoopOptions options)
    : source_(source), writer_(writer), options_(std::move(options)) {
  int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) ingestors_.emplace_back(options_.domains, source_->name());
}

IngestLoop::~IngestLoop() = default;

IngestLoopStats IngestLoop::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  IngestLoopStats s = stats_;
  s.counters = IngestCounters();
  for (const auto& ing : ingestors_) s.counters.Merge(ing.counters());
  s.counters.duplicate = duplicates_;
  return s;
}

Status IngestLoop::IngestBatch(std::vector<SourceRecord>* records) {
  const int64_t started = MonotonicMicros();
  const size_t n = records->size();
  const size_t workers = std::min(ingestors_.size(), std::max<size_t>(1, n / 1024));
  std::vector<RecordBatch> accepted, dlq;
  // Kafka records carry the offsets the bronze writer fences on.
  const bool with_positions = source_->kind() == model::SourceKind::kKafka;
  std::vector<std::vector<std::string_view>> positions(workers);
  for (size_t w = 0; w < workers; ++w) {
    accepted.emplace_back(bronze::RawEventsSchema());
    dlq.emplace_back(bronze::DlqEventsSchema());
  }
  auto work = [&](size_t w) {
    size_t begin = n * w / workers, end = n * (w + 1) / workers;
    accepted[w].Reserve(end - begin);
    // The raw payloads are most of a batch's bytes: one allocation for them.
    size_t payload_bytes = 0;
    for (size_t i = begin; i < end; ++i) payload_bytes += (*records)[i].payload.size();
    accepted[w].column(bronze::kRaw).Reserve(end - begin, payload_bytes);
    for (size_t i = begin; i < end; ++i) {
      if (ingestors_[w].Ingest((*records)[i], &accepted[w], &dlq[w]) == IngestOutcome::kAccepted && with_positions) {
        positions[w].push_back((*records)[i].position);
      }
    }
  };
  // Worker batches go to the writer in order (no merge copy); the first
  // while the other workers are still busy with theirs.
  Status added;
  {
    // Counters are read by stats() on other threads.
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
    work(0);
    added = writer_->AddRows(&accepted[0], &dlq[0], options_.on_rows, with_positions ? &positions[0] : nullptr);
    for (auto& t : threads) t.join();
    stats_.polled += static_cast<int64_t>(n);
    if (n > 0) stats_.last_event_at_us = records->back().received_at_us;
  }
  WS_RETURN_IF_ERROR(added);
  for (size_t w = 1; w < workers; ++w) {
    WS_RETURN_IF_ERROR(writer_->AddRows(&accepted[w], &dlq[w], options_.on_rows, with_positions ? &positions[w] : nullptr));
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.parse_us += MonotonicMicros() - started;
  // The writer is this thread's: stats() reads the copy, under mu_.
  duplicates_ = writer_->duplicates();
  return Status::OK();
}

std::optional<Status> IngestLoop::CommitNow(bool force_position, bool* deferred) {
  const int64_t started = MonotonicMicros();
  *deferred = false;
  // After a failure, commit synchronously until one lands: a failing disk
  // or catalog is then seen at every commit point, not one point later.
  if (!options_.pipelined_commits || force_position || stats().commit_failures > 0) {
    return Settle(writer_->Commit(source_->ResumePosition(), force_position), started);
  }
  std::optional<Status> landed;
  if (writer_->commit_in_flight()) {
    // A slow store (an object store far away) makes landing slower than
    // parsing: keep filling the buffer instead of waiting, so that the next
    // batch is bigger and the store's round trips are paid fewer times.
    if (!writer_->commit_landed() && writer_->buffered_bytes() < options_.max_buffered_bytes) {
      *deferred = true;
      return std::nullopt;
    }
    landed = Settle(writer_->FinishCommit(), started);
    if (!landed->ok()) return landed;  // its rows are back in the buffer: the next commit point retries
  }
  // Nothing is in flight now, so starting only seals and starts landing:
  // whether this batch lands is known when it is finished. Should starting
  // fail anyway, it is settled as a failed commit.
  Result<BronzeCommitInfo> start = writer_->StartCommit(source_->ResumePosition());
  if (!start.ok()) return Settle(start, started);
  return landed;
}

Status IngestLoop::Settle(const Result<BronzeCommitInfo>& r, int64_t started_us) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.commit_us += MonotonicMicros() - started_us;
  stats_.fenced_rows = writer_->fenced_rows();
  stats_.fenced_dlq_rows = writer_->fenced_dlq_rows();
  if (!r.ok()) {
    ++stats_.commit_failures;
    stats_.last_error = r.status().ToString();
    log::Warn("bronze", "commit failed (buffer kept, will retry): {}", r.status().ToString());
    return r.status();
  }
  stats_.commit_failures = 0;
  if (r->snapshot_id != 0 || r->dlq_rows > 0) {
    ++stats_.commits;
    stats_.committed_rows += r->rows;
    stats_.committed_dlq_rows += r->dlq_rows;
    stats_.last_commit_at_us = NowMicros();
    log::Debug("bronze", "committed {} rows, {} dlq rows in {} files ({} ms)", r->rows, r->dlq_rows, r->files,
               r->duration_us / 1000);
    if (options_.on_commit) options_.on_commit(*r);
  }
  return Status::OK();
}

Status IngestLoop::Run(const std::atomic<bool>& stop) {
  std::vector<SourceRecord> records;
  int64_t last_commit = MonotonicMicros();
  const int64_t interval_us = static_cast<int64_t>(options_.commit_interval_s * 1e6);
  int consecutive_failures = 0;
  bool ended = false;
  // Only a commit that landed or failed counts; starting a pipelined one does not.
  auto count_failure = [&](const std::optional<Status>& outcome) -> Status {
    if (!outcome) return Status::OK();
    const Status& s = *outcome;
    if (s.ok()) {
      consecutive_failures = 0;
    } else {
      ++consecutive_failures;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.commit_failures_in_a_row = consecutive_failures;
    }
    if (consecutive_failures >= options_.max_commit_failures) {
      return Status::IOError("bronze commit failed " + std::to_string(consecutive_failures) +
                             " times in a row: " + stats().last_error);
    }
    return Status::OK();
  };
  while (!stop.load() && !ended) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.iterations;
    }
    if (writer_->commit_landed()) {
      // Take a batch's outcome as soon as it has landed, not at the next commit point.
      const int64_t started = MonotonicMicros();
      WS_RETURN_IF_ERROR(count_failure(Settle(writer_->FinishCommit(), started)));
    }
    if (static_cast<int64_t>(writer_->uncommitted_rows()) < options_.max_buffered_events) {
      records.clear();
      Status s = source_->Poll(&records, options_.poll_batch, std::chrono::milliseconds(200));
      if (!records.empty()) WS_RETURN_IF_ERROR(IngestBatch(&records));
      if (s.code() == Status::Code::kEndOfStream) {
        ended = true;
      } else if (s.code() == Status::Code::kCancelled) {
        break;
      } else if (!s.ok() && s.code() != Status::Code::kTimeout) {
        log::Warn("ingest", "source error: {}", s.ToString());
        std::lock_guard<std::mutex> lock(mu_);
        stats_.last_error = s.ToString();
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // commit is failing: wait for it
    }
    const int64_t now = MonotonicMicros();
    if (static_cast<int64_t>(writer_->buffered_rows()) >= options_.commit_max_events ||
        now - last_commit >= interval_us || writer_->buffered_bytes() >= options_.commit_max_bytes) {
      bool deferred = false;
      WS_RETURN_IF_ERROR(count_failure(CommitNow(false, &deferred)));
      // A deferred commit point stays due: it starts once the batch before has landed.
      if (!deferred) last_commit = MonotonicMicros();
    }
  }
  // Final commit (end of input, or shutdown): also records the position.
  Status last;
  for (int attempt = 0; attempt < options_.max_commit_failures; ++attempt) {
    bool deferred = false;
    last = *CommitNow(true, &deferred);
    if (last.ok()) return Status::OK();
    if (attempt + 1 < options_.max_commit_failures) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    }
  }
  return last;
}

}  // namespace ws::ingest
