// PipelineService: what `wikistream run` runs — the ingest loop under a
// supervisor, and the scheduler of batch cycles — as one testable type.
//
// Contract (docs/operations.md, "The pipeline service"):
// - Start() opens the first ingest session (the source at the position
//   bronze committed); its error is a start-up error. Run() then runs the
//   supervisor on a thread of its own and the scheduler on the calling
//   thread, and returns an Outcome when it is over.
// - Supervisor: a session whose loop fails (a commit kept failing) is
//   replaced by a fresh one from the committed position after a backoff of
//   2 s, 4 s, ... 60 s (the n-th failure in a row waits min(60, 2^n) s; a
//   session that committed anything resets the count). Each failure raises
//   an `ingest` CRITICAL alert for the source. With max_failures_in_a_row
//   > 0 (`--once`) the supervisor gives up at that many failures in a row:
//   Run() returns the last error and exit code 1; nothing committed is lost,
//   the uncommitted rest is read again by the next run.
// - Scheduler: every tick (1 s) it publishes the loop's metrics, calls
//   on_tick, and on a live source raises an `ingest` WARNING alert when no
//   event arrived for stall_after (5 min); the alert sink's key (kind,
//   source, date) keeps that to one alert per source and day. Unless
//   `once`, it runs a cycle every batch_interval, measured from the end of
//   the previous one; RunCycleNow() (the admin endpoint) runs one at once.
//   Cycles never overlap. After a scheduled cycle, maintenance runs when
//   due every maintain_interval_us (0 = never; MaintenanceSchedule in
//   batch_runner.h), serialized with cycles (admin ones too); its failure
//   is logged and counted and never stops the service.
// - A finite source that ends: with `once`, exactly one cycle runs after
//   the last commit and Run() returns with the report line (exit 1 if a
//   stage or gate failed); without it, the service keeps scheduling cycles
//   until stopped.
// - Stop() (any thread, e.g. SIGTERM): the source stops, the loop commits
//   what it buffered together with the position and Run() returns exit 0.
//   If that last commit cannot land (a full disk), nothing is lost either —
//   the position did not advance, the next run reads those events again —
//   so a requested stop still exits 0, with a warning naming the error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/runtime/clock.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/sources.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

struct PipelineServiceOptions {
  std::string source_label;    // the `--source` text: logs, stall alerts
  std::string position_name;   // PositionName(spec): where bronze keeps the position
  ingest::IngestLoopOptions loop;
  bool live_source = false;    // stall detection
  bool once = false;
  int max_failures_in_a_row = 0;  // 0: restart forever
  int64_t batch_interval_us = 30 * 1000000LL;
  int64_t maintain_interval_us = 0;  // 0: no scheduled maintenance
  int64_t tick_us = 1000000;
  int64_t stall_after_us = 300 * 1000000LL;
  int64_t max_backoff_us = 60 * 1000000LL;
};

struct PipelineServiceDeps {
  Clock* clock = nullptr;  // SystemClock() in production
  warehouse::Warehouse* warehouse = nullptr;
  std::function<Result<std::unique_ptr<source::Source>>()> open_source;
  // One cycle of every stage; the service serializes the calls. An error:
  // the cycle could not start (e.g. the batch lock).
  std::function<Result<batch::CycleReport>()> run_cycle;
  // Warehouse maintenance (BatchRunner::Maintain); needed when
  // maintain_interval_us > 0. The service serializes it with cycles.
  std::function<Result<std::string>()> run_maintenance;
  alerts::AlertSink* alerts = nullptr;
  IngestMetrics* metrics = nullptr;  // optional
  std::function<void()> on_tick;     // optional: e.g. the live summary
};

class PipelineService {
 public:
  struct Outcome {
    int exit_code = 0;
    std::string error;            // one line when exit_code != 0
    bool stopped = false;         // Stop() was called
    ingest::IngestLoopStats ingest;  // the last session's
    std::optional<batch::CycleReport> once_cycle;
    std::string once_report;      // `--once`: the summary line
  };

  PipelineService(PipelineServiceOptions options, PipelineServiceDeps deps);
  ~PipelineService();
  PipelineService(const PipelineService&) = delete;
  PipelineService& operator=(const PipelineService&) = delete;

  Status Start();
  Outcome Run();
  void Stop();

  Result<batch::CycleReport> RunCycleNow();
  bool ingest_healthy() const { return healthy_.load(); }
  ingest::IngestLoopStats ingest_stats() const;
  // {"source", "ingest": {...}, "batch": {"last_cycle", "ok"}} for /api/pipeline.
  std::string StatusJson() const;
  // Frees what only ingest needs (the event-id index); after Run().
  void ReleaseIngestMemory();

 private:
  void Supervise();
  // Records how ingest ended and wakes the scheduler.
  void IngestDone(Status status, bool gave_up);
  // Waits up to `micros` on the clock; true when stopping.
  bool WaitOrStop(int64_t micros);
  int64_t Backoff(int failures) const;
  void RaiseRestartAlert(const Status& error, int failures, bool giving_up);
  void Tick();
  void CheckStall(const ingest::IngestLoopStats& stats);
  Result<batch::CycleReport> RunCycle();
  std::string OnceReport(const batch::CycleReport& report, int64_t ingest_us, int64_t batch_us) const;

  PipelineServiceOptions options_;
  PipelineServiceDeps deps_;
  std::string source_name_;  // the source's kind (Source::name()): restart alerts

  mutable std::mutex mu_;  // guards session_, stop_, ingest_done_, ingest_status_, gave_up_
  std::condition_variable cv_;
  std::unique_ptr<IngestSession> session_;
  bool stop_requested_ = false;
  std::atomic<bool> stop_{false};  // the loop's stop flag
  bool ingest_done_ = false;
  Status ingest_status_;
  bool gave_up_ = false;
  std::atomic<bool> healthy_{true};
  std::thread supervisor_;

  std::mutex cycle_mu_;  // one cycle at a time
  mutable std::mutex last_cycle_mu_;
  std::string last_cycle_summary_;
  bool last_cycle_ok_ = true;

  int64_t started_us_ = 0;        // monotonic, when Run() started ingest
  int64_t last_activity_us_ = 0;  // monotonic: start, or the tick that saw the last new event
  int64_t last_event_seen_us_ = 0;  // the loop's last_event_at_us at that tick
};

}  // namespace ws::runtime
