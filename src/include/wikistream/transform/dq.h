// Data-quality gates (docs/tables.md, "Data quality"): the silver gate (blocks gold)
// and the gold gate (write-audit-publish: blocks the gold commit).
//
// Contract: pure functions, no I/O. Each check yields one
// dq_audit.quality_results row (QualityResultsTable() schema); each profiled
// column one dq_audit.profile_metrics row (ProfileMetricsTable()). A gate
// passes iff no check of severity "error" has status FAILED or ERROR; a
// failed "warn" check has status WARNING. A check whose input column is
// missing is ERROR (not an abort). Ratios over zero rows have a null metric
// and PASS. Evidence is a JSON object text, with up to 5 offending examples.
// The row order is the order of docs/tables.md's lists; check names are stable
// (dashboards and alerts key on them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/format/record_batch.h"
#include "wikistream/transform/gold.h"

namespace ws::transform {

inline constexpr int kVolumeRunsNeeded = 10;
inline constexpr double kMaxIngestLagP95Seconds = 180.0;
inline constexpr int64_t kMaxFutureSkewUs = 10LL * 60 * 1'000'000;  // event_timestamp <= ingested_at + 10 min

struct GateOutcome {
  bool passed = true;
  format::RecordBatch quality_results;  // QualityResultsTable() schema
  format::RecordBatch profile_metrics;  // ProfileMetricsTable() schema
  std::vector<std::string> failed_checks;   // error checks FAILED or ERROR (these fail the gate)
  std::vector<std::string> warning_checks;  // warn checks with status WARNING
};

struct SilverGateContext {
  std::string run_id;
  int64_t run_time_us = 0;   // run_timestamp; run_date is its UTC date
  // rows_out of previous silver runs, oldest first; the last kVolumeRunsNeeded
  // are used. Fewer than that: the volume check is SKIPPED.
  std::vector<int64_t> recent_run_volumes;
  // Uniqueness of event_id over the silver partitions the run touched (old
  // rows plus the added ones), as counted by the caller's scan: rows scanned
  // and rows whose event_id appeared before. -1 = not scanned: the check then
  // covers the added rows only. Duplicates inside the added rows always count.
  int64_t touched_partition_rows = -1;
  int64_t touched_partition_duplicates = -1;
  std::vector<std::string> duplicate_examples;  // a few duplicated ids, for evidence
};

// Fills the uniqueness fields of a SilverGateContext from a scan of the
// touched silver partitions (after adding; column event_id by name, may be a
// projection holding only it): rows, rows whose id appeared earlier, and up
// to 5 such ids.
void ScanDuplicateEventIds(const format::RecordBatch& touched_partitions, SilverGateContext* ctx);

// bronze_input: the bronze rows the run read (columns event_id,
// event_timestamp, ingested_at, source by name); silver_added: the rows
// BuildSilver produced (SilverTable() schema or a superset by name).
// Timeliness checks use the bronze rows whose event_id is in silver_added
// (first occurrence); the ingest-lag check only those whose `source` is a
// live source (model::IsLiveSource), and is SKIPPED when there are none: a
// replayed or synthetic event's ingest lag means nothing.
GateOutcome RunSilverGate(const format::RecordBatch& bronze_input, const format::RecordBatch& silver_added,
                          const SilverGateContext& ctx);

struct GoldGateContext {
  std::string run_id;
  int64_t run_time_us = 0;
};

// silver_rows_per_date: the silver row count of every date the run
// recomputed (0 for a recomputed date without rows); reconciliation checks
// cover exactly these dates.
GateOutcome RunGoldGate(const GoldResult& gold, const std::map<std::string, int64_t>& silver_rows_per_date,
                        const GoldGateContext& ctx);

// One profile_metrics row per column of `table` (appended to *out):
// record_count, null_count, null_rate, distinct_count, min/max as text; for
// int/long/double columns also mean, stddev (sample), p50 and p95 (linear
// interpolation). Exposed for the bronze stage and tests.
void ProfileTable(const format::RecordBatch& table, const std::string& layer, const std::string& table_name,
                  const std::string& run_id, int64_t run_time_us, format::RecordBatch* out);

}  // namespace ws::transform
