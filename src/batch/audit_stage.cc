// BatchCycle's dq stage (`wikistream dq`): the latest silver date's gold
// recomputed and audited by the gold gate's checks; only dq_audit changes.
#include "stage_support.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/common/time.h"
#include "wikistream/transform/dq.h"
#include "wikistream/warehouse/ops_tables.h"

namespace ws::batch {

using model::StageResult;
using table::DataFile;
using table::Table;

StageResult BatchCycle::RunAudit(const Deadline& deadline, CycleReport* report) {
  // Re-audit the latest silver date: its gold recomputed from silver and the
  // gold gate's checks over it (reconciliation with silver included).
  // Nothing is published; the results go to dq_audit.
  StageResult result;
  auto silver_r = RefreshedTable(warehouse_, "silver.cleaned_events");
  if (!silver_r.ok()) return Failed(result, silver_r.status());
  Table& silver_t = **silver_r;
  auto files = silver_t.Scan();
  if (!files.ok()) return Failed(result, files.status());
  std::string latest;
  for (const DataFile& f : *files) {
    if (!f.partition.empty() && f.partition[0] > latest) latest = f.partition[0];
  }
  if (latest.empty()) return Skipped(result);
  std::vector<std::string> dates = {latest};
  const int64_t now = NowMicros();
  auto computed = ComputeGoldFromSilver(warehouse_, silver_t, dates, now, options_.threads);
  if (!computed.ok()) return Failed(result, computed.status());
  transform::GoldResult& gold = computed->gold;
  std::map<std::string, int64_t>& per_date = computed->silver_rows_per_date;
  transform::GoldGateContext ctx;
  ctx.run_id = report->cycle_id;
  ctx.run_time_us = now;
  transform::GateOutcome gate = transform::RunGoldGate(gold, per_date, ctx);
  if (Status s = deadline.Check("dq"); !s.ok()) return Failed(result, s);
  if (Status s = warehouse::RecordQuality(warehouse_, gate.quality_results, gate.profile_metrics); !s.ok()) {
    return Failed(result, s);
  }
  result.rows_in = per_date[latest];
  if (!gate.passed) {
    report->gold_gate_failed = true;
    result.FailGate("gold", gate.failed_checks);
  }
  return result;
}

}  // namespace ws::batch
