#include "wikistream/runtime/batch_runner.h"

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/warehouse/batch_lock.h"
#include "wikistream/warehouse/maintenance.h"
#include "wikistream/warehouse/ops_tables.h"

namespace ws::runtime {

using warehouse::BatchLock;

namespace {

// Alerts dated up to two days back can still be raised again (a late risk
// score for yesterday); older keys cannot recur.
constexpr int64_t kRaisedKeysLookbackUs = 2 * kMicrosPerDay;

}  // namespace

batch::BatchOptions BatchOptionsFor(const Config& config) {
  batch::BatchOptions o;
  o.stage_attempts = config.stage_attempts;
  o.stage_timeout_s = config.stage_timeout_s;
  o.threads = WorkerThreads(config);
  return o;
}

warehouse::MaintenancePolicy MaintenancePolicyFor(const Config& config) {
  warehouse::MaintenancePolicy p;
  p.compact_min_files = config.compact_min_files;
  p.compact_max_mean_file_bytes = static_cast<int64_t>(config.compact_small_file_mb * (1 << 20));
  p.expire_snapshots_older_than_ms = static_cast<int64_t>(config.snapshot_retention_s * 1000);
  p.retain_last_snapshots = config.retain_snapshots;
  return p;
}

BatchRunner::BatchRunner(const Config& config, warehouse::Warehouse* warehouse, const std::atomic<bool>* stop)
    : warehouse_dir_(config.warehouse),
      catalog_(CatalogOf(config)),
      warehouse_(warehouse),
      options_(BatchOptionsFor(config)),
      maintenance_(MaintenancePolicyFor(config)),
      alerts_(std::make_unique<alerts::AlertSink>(config.alert_webhook)) {
  if (Status s = batch::LoadRaisedAlertKeys(warehouse, alerts_.get(), FormatDate(NowMicros() - kRaisedKeysLookbackUs));
      !s.ok()) {
    log::Warn("batch", "could not read ops.alerts (alerts already raised may be raised again): {}", s.ToString());
  }
  cycle_ = std::make_unique<batch::BatchCycle>(warehouse, alerts_.get(), options_, stop);
}

BatchRunner::~BatchRunner() {
  if (!closed_) alerts_->Shutdown();
}

namespace {

// Both locks for one piece of batch work: this process's, then the warehouse's.
Result<std::unique_ptr<BatchLock>> Lock(std::mutex& mu, std::unique_lock<std::mutex>* held,
                                        const std::string& dir, const table::CatalogOptions& catalog, LockWait wait) {
  *held = std::unique_lock<std::mutex>(mu, std::defer_lock);
  if (wait == LockWait::kWait) {
    held->lock();
  } else if (!held->try_lock()) {
    return Status::Conflict("a batch cycle or maintenance is already running in this process");
  }
  return BatchLock::Acquire(dir, wait == LockWait::kWait, catalog);
}

}  // namespace

Result<batch::CycleReport> BatchRunner::Run(std::optional<model::StageName> only, LockWait wait) {
  std::unique_lock<std::mutex> held;
  WS_ASSIGN_OR_RETURN(auto lock, Lock(mu_, &held, warehouse_dir_, catalog_, wait));
  return cycle_->Run(only, [&lock] { return lock->Check(); });
}

Result<std::string> BatchRunner::Maintain(LockWait wait, const std::function<void()>& progress) {
  std::unique_lock<std::mutex> held;
  WS_ASSIGN_OR_RETURN(auto lock, Lock(mu_, &held, warehouse_dir_, catalog_, wait));
  return warehouse::MaintainWarehouse(warehouse_, maintenance_, progress);
}

Status BatchRunner::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  alerts_->Shutdown();
  // Alerts raised after the last cycle recorded them (by the live path, the
  // ingest supervisor, or still in webhook delivery then) land now.
  std::vector<model::Alert> pending = alerts_->TakePending();
  if (pending.empty()) return Status::OK();
  return warehouse::AppendAlerts(warehouse_, pending);
}

MaintenanceSchedule::MaintenanceSchedule(int64_t every_us, std::function<int64_t()> now_us, RecordFn record)
    : every_us_(every_us), now_us_(std::move(now_us)), record_(std::move(record)), next_us_(now_us_() + every_us) {}

bool MaintenanceSchedule::Due() const { return every_us_ > 0 && now_us_() >= next_us_; }

bool MaintenanceSchedule::RunIfDue(const std::function<Result<std::string>()>& maintain) {
  if (!Due()) return false;
  Result<std::string> r = maintain();
  if (!r.ok() && r.status().IsConflict()) {
    // Another process holds the batch lock; not a failure of maintenance.
    log::Info("maintain", "skipping maintenance until after the next cycle: {}", r.status().message());
    return true;
  }
  if (r.ok()) {
    log::Info("maintain", "{}", *r);
  } else {
    log::Warn("maintain", "scheduled maintenance failed (retried in {} s): {}", every_us_ / 1000000,
              r.status().ToString());
  }
  if (record_) record_(r.ok());
  next_us_ = now_us_() + every_us_;
  return true;
}

int64_t BatchWorkBoundUs(const batch::BatchOptions& options) {
  return static_cast<int64_t>((2.0 * options.stage_attempts * (options.stage_timeout_s + 30) + 60) * 1e6);
}

void RunBatchLoop(BatchRunner* runner, int64_t every_us, int64_t maintain_every_us, const std::atomic<bool>& stop,
                  BatchMetrics* metrics, Probes* probes, const std::function<bool(int64_t ms)>& wait) {
  MaintenanceSchedule maintenance(maintain_every_us, MonotonicMicros, [metrics](bool ok) {
    if (metrics) metrics->RecordMaintenance(ok);
  });
  const int64_t bound_us = BatchWorkBoundUs(runner->options());
  while (!stop.load()) {
    const int64_t t0 = MonotonicMicros();
    if (probes) probes->Begin("a batch cycle", bound_us);
    Result<batch::CycleReport> report = runner->Run(std::nullopt, LockWait::kFail);
    if (probes) probes->End();
    const double seconds = static_cast<double>(MonotonicMicros() - t0) / 1e6;
    if (report.ok()) {
      if (metrics) metrics->RecordCycle(report->ok, seconds, report->silver_rows_added);
      if (report->ok) {
        log::Info("batch", "{}", report->Summary());
      } else {
        log::Warn("batch", "{}", report->Summary());
      }
      if (probes) probes->SetReady();
    } else if (report.status().IsConflict()) {
      log::Info("batch", "skipping this round: {}", report.status().message());
      if (probes) probes->SetReady();
    } else {
      log::Warn("batch", "batch cycle not run: {}", report.status().ToString());
      if (probes) probes->NotReady("the last batch cycle could not start: " + report.status().message());
    }
    if (!stop.load()) {
      // Maintenance has no deadline of its own: each step it gets through
      // (a partition compacted, a table expired) is progress.
      maintenance.RunIfDue([runner, probes, bound_us] {
        if (probes) probes->Begin("maintenance", bound_us);
        Result<std::string> r = runner->Maintain(LockWait::kFail, [probes] {
          if (probes) probes->Beat();
        });
        if (probes) probes->End();
        return r;
      });
    }
    // The wait runs from the end of the cycle, in steps of a second so the
    // loop's heartbeat keeps going while it waits.
    for (int64_t waited_us = 0; waited_us < every_us && !stop.load(); waited_us += 1000000) {
      if (wait(std::min<int64_t>(1000, (every_us - waited_us + 999) / 1000))) return;
      if (probes) probes->Beat();
    }
  }
}

}  // namespace ws::runtime
