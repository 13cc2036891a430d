// BatchRunner: everything a batch cycle needs, built from the configuration
// in one place for every command that runs one (`run`'s scheduler, `batch`,
// `silver`/`dq`/`gold`, and `serve`'s POST /api/admin/batch).
//
// Contract:
// - The runner owns the process's one AlertSink: it delivers to
//   --alert-webhook, and at construction every alert key ops.alerts holds
//   from two days back is marked raised, so an alert recorded by an earlier
//   process (or an earlier command) is never raised or posted again.
// - The cycle's options come from the configuration (BatchOptionsFor):
//   --stage-attempts, --stage-timeout, --threads; Maintain()'s policy too
//   (MaintenancePolicyFor: --snapshot-retention, --retain-snapshots,
//   --compact-min-files, --compact-small-file-mb).
// - Run() and Maintain() hold DIR/.batch.lock for their work: with
//   LockWait::kWait they wait for a running cycle (of this process or
//   another), with kFail they fail at once with Conflict while one runs.
//   Run() checks the lock before each stage: a cycle that lost it (its
//   PostgreSQL session ended) stops there, reported by CycleReport::stopped.
// - Close() waits (bounded) for webhook deliveries in flight and appends
//   every alert not yet recorded to ops.alerts; call it once, last.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/model/stage.h"
#include "wikistream/runtime/config.h"
#include "wikistream/warehouse/maintenance.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

batch::BatchOptions BatchOptionsFor(const Config& config);
warehouse::MaintenancePolicy MaintenancePolicyFor(const Config& config);

class BatchMetrics;
class Probes;

enum class LockWait { kWait, kFail };

class BatchRunner {
 public:
  // `stop` (may be null) cancels a running stage before its next commit.
  BatchRunner(const Config& config, warehouse::Warehouse* warehouse, const std::atomic<bool>* stop);
  ~BatchRunner();
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  alerts::AlertSink& alerts() { return *alerts_; }
  const batch::BatchOptions& options() const { return options_; }

  // No stage: the whole cycle; else that stage only (batch::BatchCycle::Run).
  Result<batch::CycleReport> Run(std::optional<model::StageName> only, LockWait wait);
  // `progress` (may be empty): warehouse::MaintainWarehouse's.
  Result<std::string> Maintain(LockWait wait, const std::function<void()>& progress = nullptr);
  Status Close();

 private:
  std::string warehouse_dir_;
  table::CatalogOptions catalog_;  // the batch lock lives in the catalog's database
  warehouse::Warehouse* warehouse_;
  batch::BatchOptions options_;
  warehouse::MaintenancePolicy maintenance_;
  std::unique_ptr<alerts::AlertSink> alerts_;
  std::unique_ptr<batch::BatchCycle> cycle_;
  std::mutex mu_;  // one cycle or maintenance at a time in this process
  bool closed_ = false;
};

// When scheduled maintenance is due (docs/operations.md, "Maintenance"):
// checked after each batch cycle, it runs once `every_us` (0 = never) have
// passed since the previous run ended (or since the schedule was made).
// A run that failed is logged, counted as outcome "failed" and due again
// one interval later; one that found the batch lock taken by another
// process (Conflict) is not counted and is due again after the next cycle.
// Not thread-safe: the caller runs it from its one scheduling thread.
class MaintenanceSchedule {
 public:
  using RecordFn = std::function<void(bool ok)>;
  // `now_us`: a monotonic clock. `record` (may be empty) counts each run.
  MaintenanceSchedule(int64_t every_us, std::function<int64_t()> now_us, RecordFn record);

  bool Due() const;
  // Runs `maintain` if due; true when it ran (whatever the outcome).
  bool RunIfDue(const std::function<Result<std::string>()>& maintain);

 private:
  int64_t every_us_;
  std::function<int64_t()> now_us_;
  RecordFn record_;
  int64_t next_us_;
};

// The `batch --every SECONDS` loop: a whole cycle, then a wait of `every_us`
// from its end, until `stop`. After a cycle, maintenance runs when due every
// `maintain_every_us` (0 = never; MaintenanceSchedule), under the batch lock
// like the cycle and never at the same time. A cycle that cannot start because another
// process runs one (Conflict) is skipped; any other error is logged and the
// loop goes on (the next round retries). Each cycle that ran is counted in
// `metrics`. `probes` (docs/operations.md): each cycle runs within
// Probes::Begin/End with BatchWorkBoundUs(runner->options()) as its budget,
// and so does maintenance, each of its steps (MaintainWarehouse's progress)
// a beat; a beat each second of waiting; ready after a cycle that ran or was skipped for a
// Conflict, not ready with the error after one that could not start.
// `wait(ms)` sleeps up to ms and returns true when the process is stopping.
// How long a batch cycle may run (and a maintenance step take) before the
// loop counts as stuck: its stages' deadlines and retries, 2 · attempts ·
// (stage timeout + 30 s), plus 60 s.
int64_t BatchWorkBoundUs(const batch::BatchOptions& options);

void RunBatchLoop(BatchRunner* runner, int64_t every_us, int64_t maintain_every_us, const std::atomic<bool>& stop,
                  BatchMetrics* metrics, Probes* probes, const std::function<bool(int64_t ms)>& wait);

}  // namespace ws::runtime
