#include "wikistream/runtime/pipeline_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/runtime/batch_runner.h"

namespace ws::runtime {

using batch::CycleReport;
using ingest::IngestLoopStats;
using model::Alert;

PipelineService::PipelineService(PipelineServiceOptions options, PipelineServiceDeps deps)
    : options_(std::move(options)), deps_(std::move(deps)) {
  if (!deps_.clock) deps_.clock = SystemClock();
}

PipelineService::~PipelineService() {
  if (supervisor_.joinable()) {
    Stop();
    supervisor_.join();
  }
}

Status PipelineService::Start() {
  WS_ASSIGN_OR_RETURN(std::unique_ptr<source::Source> source, deps_.open_source());
  WS_ASSIGN_OR_RETURN(std::unique_ptr<IngestSession> session,
                      OpenIngestSession(std::move(source), deps_.warehouse, options_.position_name, options_.loop));
  source_name_ = session->source->name();
  std::lock_guard<std::mutex> lock(mu_);
  session_ = std::move(session);
  if (stop_requested_) session_->source->Stop();
  return Status::OK();
}

void PipelineService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
    stop_ = true;
    if (session_) session_->source->Stop();
  }
  cv_.notify_all();
}

bool PipelineService::WaitOrStop(int64_t micros) {
  std::unique_lock<std::mutex> lock(mu_);
  return deps_.clock->WaitFor(lock, cv_, micros, [this] { return stop_requested_; });
}

int64_t PipelineService::Backoff(int failures) const {
  return std::min<int64_t>(options_.max_backoff_us, int64_t{1000000} << std::min(failures, 6));
}

void PipelineService::IngestDone(Status status, bool gave_up) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ingest_status_ = std::move(status);
    gave_up_ = gave_up;
    ingest_done_ = true;
  }
  cv_.notify_all();
}

void PipelineService::RaiseRestartAlert(const Status& error, int failures, bool giving_up) {
  if (!deps_.alerts) return;
  Alert a;
  a.kind = model::AlertKind::kIngest;
  a.severity = model::AlertSeverity::kCritical;
  a.entity = source_name_;  // the source kind
  a.raised_at_us = deps_.clock->NowMicros();
  a.alert_date = FormatDate(a.raised_at_us);
  a.subject = std::string(giving_up ? "ingest loop failed and gave up: " : "ingest loop failed and is restarting: ") +
              error.ToString();
  a.details = nlohmann::json{{"error", error.ToString()}, {"restarts", failures}}.dump();
  deps_.alerts->Raise(std::move(a));
}

void PipelineService::Supervise() {
  int failures = 0;  // in a row: a session that committed something resets it
  while (true) {
    IngestSession* session;
    {
      std::lock_guard<std::mutex> lock(mu_);
      session = session_.get();
    }
    Status status = session->loop->Run(stop_);
    if (status.ok() || stop_.load()) return IngestDone(std::move(status), false);
    if (session->loop->stats().commits > 0) failures = 0;
    // Replace the session until a fresh one opens, or give up.
    while (true) {
      ++failures;
      healthy_ = false;
      const bool give_up = options_.max_failures_in_a_row > 0 && failures >= options_.max_failures_in_a_row;
      RaiseRestartAlert(status, failures, give_up);
      if (give_up) {
        log::Error("ingest", "ingest loop failed {} times in a row ({}); giving up", failures, status.ToString());
        return IngestDone(std::move(status), true);
      }
      log::Error("ingest", "ingest loop failed ({}); restarting from the committed position", status.ToString());
      if (WaitOrStop(Backoff(failures))) return IngestDone(Status::OK(), false);
      auto source = deps_.open_source();
      auto next = source.ok() ? OpenIngestSession(std::move(source).value(), deps_.warehouse, options_.position_name,
                                                  options_.loop)
                              : Result<std::unique_ptr<IngestSession>>(source.status());
      if (next.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        session_ = std::move(next).value();
        if (stop_requested_) session_->source->Stop();
        healthy_ = true;
        break;
      }
      status = next.status();
      log::Error("ingest", "restart failed: {}", status.ToString());
    }
  }
}

IngestLoopStats PipelineService::ingest_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_ ? session_->loop->stats() : IngestLoopStats{};
}

void PipelineService::ReleaseIngestMemory() {
  std::lock_guard<std::mutex> lock(mu_);
  if (session_) session_->writer->ReleaseIngestMemory();
}

void PipelineService::CheckStall(const IngestLoopStats& stats) {
  const int64_t now = deps_.clock->MonotonicMicros();
  if (stats.last_event_at_us != 0 && stats.last_event_at_us != last_event_seen_us_) {
    last_event_seen_us_ = stats.last_event_at_us;
    last_activity_us_ = now;
  }
  if (!options_.live_source || !deps_.alerts || now - last_activity_us_ <= options_.stall_after_us) return;
  Alert a;
  a.kind = model::AlertKind::kIngest;
  a.severity = model::AlertSeverity::kWarning;
  a.entity = options_.source_label;
  a.raised_at_us = deps_.clock->NowMicros();
  a.alert_date = FormatDate(a.raised_at_us);
  if (deps_.alerts->WasRaised(model::AlertKey(a))) return;
  a.subject = fmt::format("ingest stalled: no events received for {} minutes", options_.stall_after_us / 60000000);
  a.details = nlohmann::json{{"last_event_at", last_event_seen_us_ ? FormatIso8601(last_event_seen_us_) : ""}}.dump();
  deps_.alerts->Raise(std::move(a));
}

void PipelineService::Tick() {
  IngestLoopStats stats = ingest_stats();
  if (deps_.metrics) deps_.metrics->Update(stats);
  if (deps_.on_tick) deps_.on_tick();
  CheckStall(stats);
}

Result<CycleReport> PipelineService::RunCycle() {
  std::lock_guard<std::mutex> cycle_lock(cycle_mu_);
  const int64_t t0 = deps_.clock->MonotonicMicros();
  Result<CycleReport> report = deps_.run_cycle();
  const double seconds = static_cast<double>(deps_.clock->MonotonicMicros() - t0) / 1e6;
  const bool ok = report.ok() && report->ok;
  if (deps_.metrics) deps_.metrics->RecordBatchCycle(ok, seconds, report.ok() ? report->silver_rows_added : 0);
  std::string summary = report.ok() ? report->Summary() : "batch cycle not run: " + report.status().ToString();
  if (ok) {
    log::Info("batch", "{}", summary);
  } else {
    log::Warn("batch", "{}", summary);
  }
  std::lock_guard<std::mutex> lock(last_cycle_mu_);
  last_cycle_summary_ = std::move(summary);
  last_cycle_ok_ = ok;
  return report;
}

Result<CycleReport> PipelineService::RunCycleNow() { return RunCycle(); }

PipelineService::Outcome PipelineService::Run() {
  started_us_ = deps_.clock->MonotonicMicros();
  last_activity_us_ = started_us_;
  supervisor_ = std::thread([this] { Supervise(); });

  int64_t next_cycle = started_us_ + options_.batch_interval_us;
  MaintenanceSchedule maintenance(
      deps_.run_maintenance ? options_.maintain_interval_us : 0, [this] { return deps_.clock->MonotonicMicros(); },
      [this](bool ok) {
        if (deps_.metrics) deps_.metrics->RecordMaintenance(ok);
      });
  // Without --once a finite source that has been read to its end leaves the
  // service scheduling cycles until it is stopped, like a drained live stream.
  bool announced_drained = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_ && !(ingest_done_ && (options_.once || gave_up_))) {
    if (ingest_done_ && !announced_drained) {
      announced_drained = true;
      log::Info("app", "source {} is exhausted; still serving and running batch cycles until interrupted",
                options_.source_label);
    }
    deps_.clock->WaitFor(lock, cv_, options_.tick_us,
                         [&] { return stop_requested_ || (ingest_done_ && !announced_drained); });
    if (stop_requested_) break;
    lock.unlock();
    Tick();
    if (!options_.once && deps_.clock->MonotonicMicros() >= next_cycle) {
      (void)RunCycle();  // logged and published by RunCycle; the next one is due regardless
      if (!stop_.load()) {
        std::lock_guard<std::mutex> cycle_lock(cycle_mu_);  // no admin cycle meanwhile
        maintenance.RunIfDue(deps_.run_maintenance);
      }
      next_cycle = deps_.clock->MonotonicMicros() + options_.batch_interval_us;
    }
    lock.lock();
  }
  lock.unlock();
  supervisor_.join();

  Outcome out;
  out.ingest = ingest_stats();
  if (deps_.metrics) deps_.metrics->Update(out.ingest);
  lock.lock();
  out.stopped = stop_requested_;
  const Status ingest_status = ingest_status_;
  const bool gave_up = gave_up_;
  lock.unlock();
  if (gave_up) {
    out.exit_code = 1;
    out.error = fmt::format("ingest failed {} times in a row, giving up: {}", options_.max_failures_in_a_row,
                            ingest_status.ToString());
    return out;
  }
  if (!ingest_status.ok()) {
    // Only a stop gets here: its final commit failed. The position did not
    // advance with it, so the next run reads those events again.
    log::Warn("ingest", "the final commit failed ({}); the uncommitted events will be read again on the next start",
              ingest_status.ToString());
  }
  if (options_.once && !out.stopped) {
    ReleaseIngestMemory();  // the batch cycle needs the memory, ingest is over
    const int64_t t0 = deps_.clock->MonotonicMicros();
    Result<CycleReport> report = RunCycle();
    const int64_t batch_us = deps_.clock->MonotonicMicros() - t0;
    out.once_cycle = report.ok() ? *report : CycleReport{};
    if (!report.ok()) out.once_cycle->ok = false;
    out.once_report = OnceReport(*out.once_cycle, t0 - started_us_, batch_us);
    if (!out.once_cycle->ok) {
      out.exit_code = 1;
      out.error = report.ok() ? "the batch cycle failed: " + report->Summary() : report.status().ToString();
    }
  }
  return out;
}

std::string PipelineService::OnceReport(const CycleReport& report, int64_t ingest_us, int64_t batch_us) const {
  const IngestLoopStats& s = ingest_stats();
  return fmt::format(
      "{} events polled, {} accepted, {} duplicates, {} dlq, {} filtered, {} canary; stage seconds: ingest {:.3f} "
      "(rules {:.3f}, bronze writes {:.3f}), silver {:.3f}, gold {:.3f}, dq {:.3f}, batch total {:.3f}",
      s.polled, s.counters.accepted, s.counters.duplicate, s.counters.dlq_total(), s.counters.filtered,
      s.counters.canary, ingest_us / 1e6, s.parse_us / 1e6, s.commit_us / 1e6, report.silver_us / 1e6,
      report.gold_us / 1e6, report.dq_us / 1e6, batch_us / 1e6);
}

std::string PipelineService::StatusJson() const {
  const IngestLoopStats st = ingest_stats();
  nlohmann::json j;
  j["source"] = options_.source_label;
  j["ingest"] = {{"healthy", healthy_.load()},
                 {"polled", st.polled},
                 {"accepted", st.counters.accepted},
                 {"duplicate", st.counters.duplicate},
                 {"filtered", st.counters.filtered},
                 {"canary", st.counters.canary},
                 {"dlq", st.counters.dlq_total()},
                 {"commits", st.commits},
                 {"committed_rows", st.committed_rows},
                 {"last_commit_at", st.last_commit_at_us ? FormatIso8601(st.last_commit_at_us) : ""},
                 {"last_error", st.last_error}};
  std::lock_guard<std::mutex> lock(last_cycle_mu_);
  j["batch"] = {{"last_cycle", last_cycle_summary_}, {"ok", last_cycle_ok_}};
  return j.dump();
}

}  // namespace ws::runtime
