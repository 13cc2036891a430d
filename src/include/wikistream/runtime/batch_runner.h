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
//   --stage-attempts, --stage-timeout, --threads.
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
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

batch::BatchOptions BatchOptionsFor(const Config& config);

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
  Result<std::string> Maintain(LockWait wait);
  Status Close();

 private:
  std::string warehouse_dir_;
  table::CatalogOptions catalog_;  // the batch lock lives in the catalog's database
  warehouse::Warehouse* warehouse_;
  batch::BatchOptions options_;
  std::unique_ptr<alerts::AlertSink> alerts_;
  std::unique_ptr<batch::BatchCycle> cycle_;
  std::mutex mu_;  // one cycle or maintenance at a time in this process
  bool closed_ = false;
};

// The `batch --every SECONDS` loop: a whole cycle, then a wait of `every_us`
// from its end, until `stop`. A cycle that cannot start because another
// process runs one (Conflict) is skipped; any other error is logged and the
// loop goes on (the next round retries). Each cycle that ran is counted in
// `metrics`. `probes` (docs/operations.md): a beat after each cycle and each
// second of waiting; ready after a cycle that ran or was skipped for a
// Conflict, not ready with the error after one that could not start.
// `wait(ms)` sleeps up to ms and returns true when the process is stopping.
void RunBatchLoop(BatchRunner* runner, int64_t every_us, const std::atomic<bool>& stop, BatchMetrics* metrics,
                  Probes* probes, const std::function<bool(int64_t ms)>& wait);

}  // namespace ws::runtime
