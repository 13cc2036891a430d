// BatchCycle: silver → silver gate → gold → gold gate over a warehouse, the
// unit the scheduler in `wikistream run` repeats and `wikistream batch` runs
// once (docs/pipeline.md).
//
// Contract:
// - Silver reads only the bronze files appended since the bronze snapshot
//   recorded in silver's last snapshot summary (`wikistream.bronze-snapshot`),
//   drops event_ids silver already holds, runs the silver gate on the rows it
//   would add and commits them only if the gate passes (write-audit-publish).
// - Gold recomputes the dates whose silver partitions changed since the
//   silver snapshot recorded in the gold tables (`wikistream.silver-snapshot`),
//   plus the next date, runs the gold gate on the result and only then
//   replaces those partitions, one overwrite commit per table.
// - DQ results and profiles go to dq_audit.*, every stage attempt to
//   ops.pipeline_runs, raised alerts to ops.alerts (the writers of
//   warehouse/ops_tables.h). A failed gate publishes nothing and raises a
//   `dq` alert, a stage failing after its retries a `pipeline` alert, a
//   recomputed HIGH risk score a `risk` alert; each at most once per (kind,
//   entity, date) (model::AlertKey), checked against ops.alerts for that
//   date before it is raised; the next cycle runs normally.
// - What the silver gate needs to know it finds in the data: whether rows
//   come from a live source (the bronze `source` column: the ingest-lag check
//   only measures those), and the volumes of the last silver runs (the
//   SUCCEEDED silver rows of ops.pipeline_runs, read once per BatchCycle,
//   then kept up to date in memory), so a `wikistream batch` from cron
//   audits as a long-running `run` does.
// - A stage checks its deadline before each commit, dq_audit's included.
// - With no new input a cycle changes no silver or gold row (stages SKIPPED).
// - Only one cycle runs against a warehouse at a time: the caller holds
//   warehouse::BatchLock (DIR/.batch.lock) for the cycle and passes its
//   Check() as `still_held`, called before each stage and before each of
//   silver's chunk commits and gold's table commits: when it fails (a
//   PostgreSQL session holding the lock was lost, so another process may
//   now run a cycle) the cycle stops there — nothing more is committed, the
//   stage is not retried, no later stage runs — and the report says why
//   (`stopped`, ok = false).
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/batch/stage_runner.h"
#include "wikistream/common/hash.h"
#include "wikistream/model/stage.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::batch {

// Silver cuts its input at the first bronze snapshot boundary past this many
// rows: one audited, committed unit, so a backlog of any size is processed in
// bounded memory (a bronze commit's rows are bounded too). Each of the
// default bronze commits (100k events, ~62k rows) is usually one chunk.
inline constexpr int64_t kSilverChunkRows = 40000;

struct BatchOptions {
  int stage_attempts = 3;
  double stage_timeout_s = 300;
  int64_t backoff_base_ms = 1000;
  int threads = 1;  // > 1: silver audits and prefetches beside its writes; gold passes run in parallel
  int64_t silver_chunk_rows = kSilverChunkRows;  // tests cut small inputs into several chunks
};

struct CycleReport {
  std::string cycle_id;
  bool ok = true;                 // no stage failed, no gate failed
  bool silver_gate_failed = false;
  bool gold_gate_failed = false;
  std::vector<model::StageAttempt> attempts;
  int64_t silver_rows_added = 0;
  std::vector<std::string> gold_dates;
  int64_t silver_us = 0, gold_us = 0, dq_us = 0, record_us = 0;
  // Why the cycle stopped ("" = it did not): where and still_held's error,
  // e.g. "before gold: the batch lock ... was lost" or "before silver
  // commit 2/3: ...".
  std::string stopped;
  std::string Summary() const;  // one line for logs
};

class BatchCycle {
 public:
  BatchCycle(warehouse::Warehouse* warehouse, alerts::AlertSink* alerts, BatchOptions options,
             const std::atomic<bool>* stop);

  // No stage: silver, gate, gold, gate. kSilver or kGold: that stage only.
  // kDq (`wikistream dq`): recomputes gold for the latest silver date and
  // runs the gold gate's checks over it, recording the results in dq_audit
  // and publishing nothing; the silver checks are not re-run (they audit a
  // run's input against its bronze rows, which only the silver stage has).
  // `still_held` (may be empty): see the contract above.
  CycleReport Run(std::optional<model::StageName> only = std::nullopt,
                  const std::function<Status()>& still_held = nullptr);

 private:
  // OK while the caller's batch lock is held (or no check was given); else
  // stops the cycle: report->stopped = "before <where>: <why>", logged and
  // raised as a critical `pipeline` alert for `stage`.
  Status StillHeld(model::StageName stage, const std::string& where, CycleReport* report);
  model::StageResult RunSilver(const Deadline& deadline, CycleReport* report);
  // The event ids silver holds for the event hours recent chunks touched,
  // kept across the chunks of one run so each hour is read from silver once.
  // Hours, not dates: a duplicate has its original's event time (ingest
  // rule 5, docs/ingest-rules.md), so memory follows the hours in play, not the size of a day.
  using EventHour = std::pair<std::string, int32_t>;  // (event_date, event_hour)
  struct SilverIds {
    IdKeySet keys;  // 128-bit keys: 32 bytes per id, not a string each
    std::set<EventHour> hours;
    int64_t duplicates = 0;  // ids that occur twice among the loaded hours
    std::vector<std::string> duplicate_examples;
  };
  // Loads the ids of the `touched` hours not loaded yet; *date_rows = the
  // rows silver holds in the touched dates (from the manifests).
  Status LoadSilverIds(table::Table& silver, const std::set<EventHour>& touched, SilverIds* ids, int64_t* date_rows);
  model::StageResult RunSilverChunk(table::Table& silver, std::optional<int64_t> from, int64_t to,
                                    const format::RecordBatch& bronze_rows, const Deadline& deadline,
                                    CycleReport* report, SilverIds* ids, const std::string& commit_name);
  model::StageResult RunGold(const Deadline& deadline, CycleReport* report);
  model::StageResult RunAudit(const Deadline& deadline, CycleReport* report);
  // Raises a `risk` alert for each published gold.risk_scores row with
  // alert_triggered: a user's first HIGH of a day, whoever finds it first.
  void RaiseRiskAlerts(const format::RecordBatch& risk);
  // Raises an alert unless its identity (model::AlertKey) was raised before:
  // by this process, or by any process that recorded it in ops.alerts (read
  // for the alert's date under the batch lock, whatever kind and however old
  // the date).
  void Raise(model::Alert alert);
  // Marks the alerts ops.alerts holds from `date` on as raised, reading the
  // table at most once per cycle for the oldest date asked. A read failure
  // is logged, not returned: the stage's own work is done by then.
  void LoadRaisedAlertsSince(const std::string& date);
  // Raises the `dq` alert of a failed gate (once per layer and day).
  void RaiseGateAlert(const std::string& layer, const std::string& consequence, int64_t now,
                      const std::vector<std::string>& failed_checks, nlohmann::json details);
  // Commits the alerts raised since the last call to ops.alerts.
  Status RecordAlerts();
  // rows_out of the last successful silver runs, oldest first: read from
  // ops.pipeline_runs on first use, then extended by this object's runs.
  Result<std::vector<int64_t>> RecentSilverVolumes();

  warehouse::Warehouse* warehouse_;
  alerts::AlertSink* alerts_;
  BatchOptions options_;
  const std::atomic<bool>* stop_;
  const std::function<Status()>* still_held_ = nullptr;  // Run's, while it runs
  std::optional<std::deque<int64_t>> silver_volumes_;  // rows added by recent successful silver runs
  std::optional<std::string> raised_loaded_since_;  // this cycle read ops.alerts from this date on
};

// Marks the alerts recorded in ops.alerts since `since_date` as raised, so a
// restarted process never raises an alert of the same identity twice.
Status LoadRaisedAlertKeys(warehouse::Warehouse* warehouse, alerts::AlertSink* alerts,
                           const std::string& since_date);

}  // namespace ws::batch
