// Gold: silver.cleaned_events rows → the five gold tables (docs/tables.md).
//
// Contract: a pure function, no I/O. ComputeGold reads the silver columns it
// needs by name (SilverTable()'s schema or a projection holding event_type,
// domain, region, title, user_normalized, user_type, is_bot, is_anonymous,
// length_delta, is_large_deletion, is_large_addition, event_timestamp,
// event_date, event_hour; a missing column is a bug and aborts) and emits
// rows only for `target_dates`. The rows of a date D depend only on the silver
// rows of D, plus those of D-1 for trending_pages.prev_24h_edits; silver rows
// of other dates are ignored. So recomputing a date from its partitions gives
// exactly what a full recompute gives, and the caller must pass every silver
// row of SilverDatesNeededFor(target_dates).
// Row order is deterministic: partition value first, then the table's keys
// (hourly: hour, domain; risk: entity_id; trending: hour, domain, rank;
// top contributors: domain, rank), strings compared by bytes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "wikistream/format/record_batch.h"

namespace ws::transform {

inline constexpr int kTrendingTopN = 20;          // per (stat_date, stat_hour, domain)
inline constexpr int64_t kTrendingMinEdits = 3;   // pages with fewer edits in the hour are not ranked
inline constexpr int kTopContributorsN = 50;      // per (stat_date, domain)

struct GoldResult {
  format::RecordBatch hourly_stats;      // HourlyStatsTable() schema
  format::RecordBatch risk_scores;       // RiskScoresTable()
  format::RecordBatch daily_summary;     // DailySummaryTable()
  format::RecordBatch trending_pages;    // TrendingPagesTable()
  format::RecordBatch top_contributors;  // TopContributorsTable()
};

GoldResult ComputeGold(const format::RecordBatch& silver, const std::vector<std::string>& target_dates, int64_t now_us);

// The same computation over silver rows fed in any number of parts (one data
// file at a time), so a day of silver never has to be in memory at once:
// Add() keeps copies of the strings it needs, and a part may be freed as soon
// as Add() returns. Feeding the rows of ComputeGold's `silver` in parts, in
// any split, gives exactly ComputeGold's result.
//
// With passes > 1 the aggregates of a day are split too: pass p owns the users
// and the pages (domain, title) whose hash falls to it, so it holds about
// 1/passes of the distinct users, pages and pairs, and the result is still
// exactly ComputeGold's. Every pass must be fed every silver row (the caller
// reads silver once per pass) and then ended with EndPass(), which frees its
// working state and keeps only its share of the result rows. Different passes
// may be fed and ended concurrently from different threads; one pass is fed
// by one thread at a time. Finish() ends any pass still open, merges, and is
// called once, after every other call has returned.
class GoldAccumulator {
 public:
  GoldAccumulator(const std::vector<std::string>& target_dates, int64_t now_us, int passes = 1);
  ~GoldAccumulator();
  int passes() const;
  void Add(const format::RecordBatch& silver_part, int pass = 0);
  void EndPass(int pass);
  GoldResult Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Gold's memory follows the distinct users and pages of the days it
// recomputes, which grow with the input. GoldPassesFor splits the work so
// that the passes in memory at once (`concurrent_passes`, one per thread)
// cover about kGoldRowsInMemory silver rows together: a few hundred bytes of
// aggregates per row at most, so a bounded peak whatever the day's size.
// At least one pass per thread, and a multiple of the thread count. 640k
// keeps the 1M-event replay (620k silver rows) one pass at 1 thread, and cuts
// a larger day into passes of that size: gold's peak does not grow with it.
inline constexpr int64_t kGoldRowsInMemory = 640'000;
inline constexpr int kGoldMaxPasses = 64;
int GoldPassesFor(int64_t silver_rows, int concurrent_passes);

// The gold dates a run must recompute when it added silver rows to
// `touched_silver_dates`: each touched date D and D+1 (D's rows feed D+1's
// trending prev_24h_edits). All five tables are recomputed for D+1, which is
// harmless (they only depend on D+1's rows) and keeps one rule: "replace the
// partitions of these dates". Sorted ascending.
std::vector<std::string> GoldDatesToRecompute(const std::set<std::string>& touched_silver_dates);

// The silver dates ComputeGold needs for `gold_dates`: each date and the one
// before it. Sorted ascending.
std::vector<std::string> SilverDatesNeededFor(const std::vector<std::string>& gold_dates);

// Rows per value of a date column (e.g. silver's "event_date"): the touched
// dates of a run's added rows, and the silver_rows_per_date of the gold gate.
std::map<std::string, int64_t> CountRowsPerDate(const format::RecordBatch& batch, std::string_view date_column);

}  // namespace ws::transform
