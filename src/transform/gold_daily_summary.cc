// gold.daily_analytics_summary: one row per target date with events, from
// the day's counters and its risk totals (docs/tables.md,
// "gold.daily_analytics_summary").

#include "gold_internal.h"

#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform::detail {

using warehouse::kDailySummarySchemaVersion;

void AppendDailySummary(const std::vector<DailyCounts>& daily, const std::vector<DayRisk>& day_risk,
                        const std::vector<std::string>& targets, int64_t now_us, RecordBatch* out_batch) {
  const int32_t nt = static_cast<int32_t>(targets.size());
  RecordBatch& out = *out_batch;
  auto& col = out.columns();
  for (int32_t t = 0; t < nt; ++t) {
    const DailyCounts& d = daily[t];
    if (d.total == 0) continue;
    const DayRisk& dr = day_risk[t];
    int peak_hour = 0;
    int64_t hours_with_events = 0;
    for (int hh = 0; hh < 24; ++hh) {
      if (d.hours[hh] > d.hours[peak_hour]) peak_hour = hh;
      hours_with_events += d.hours[hh] > 0;
    }
    const double total = static_cast<double>(d.total);
    const int64_t low = dr.per_level[static_cast<size_t>(model::RiskLevel::kLow)];
    double p1 = dr.scored == 0 ? 40.0 : 40.0 * static_cast<double>(low) / static_cast<double>(dr.scored);
    double p2 = 30.0 * static_cast<double>(d.registered) / total;
    double p3 = d.bytes_added > d.bytes_removed ? 20.0 : (2 * d.bytes_added > d.bytes_removed ? 10.0 : 0.0);
    double p4 = 100 * d.large_del < d.total ? 10.0 : (20 * d.large_del < d.total ? 5.0 : 0.0);
    double health = std::clamp(p1 + p2 + p3 + p4, 0.0, 100.0);
    int i = 0;
    col[i++].AppendString(targets[t]);
    col[i++].AppendInt64(d.total);
    col[i++].AppendInt64(d.users);
    col[i++].AppendInt64(d.domains);
    col[i++].AppendInt64(d.pages);
    col[i++].AppendDouble(Pct(d.bot, d.total));
    col[i++].AppendDouble(Pct(d.anonymous, d.total));
    col[i++].AppendDouble(Pct(d.registered, d.total));
    col[i++].AppendInt64(d.bytes_added);
    col[i++].AppendInt64(d.bytes_removed);
    col[i++].AppendInt64(d.bytes_added - d.bytes_removed);
    if (d.delta_count > 0) {
      col[i++].AppendDouble(transform::Round2(static_cast<double>(d.abs_delta_sum) / d.delta_count));
    } else {
      col[i++].AppendNull();
    }
    col[i++].AppendInt64(d.new_pages);
    col[i++].AppendInt64(d.large_del);
    col[i++].AppendInt64(d.large_add);
    col[i++].AppendDouble(transform::RoundTo(100.0 * static_cast<double>(d.large_del) / total, 4));
    for (model::RiskLevel level : {model::RiskLevel::kHigh, model::RiskLevel::kMedium, model::RiskLevel::kLow}) {
      col[i++].AppendInt64(dr.per_level[static_cast<size_t>(level)]);
    }
    col[i++].AppendDouble(dr.scored == 0 ? 0.0
                                         : transform::Round2(static_cast<double>(dr.score_sum) /
                                                         static_cast<double>(dr.scored)));
    col[i++].AppendInt32(dr.max_score);
    col[i++].AppendInt64(dr.alerts);
    for (int64_t n : d.regions) col[i++].AppendDouble(Pct(n, d.total));
    col[i++].AppendInt32(peak_hour);
    col[i++].AppendInt64(d.hours[peak_hour]);
    col[i++].AppendDouble(transform::Round2(total / static_cast<double>(hours_with_events)));
    col[i++].AppendDouble(transform::Round2(health));
    col[i++].AppendInt64(now_us);
    col[i++].AppendString(kDailySummarySchemaVersion);
  }
}

}  // namespace ws::transform::detail
