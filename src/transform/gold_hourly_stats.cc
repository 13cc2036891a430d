// gold.hourly_stats: one row per (date, hour, domain), the passes' counts
// added (docs/tables.md, "gold.hourly_stats").

#include "gold_internal.h"

#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform::detail {

using warehouse::kHourlyStatsSchemaVersion;

void AppendHourlyStats(std::vector<HourlyRow> hourly_parts, const std::vector<std::string>& targets, int64_t now_us,
                       RecordBatch* out_batch) {
  std::sort(hourly_parts.begin(), hourly_parts.end(), [](const HourlyRow& x, const HourlyRow& y) {
    if (x.date != y.date) return x.date < y.date;
    if (x.hour != y.hour) return x.hour < y.hour;
    return x.domain < y.domain;
  });
  std::vector<HourlyRow> hourly;
  for (const HourlyRow& p : hourly_parts) {
    if (!hourly.empty() && hourly.back().date == p.date && hourly.back().hour == p.hour &&
        hourly.back().domain == p.domain) {
      hourly.back().n.Add(p.n);
    } else {
      hourly.push_back(p);
    }
  }
  RecordBatch& out = *out_batch;
  out.Reserve(hourly.size());
  auto& col = out.columns();
  for (const HourlyRow& row : hourly) {
    const HourlyCounts& h = row.n;
    int i = 0;
    col[i++].AppendString(targets[row.date]);
    col[i++].AppendInt32(row.hour);
    col[i++].AppendString(row.domain);
    col[i++].AppendString(row.region);
    col[i++].AppendInt64(h.total);
    col[i++].AppendInt64(h.users);
    col[i++].AppendInt64(h.pages);
    col[i++].AppendInt64(h.bytes_added);
    col[i++].AppendInt64(h.bytes_removed);
    if (h.delta_count > 0) {
      col[i++].AppendDouble(transform::Round2(static_cast<double>(h.abs_delta_sum) / h.delta_count));
    } else {
      col[i++].AppendNull();
    }
    col[i++].AppendInt64(h.bot);
    col[i++].AppendInt64(h.total - h.bot);
    col[i++].AppendDouble(Pct(h.bot, h.total));
    col[i++].AppendInt64(h.anonymous);
    col[i++].AppendDouble(Pct(h.anonymous, h.total));
    for (int64_t n : h.types) col[i++].AppendInt64(n);
    col[i++].AppendInt64(h.large_del);
    col[i++].AppendInt64(h.large_add);
    col[i++].AppendInt64(now_us);
    col[i++].AppendString(kHourlyStatsSchemaVersion);
  }
}

}  // namespace ws::transform::detail
