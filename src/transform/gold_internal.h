// The internals of gold (gold.h), shared by its files: the per-pass
// machinery of gold_accumulator.cc (interned strings, the aggregates, one
// GoldPass per share of users and pages) and the row types each output
// table's file (gold_hourly_stats.cc, gold_risk_scores.cc,
// gold_daily_summary.cc, gold_top_contributors.cc, gold_trending_pages.cc)
// turns into that table's RecordBatch.
//
// Contract: private to src/transform (not an installed header). Rows carry
// `date` as the index of a target date (DateSlots::targets); their string
// views point into the PassResult that made them, which must outlive them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wikistream/common/hash.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/model/event_type.h"
#include "wikistream/model/region.h"
#include "wikistream/model/risk_level.h"
#include "wikistream/model/user.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/rules.h"

namespace ws::transform::detail {

using format::Column;
using format::RecordBatch;
using model::EventType;

// Strings of the input are interned to dense ids once per row so that every
// aggregation below works on integers. Each distinct string is copied once
// into the interner's own blocks, so the silver rows can be freed after Add.
class Interner {
 public:
  Interner() : table_(1024, -1), mask_(1023) {}
  static uint64_t HashOf(std::string_view s) { return HashString(s); }
  int32_t Id(std::string_view s) { return Id(s, HashOf(s)); }
  // `h` must be HashOf(s): callers that already hashed s to pick a pass reuse it.
  int32_t Id(std::string_view s, uint64_t h) {
    size_t i = h & mask_;
    while (table_[i] >= 0) {
      int32_t id = table_[i];
      if (hashes_[id] == h && values_[id] == s) return id;
      i = (i + 1) & mask_;
    }
    int32_t id = static_cast<int32_t>(values_.size());
    values_.push_back(Copy(s));
    hashes_.push_back(h);
    table_[i] = id;
    if (values_.size() * 10 > table_.size() * 7) Grow();
    return id;
  }
  std::string_view Value(int32_t id) const { return values_[id]; }
  uint64_t Hash(int32_t id) const { return hashes_[id]; }
  size_t size() const { return values_.size(); }

 private:
  static constexpr size_t kBlockBytes = 256 << 10;
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* dst;
    if (s.size() > kBlockBytes / 4) {  // a long value gets a block of its own
      blocks_.push_back(std::make_unique<char[]>(s.size()));
      dst = blocks_.back().get();
    } else {
      if (block_free_ < s.size()) {
        blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
        block_ = blocks_.back().get();
        block_free_ = kBlockBytes;
      }
      dst = block_ + (kBlockBytes - block_free_);
      block_free_ -= s.size();
    }
    std::memcpy(dst, s.data(), s.size());
    return {dst, s.size()};
  }
  void Grow() {
    table_.assign(table_.size() * 2, -1);
    mask_ = table_.size() - 1;
    for (size_t id = 0; id < values_.size(); ++id) {
      size_t i = hashes_[id] & mask_;
      while (table_[i] >= 0) i = (i + 1) & mask_;
      table_[i] = static_cast<int32_t>(id);
    }
  }
  std::vector<int32_t> table_;
  size_t mask_;
  std::vector<std::string_view> values_;
  std::vector<uint64_t> hashes_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* block_ = nullptr;  // the block being filled
  size_t block_free_ = 0;
};

// Regions index the daily summary's per-region counters, in its column order.
inline size_t RegionIndex(std::string_view region) {
  return static_cast<size_t>(model::ParseRegion(region).value_or(model::Region::kOther));
}

inline double Pct(int64_t part, int64_t total) {
  return total == 0 ? 0.0 : transform::Round2(100.0 * static_cast<double>(part) / static_cast<double>(total));
}

inline uint64_t Pair(uint64_t group, uint32_t value) { return (group << 32) | value; }

// The pass that owns a hashed key. The interners index their tables with the
// low bits of the same hashes, so the pass is taken from re-mixed bits:
// otherwise one pass's strings would crowd a fraction of every table.
inline int PassOf(uint64_t hash, int passes) {
  return static_cast<int>((Mix64(hash ^ kGoldenGamma) >> 32) % static_cast<uint64_t>(passes));
}

// The counters hourly_stats and daily_analytics_summary share. Every field
// adds up across passes: plain counters are only counted by pass 0, and each
// distinct value is counted by the one pass that owns it.
struct EventCounts {
  int64_t total = 0, bytes_added = 0, bytes_removed = 0, abs_delta_sum = 0, delta_count = 0;
  int64_t bot = 0, anonymous = 0, large_del = 0, large_add = 0;
  int64_t users = 0, pages = 0;  // distinct

  void Count(int32_t delta, bool delta_valid, bool is_bot, bool is_anonymous, bool large_deletion,
             bool large_addition) {
    ++total;
    bytes_added += delta > 0 ? delta : 0;
    bytes_removed += delta < 0 ? -static_cast<int64_t>(delta) : 0;
    if (delta_valid) {
      abs_delta_sum += delta < 0 ? -static_cast<int64_t>(delta) : delta;
      ++delta_count;
    }
    bot += is_bot;
    anonymous += is_anonymous;
    large_del += large_deletion;
    large_add += large_addition;
  }
  void Add(const EventCounts& o) {
    total += o.total;
    bytes_added += o.bytes_added;
    bytes_removed += o.bytes_removed;
    abs_delta_sum += o.abs_delta_sum;
    delta_count += o.delta_count;
    bot += o.bot;
    anonymous += o.anonymous;
    large_del += o.large_del;
    large_add += o.large_add;
    users += o.users;
    pages += o.pages;
  }
};

struct HourlyCounts : EventCounts {
  std::array<int64_t, model::kEventTypeCount> types{};

  void Add(const HourlyCounts& o) {
    EventCounts::Add(o);
    for (size_t k = 0; k < types.size(); ++k) types[k] += o.types[k];
  }
};

struct DailyCounts : EventCounts {
  int64_t registered = 0, new_pages = 0, domains = 0;  // domains: distinct
  std::array<int64_t, model::kRegionCount> regions{};
  std::array<int64_t, 24> hours{};

  void Add(const DailyCounts& o) {
    EventCounts::Add(o);
    registered += o.registered;
    new_pages += o.new_pages;
    domains += o.domains;
    for (size_t k = 0; k < regions.size(); ++k) regions[k] += o.regions[k];
    for (size_t k = 0; k < hours.size(); ++k) hours[k] += o.hours[k];
  }
};

// A pass's aggregates, keyed by the pass's own interned ids.
struct HourlyAgg {
  int32_t date = 0, hour = 0, domain = 0;
  std::string_view region;
  HourlyCounts n;
};

struct RiskAgg {
  int32_t date = 0, user = 0;
  int64_t total = 0, large_del = 0, anonymous = 0, domains = 0;
  std::array<int32_t, 24> hours{};
  int64_t first = INT64_MAX, last = INT64_MIN;
};

struct ContribAgg {
  int32_t date = 0, domain = 0, user = 0;
  int64_t edits = 0, bytes_added = 0, bytes_removed = 0, pages = 0;
  bool bot = false;
  int64_t first = INT64_MAX, last = INT64_MIN;
};

struct PageHour {
  int32_t page, slot;
  int64_t edits = 0, editors = 0, bytes = 0;
};

// Result rows, with strings. `date` is the target date's index.
struct HourlyRow {
  int32_t date, hour;
  std::string_view domain, region;
  HourlyCounts n;
};

struct RiskRow {
  int32_t date;
  std::string_view user;
  model::UserType name_class;
  transform::RiskInputs in;
  int64_t active_hours, first, last;
};

struct ContribRow {
  int32_t date;
  std::string_view domain, user;
  int64_t edits, bytes_added, bytes_removed, pages;
  bool bot;
  int64_t first, last;
  model::UserType type = model::UserType::kUnknown;
};

struct TrendRow {
  int32_t date, hour;
  std::string_view domain, title;
  int64_t edits, editors, bytes, prev;
  double score;
};

// Output order (gold.h): the rank order within each ranked group.
inline bool ContribBefore(const ContribRow& x, const ContribRow& y) {
  if (x.date != y.date) return x.date < y.date;
  if (x.domain != y.domain) return x.domain < y.domain;
  if (x.edits != y.edits) return x.edits > y.edits;
  if (x.bytes_added != y.bytes_added) return x.bytes_added > y.bytes_added;
  return x.user < y.user;
}
inline bool SameContribGroup(const ContribRow& x, const ContribRow& y) { return x.date == y.date && x.domain == y.domain; }

inline bool TrendBefore(const TrendRow& a, const TrendRow& b) {
  if (a.date != b.date) return a.date < b.date;
  if (a.hour != b.hour) return a.hour < b.hour;
  if (a.domain != b.domain) return a.domain < b.domain;
  if (a.score != b.score) return a.score > b.score;
  if (a.edits != b.edits) return a.edits > b.edits;
  return a.title < b.title;
}
inline bool SameTrendGroup(const TrendRow& a, const TrendRow& b) {
  return a.date == b.date && a.hour == b.hour && a.domain == b.domain;
}

// Sorts `rows` by `before` and keeps the first `n` of each group. A group's
// top n over all rows is always among the top n of the pass that held it, so
// cutting each pass and then the union gives the top n of the whole.
template <class Row, class Before, class SameGroup>
void KeepTopPerGroup(std::vector<Row>* rows, Before before, SameGroup same_group, int n) {
  std::sort(rows->begin(), rows->end(), before);
  size_t kept = 0, group_first = 0;
  int rank = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    if (kept == 0 || !same_group((*rows)[i], (*rows)[group_first])) {
      rank = 0;
      group_first = kept;  // a group's first row is always kept
    }
    if (++rank > n) continue;
    (*rows)[kept++] = (*rows)[i];
  }
  rows->erase(rows->begin() + static_cast<std::ptrdiff_t>(kept), rows->end());
  rows->shrink_to_fit();  // a pass's candidates are many, its survivors few, and they outlive the pass
}

// The dates of one computation, shared read-only by its passes. Slots
// 0..nt-1 are the sorted targets; the others are previous days read only
// for trending's prev_24h_edits.
struct DateSlots {
  explicit DateSlots(const std::vector<std::string>& target_dates);
  DateSlots(const DateSlots&) = delete;
  DateSlots& operator=(const DateSlots&) = delete;

  std::vector<std::string> targets;
  int32_t nt = 0;
  std::vector<std::string> slot_dates;
  std::vector<int64_t> slot_day;  // day number of each slot, for UTC hour slots across dates
  int64_t min_day = INT64_MAX;
  std::unordered_map<std::string_view, int32_t> slot_of;  // views into slot_dates
};

// Ranks 1.. within each run of rows for which same_group holds.
template <class Row, class SameGroup>
std::vector<int32_t> RanksWithinGroups(const std::vector<Row>& rows, SameGroup same_group) {
  std::vector<int32_t> ranks(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ranks[i] = i > 0 && same_group(rows[i], rows[i - 1]) ? ranks[i - 1] + 1 : 1;
  }
  return ranks;
}


// What one pass contributes to the result. The rows' strings live in
// `strings`, so the pass's working state can be freed.
struct PassResult {
  // The copy of `s` this result owns.
  std::string_view Own(std::string_view s) { return strings.Value(strings.Id(s)); }

  Interner strings;
  std::vector<HourlyRow> hourly;
  std::vector<DailyCounts> daily;  // per target slot
  std::vector<RiskRow> risk;
  std::vector<ContribRow> contrib;  // the pass's top kTopContributorsN per (date, domain)
  std::vector<TrendRow> trending;   // the pass's top kTrendingTopN per (date, hour, domain)
};

// One pass over the silver rows. It owns the users and the pages (domain,
// title) whose hash falls to it: their per-user aggregates (risk_scores,
// top_contributors), their per-page ones (trending_pages) and their share of
// every distinct count. Pass 0 also counts the plain counters of every row.
// Since each user and each page belongs to exactly one pass, the passes'
// results add up to the whole, and a pass holds only its share in memory.
class GoldPass {
 public:
  GoldPass(const DateSlots& slots, int pass, int passes)
      : s_(slots), pass_(pass), passes_(passes), daily_(slots.nt), daily_domains_(slots.nt) {}
  void Add(const RecordBatch& silver);
  PassResult Finish();

 private:
  void AppendTrending(PassResult* out);

  const DateSlots& s_;
  const int pass_, passes_;
  Interner domains_, users_, titles_, regions_;
  FlatMap64 page_of_;  // domain << 32 | title -> page id
  std::vector<int32_t> page_domain_, page_title_;

  std::vector<DailyCounts> daily_;
  std::vector<std::vector<uint8_t>> daily_domains_;
  FlatSet64 daily_users_, daily_pages_;
  FlatMap64 hourly_of_;
  std::vector<HourlyAgg> hourly_;
  FlatSet64 hourly_users_, hourly_pages_;
  FlatMap64 risk_of_;
  std::vector<RiskAgg> risk_;
  FlatSet64 risk_domains_;
  FlatMap64 contrib_of_;
  std::vector<ContribAgg> contrib_;
  FlatSet64 contrib_pages_;
  FlatMap64 page_hour_of_;  // page << 32 | hour slot -> index into page_hours_
  std::vector<PageHour> page_hours_;
  FlatSet64 page_hour_editors_;
};

// What risk_scores tells the daily summary about one target date.
struct DayRisk {
  int64_t scored = 0, score_sum = 0, alerts = 0;
  std::array<int64_t, model::kRiskLevelCount> per_level{};
  int32_t max_score = 0;
};

// Each output table's rows, from the passes' merged rows (taken by value:
// each sorts or cuts its own).
void AppendHourlyStats(std::vector<HourlyRow> hourly_parts, const std::vector<std::string>& targets, int64_t now_us,
                       RecordBatch* out_batch);
// Returns each target date's risk totals, for the daily summary.
std::vector<DayRisk> AppendRiskScores(std::vector<RiskRow> risk, const std::vector<std::string>& targets,
                                      int64_t now_us, RecordBatch* out_batch);
void AppendDailySummary(const std::vector<DailyCounts>& daily, const std::vector<DayRisk>& day_risk,
                        const std::vector<std::string>& targets, int64_t now_us, RecordBatch* out_batch);
void AppendTopContributors(std::vector<ContribRow> contrib, const std::vector<std::string>& targets, int64_t now_us,
                           RecordBatch* out_batch);
void AppendTrendingPages(std::vector<TrendRow> trending, const std::vector<std::string>& targets, int64_t now_us,
                         RecordBatch* out_batch);

}  // namespace ws::transform::detail
