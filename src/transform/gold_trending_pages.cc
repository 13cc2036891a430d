// gold.trending_pages: per pass, each page-hour's trend score over the
// previous 24 hours (GoldPass::AppendTrending); then the top kTrendingTopN per
// (date, hour, domain), ranked (docs/tables.md, "gold.trending_pages").

#include "gold_internal.h"

#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform::detail {

using warehouse::kTrendingPagesSchemaVersion;

void GoldPass::AppendTrending(PassResult* out) {
  // Each page's hours in ascending order, for the sliding 24-hour window.
  std::vector<PageHour>& ph = page_hours_;
  std::sort(ph.begin(), ph.end(), [](const PageHour& a, const PageHour& b) {
    return a.page != b.page ? a.page < b.page : a.slot < b.slot;
  });
  // Hour slot -> target date index (or -1 for a previous-day-only slot).
  std::unordered_map<int64_t, int32_t> target_of_day;
  for (int32_t t = 0; t < s_.nt; ++t) target_of_day[s_.slot_day[t] - s_.min_day] = t;

  std::vector<TrendRow>& cand = out->trending;
  size_t window_start = 0;
  int64_t window_sum = 0;
  for (size_t i = 0; i < ph.size(); ++i) {
    if (i == 0 || ph[i].page != ph[i - 1].page) {
      window_start = i;
      window_sum = 0;
    }
    // Window = this page's hours in [slot-24, slot-1], i.e. the entries
    // from window_start to i-1 once the too-old ones are dropped.
    while (window_start < i && ph[window_start].slot < ph[i].slot - 24) {
      window_sum -= ph[window_start].edits;
      ++window_start;
    }
    const int64_t prev = window_sum;
    window_sum += ph[i].edits;
    if (ph[i].edits < kTrendingMinEdits) continue;
    auto it = target_of_day.find(ph[i].slot / 24);
    if (it == target_of_day.end()) continue;
    TrendRow c;
    c.date = it->second;
    c.hour = ph[i].slot % 24;
    c.domain = domains_.Value(page_domain_[ph[i].page]);
    c.title = titles_.Value(page_title_[ph[i].page]);
    c.edits = ph[i].edits;
    c.editors = ph[i].editors;
    c.bytes = ph[i].bytes;
    c.prev = prev;
    c.score = transform::RoundTo(static_cast<double>(c.edits) / (1.0 + static_cast<double>(prev) / 24.0), 4);
    cand.push_back(c);
  }
  KeepTopPerGroup(&cand, TrendBefore, SameTrendGroup, kTrendingTopN);
  for (TrendRow& c : cand) {
    c.domain = out->Own(c.domain);
    c.title = out->Own(c.title);
  }
}

void AppendTrendingPages(std::vector<TrendRow> trending, const std::vector<std::string>& targets, int64_t now_us,
                         RecordBatch* out_batch) {
  KeepTopPerGroup(&trending, TrendBefore, SameTrendGroup, kTrendingTopN);
  std::vector<int32_t> ranks = RanksWithinGroups(trending, SameTrendGroup);
  RecordBatch& out = *out_batch;
  auto& col = out.columns();
  for (size_t k = 0; k < trending.size(); ++k) {
    const TrendRow& c = trending[k];
    int i = 0;
    col[i++].AppendString(targets[c.date]);
    col[i++].AppendInt32(c.hour);
    col[i++].AppendString(c.domain);
    col[i++].AppendString(c.title);
    col[i++].AppendInt64(c.edits);
    col[i++].AppendInt64(c.editors);
    col[i++].AppendInt64(c.bytes);
    col[i++].AppendInt64(c.prev);
    col[i++].AppendDouble(c.score);
    col[i++].AppendInt32(ranks[k]);
    col[i++].AppendInt64(now_us);
    col[i++].AppendString(kTrendingPagesSchemaVersion);
  }
}

}  // namespace ws::transform::detail
