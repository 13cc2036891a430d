#include "wikistream/transform/gold.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>

#include "wikistream/common/hash.h"
#include "wikistream/common/time.h"
#include "wikistream/model/event_type.h"
#include "wikistream/model/region.h"
#include "wikistream/model/user.h"
#include "wikistream/transform/rules.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

using format::Column;
using format::RecordBatch;
using warehouse::DailySummaryTable;
using warehouse::HourlyStatsTable;
using warehouse::kDailySummarySchemaVersion;
using warehouse::kHourlyStatsSchemaVersion;
using warehouse::kRiskScoresSchemaVersion;
using warehouse::kTopContributorsSchemaVersion;
using warehouse::kTrendingPagesSchemaVersion;
using warehouse::RiskScoresTable;
using warehouse::TopContributorsTable;
using warehouse::TrendingPagesTable;

namespace {

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

using model::EventType;

// Regions index the daily summary's per-region counters, in its column order.
size_t RegionIndex(std::string_view region) {
  return static_cast<size_t>(model::ParseRegion(region).value_or(model::Region::kOther));
}

double Pct(int64_t part, int64_t total) {
  return total == 0 ? 0.0 : transform::Round2(100.0 * static_cast<double>(part) / static_cast<double>(total));
}

uint64_t Pair(uint64_t group, uint32_t value) { return (group << 32) | value; }

// The pass that owns a hashed key. The interners index their tables with the
// low bits of the same hashes, so the pass is taken from re-mixed bits:
// otherwise one pass's strings would crowd a fraction of every table.
int PassOf(uint64_t hash, int passes) {
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
bool ContribBefore(const ContribRow& x, const ContribRow& y) {
  if (x.date != y.date) return x.date < y.date;
  if (x.domain != y.domain) return x.domain < y.domain;
  if (x.edits != y.edits) return x.edits > y.edits;
  if (x.bytes_added != y.bytes_added) return x.bytes_added > y.bytes_added;
  return x.user < y.user;
}
bool SameContribGroup(const ContribRow& x, const ContribRow& y) { return x.date == y.date && x.domain == y.domain; }

bool TrendBefore(const TrendRow& a, const TrendRow& b) {
  if (a.date != b.date) return a.date < b.date;
  if (a.hour != b.hour) return a.hour < b.hour;
  if (a.domain != b.domain) return a.domain < b.domain;
  if (a.score != b.score) return a.score > b.score;
  if (a.edits != b.edits) return a.edits > b.edits;
  return a.title < b.title;
}
bool SameTrendGroup(const TrendRow& a, const TrendRow& b) {
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

DateSlots::DateSlots(const std::vector<std::string>& target_dates) : targets(target_dates) {
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  nt = static_cast<int32_t>(targets.size());
  slot_dates = targets;
  for (const auto& d : targets) {
    std::string p = PreviousDate(d);
    if (!std::binary_search(targets.begin(), targets.end(), p) &&
        std::find(slot_dates.begin(), slot_dates.end(), p) == slot_dates.end()) {
      slot_dates.push_back(p);
    }
  }
  slot_day.resize(slot_dates.size());
  for (size_t i = 0; i < slot_dates.size(); ++i) {
    auto micros = ParseDateMicros(slot_dates[i]);
    slot_day[i] = micros ? *micros / kMicrosPerDay : 0;
    min_day = std::min(min_day, slot_day[i]);
  }
  for (size_t i = 0; i < slot_dates.size(); ++i) slot_of[slot_dates[i]] = static_cast<int32_t>(i);
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

void GoldPass::Add(const RecordBatch& silver) {
  if (s_.nt == 0 || silver.num_rows() == 0) return;
  const Column& c_type = silver.column("event_type");
  const Column& c_domain = silver.column("domain");
  const Column& c_region = silver.column("region");
  const Column& c_title = silver.column("title");
  const Column& c_user = silver.column("user_normalized");
  const Column& c_user_type = silver.column("user_type");
  const Column& c_bot = silver.column("is_bot");
  const Column& c_anon = silver.column("is_anonymous");
  const Column& c_delta = silver.column("length_delta");
  const Column& c_ldel = silver.column("is_large_deletion");
  const Column& c_ladd = silver.column("is_large_addition");
  const Column& c_ts = silver.column("event_timestamp");
  const Column& c_date = silver.column("event_date");
  const Column& c_hour = silver.column("event_hour");

  const bool one_pass = passes_ == 1;
  const bool counters = pass_ == 0;
  const size_t n = silver.num_rows();
  std::string_view last_date;
  int32_t last_slot = -1;
  for (size_t r = 0; r < n; ++r) {
    std::string_view date = c_date.GetString(r);
    if (r == 0 || date != last_date) {
      auto it = s_.slot_of.find(date);
      last_slot = it == s_.slot_of.end() ? -2 : it->second;
      last_date = date;
    }
    if (last_slot < 0) continue;  // a date this computation does not need
    const int32_t slot = last_slot;
    const bool is_target = slot < s_.nt;
    const int32_t hour = c_hour.GetInt32(r);
    if (hour < 0 || hour > 23) continue;  // impossible by construction (the silver gate checks it)

    const int32_t domain = domains_.Id(c_domain.GetString(r));
    const bool has_user = c_user.IsValid(r);
    const bool has_title = c_title.IsValid(r);
    std::string_view user_name, title_name;
    uint64_t user_hash = 0, title_hash = 0;
    bool user_in = false, page_in = false;
    if (has_user) {
      user_name = c_user.GetString(r);
      user_hash = Interner::HashOf(user_name);
      user_in = one_pass || PassOf(user_hash, passes_) == pass_;
    }
    if (has_title) {
      title_name = c_title.GetString(r);
      title_hash = Interner::HashOf(title_name);
      page_in = one_pass || PassOf(title_hash ^ Mix64(domains_.Hash(domain)), passes_) == pass_;
    }
    if (!counters && !user_in && !page_in) continue;

    const bool interned = user_in || page_in;
    const int32_t user = has_user && interned ? users_.Id(user_name, user_hash) : -1;
    const int32_t title = has_title && interned ? titles_.Id(title_name, title_hash) : -1;
    const std::optional<EventType> kind = model::ParseEventType(c_type.GetString(r));
    const bool delta_valid = c_delta.IsValid(r);
    const int32_t delta = delta_valid ? c_delta.GetInt32(r) : 0;
    const int32_t abs_delta = delta < 0 ? -delta : delta;
    int32_t page = -1;
    if (title >= 0) {
      uint64_t pk = Pair(static_cast<uint32_t>(domain), static_cast<uint32_t>(title));
      auto [id, inserted] = page_of_.FindOrInsert(pk, static_cast<int32_t>(page_domain_.size()));
      if (inserted) {
        page_domain_.push_back(domain);
        page_title_.push_back(title);
      }
      page = id;
    }

    if (page_in && (kind == EventType::kEdit || kind == EventType::kNew)) {
      uint32_t hour_slot = static_cast<uint32_t>((s_.slot_day[slot] - s_.min_day) * 24 + hour);
      auto [ph, ph_new] = page_hour_of_.FindOrInsert(Pair(static_cast<uint32_t>(page), hour_slot),
                                                     static_cast<int32_t>(page_hours_.size()));
      if (ph_new) page_hours_.push_back(PageHour{page, static_cast<int32_t>(hour_slot)});
      PageHour& p = page_hours_[ph];
      ++p.edits;
      p.bytes += abs_delta;
      if (user >= 0 && page_hour_editors_.Insert(Pair(static_cast<uint32_t>(ph), static_cast<uint32_t>(user)))) {
        ++p.editors;
      }
    }
    if (!is_target) continue;

    const bool bot = c_bot.GetBool(r);
    const bool anon = c_anon.GetBool(r);
    const bool ldel = c_ldel.GetBool(r);
    const bool ladd = c_ladd.GetBool(r);
    const int64_t added = delta > 0 ? delta : 0;
    const int64_t removed = delta < 0 ? -static_cast<int64_t>(delta) : 0;

    // hourly_stats. A group's distinct titles are its distinct pages: the
    // group has one domain.
    uint64_t hkey = (static_cast<uint64_t>(slot * 24 + hour) << 32) | static_cast<uint32_t>(domain);
    auto [hg, hnew] = hourly_of_.FindOrInsert(hkey, static_cast<int32_t>(hourly_.size()));
    if (hnew) {
      HourlyAgg h;
      h.date = slot;
      h.hour = hour;
      h.domain = domain;
      h.region = regions_.Value(regions_.Id(c_region.GetString(r)));
      hourly_.push_back(h);
    }
    HourlyCounts& h = hourly_[hg].n;
    DailyCounts& d = daily_[slot];
    if (counters) {
      h.Count(delta, delta_valid, bot, anon, ldel, ladd);
      if (kind) ++h.types[static_cast<size_t>(*kind)];
      // daily_analytics_summary
      d.Count(delta, delta_valid, bot, anon, ldel, ladd);
      d.registered += c_user_type.GetString(r) == Name(model::UserType::kRegistered);
      d.new_pages += kind == EventType::kNew;
      ++d.regions[RegionIndex(c_region.GetString(r))];
      ++d.hours[hour];
      std::vector<uint8_t>& seen = daily_domains_[slot];
      if (seen.size() <= static_cast<size_t>(domain)) seen.resize(domain + 1, 0);
      d.domains += seen[domain] == 0;
      seen[domain] = 1;
    }
    if (user_in && hourly_users_.Insert(Pair(hg, user))) ++h.users;
    if (page_in && hourly_pages_.Insert(Pair(hg, page))) ++h.pages;
    if (user_in && daily_users_.Insert(Pair(slot, user))) ++d.users;
    if (page_in && daily_pages_.Insert(Pair(slot, page))) ++d.pages;

    if (!user_in) continue;
    const int64_t ts = c_ts.GetInt64(r);
    // top_contributors (bots included). Distinct titles per (date, domain,
    // user) are distinct pages, as for hourly.
    uint64_t ckey = (static_cast<uint64_t>(slot) << 56) | (static_cast<uint64_t>(domain) << 32) |
                    static_cast<uint32_t>(user);
    auto [cg, cnew] = contrib_of_.FindOrInsert(ckey, static_cast<int32_t>(contrib_.size()));
    if (cnew) {
      ContribAgg c;
      c.date = slot;
      c.domain = domain;
      c.user = user;
      contrib_.push_back(c);
    }
    ContribAgg& c = contrib_[cg];
    ++c.edits;
    c.bytes_added += added;
    c.bytes_removed += removed;
    c.bot = c.bot || bot;
    c.first = std::min(c.first, ts);
    c.last = std::max(c.last, ts);
    if (page >= 0 && contrib_pages_.Insert(Pair(cg, page))) ++c.pages;

    // risk_scores: humans with a name
    if (bot) continue;
    uint64_t rkey = Pair(slot, user);
    auto [rg, rnew] = risk_of_.FindOrInsert(rkey, static_cast<int32_t>(risk_.size()));
    if (rnew) {
      RiskAgg a;
      a.date = slot;
      a.user = user;
      risk_.push_back(a);
    }
    RiskAgg& a = risk_[rg];
    ++a.total;
    ++a.hours[hour];
    a.large_del += ldel;
    a.anonymous += anon;
    a.first = std::min(a.first, ts);
    a.last = std::max(a.last, ts);
    if (risk_domains_.Insert(Pair(rg, domain))) ++a.domains;
  }
}

PassResult GoldPass::Finish() {
  PassResult out;
  for (const HourlyAgg& h : hourly_) {
    out.hourly.push_back(HourlyRow{h.date, h.hour, out.Own(domains_.Value(h.domain)), out.Own(h.region), h.n});
  }
  out.daily = daily_;

  for (const RiskAgg& a : risk_) {
    if (a.total < transform::kMinEventsForRiskScore) continue;
    RiskRow row{a.date, out.Own(users_.Value(a.user)), model::ClassifyName(std::string(users_.Value(a.user))), {}, 0,
                a.first, a.last};
    row.in.total_edits = a.total;
    for (int32_t c : a.hours) {
      row.in.peak_hour_edits = std::max<int64_t>(row.in.peak_hour_edits, c);
      row.active_hours += c > 0;
    }
    row.in.large_deletions = a.large_del;
    row.in.domains_edited = a.domains;
    row.in.anonymous_edits = a.anonymous;
    out.risk.push_back(row);
  }

  out.contrib.reserve(contrib_.size());
  for (const ContribAgg& c : contrib_) {
    out.contrib.push_back(ContribRow{c.date, domains_.Value(c.domain), users_.Value(c.user), c.edits, c.bytes_added,
                                     c.bytes_removed, c.pages, c.bot, c.first, c.last});
  }
  KeepTopPerGroup(&out.contrib, ContribBefore, SameContribGroup, kTopContributorsN);
  for (ContribRow& c : out.contrib) {
    c.type = c.bot ? model::UserType::kBot : model::ClassifyName(std::string(c.user));
    c.domain = out.Own(c.domain);
    c.user = out.Own(c.user);
  }

  AppendTrending(&out);
  return out;
}

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

// Ranks 1.. within each run of rows for which same_group holds.
template <class Row, class SameGroup>
std::vector<int32_t> RanksWithinGroups(const std::vector<Row>& rows, SameGroup same_group) {
  std::vector<int32_t> ranks(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ranks[i] = i > 0 && same_group(rows[i], rows[i - 1]) ? ranks[i - 1] + 1 : 1;
  }
  return ranks;
}

}  // namespace

std::vector<std::string> GoldDatesToRecompute(const std::set<std::string>& touched) {
  std::set<std::string> out;
  for (const auto& d : touched) {
    out.insert(d);
    out.insert(NextDate(d));
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> SilverDatesNeededFor(const std::vector<std::string>& gold_dates) {
  std::set<std::string> out;
  for (const auto& d : gold_dates) {
    out.insert(d);
    out.insert(PreviousDate(d));
  }
  return {out.begin(), out.end()};
}

int GoldPassesFor(int64_t silver_rows, int concurrent_passes) {
  const int64_t threads = std::max(1, concurrent_passes);
  const int64_t rows_per_pass = std::max<int64_t>(1, kGoldRowsInMemory / threads);
  int64_t passes = std::max(threads, (silver_rows + rows_per_pass - 1) / rows_per_pass);
  passes = (passes + threads - 1) / threads * threads;  // every thread gets as many passes
  return static_cast<int>(std::min<int64_t>(passes, kGoldMaxPasses));
}

std::map<std::string, int64_t> CountRowsPerDate(const RecordBatch& batch, std::string_view date_column) {
  std::map<std::string, int64_t> out;
  if (batch.num_rows() == 0) return out;
  const Column& c = batch.column(date_column);
  std::string_view last;
  int64_t run = 0;
  // Rows usually arrive grouped by date: count runs, one map update per run.
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    std::string_view d = c.GetString(r);
    if (run > 0 && d != last) {
      out[std::string(last)] += run;
      run = 0;
    }
    last = d;
    ++run;
  }
  out[std::string(last)] += run;
  return out;
}

struct GoldAccumulator::State {
  State(const std::vector<std::string>& target_dates, int64_t now, int passes)
      : slots(target_dates), now_us(now), running(passes), results(passes) {}
  GoldResult Finish();

  DateSlots slots;
  int64_t now_us;
  std::vector<std::unique_ptr<GoldPass>> running;  // [pass], created by its first Add
  std::vector<std::optional<PassResult>> results;  // [pass], set by EndPass
};

GoldResult GoldAccumulator::State::Finish() {
  GoldResult res{RecordBatch(HourlyStatsTable().schema), RecordBatch(RiskScoresTable().schema),
                 RecordBatch(DailySummaryTable().schema), RecordBatch(TrendingPagesTable().schema),
                 RecordBatch(TopContributorsTable().schema)};
  const int32_t nt = slots.nt;
  const std::vector<std::string>& targets = slots.targets;

  std::vector<HourlyRow> hourly_parts;
  std::vector<DailyCounts> daily(nt);
  std::vector<RiskRow> risk;
  std::vector<ContribRow> contrib;
  std::vector<TrendRow> trending;
  for (const auto& r : results) {
    hourly_parts.insert(hourly_parts.end(), r->hourly.begin(), r->hourly.end());
    for (int32_t t = 0; t < nt; ++t) daily[t].Add(r->daily[t]);
    risk.insert(risk.end(), r->risk.begin(), r->risk.end());
    contrib.insert(contrib.end(), r->contrib.begin(), r->contrib.end());
    trending.insert(trending.end(), r->trending.begin(), r->trending.end());
  }

  // ---- hourly_stats: one row per group, its passes' counts added ----
  {
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
    RecordBatch& out = res.hourly_stats;
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

  // ---- risk_scores ----
  struct DayRisk {
    int64_t scored = 0, score_sum = 0, alerts = 0;
    std::array<int64_t, model::kRiskLevelCount> per_level{};
    int32_t max_score = 0;
  };
  std::vector<DayRisk> day_risk(nt);
  {
    std::sort(risk.begin(), risk.end(), [](const RiskRow& a, const RiskRow& b) {
      return a.date != b.date ? a.date < b.date : a.user < b.user;
    });
    RecordBatch& out = res.risk_scores;
    out.Reserve(risk.size());
    auto& col = out.columns();
    for (const RiskRow& a : risk) {
      const transform::RiskInputs& in = a.in;
      transform::RiskAssessment ra = transform::AssessRisk(in);
      DayRisk& dr = day_risk[a.date];
      ++dr.scored;
      dr.score_sum += ra.score;
      dr.max_score = std::max(dr.max_score, ra.score);
      ++dr.per_level[static_cast<size_t>(ra.level)];
      dr.alerts += ra.alert;
      int i = 0;
      col[i++].AppendString(targets[a.date]);
      col[i++].AppendString(a.user);
      col[i++].AppendString("user");
      col[i++].AppendString(model::Name(a.name_class));
      col[i++].AppendInt64(in.total_edits);
      col[i++].AppendInt64(in.peak_hour_edits);
      col[i++].AppendInt64(a.active_hours);
      col[i++].AppendInt64(in.large_deletions);
      col[i++].AppendInt64(in.domains_edited);
      col[i++].AppendInt64(in.anonymous_edits);
      col[i++].AppendInt32(ra.velocity_points);
      col[i++].AppendInt32(ra.deletion_points);
      col[i++].AppendInt32(ra.anonymous_points);
      col[i++].AppendInt32(ra.cross_domain_points);
      col[i++].AppendInt32(ra.score);
      col[i++].AppendString(Name(ra.level));
      col[i++].AppendBool(ra.alert);
      col[i++].AppendString(transform::RiskEvidenceJson(in, ra));
      col[i++].AppendInt64(a.first);
      col[i++].AppendInt64(a.last);
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kRiskScoresSchemaVersion);
    }
  }

  // ---- daily_analytics_summary ----
  {
    RecordBatch& out = res.daily_summary;
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

  // ---- top_contributors ----
  {
    KeepTopPerGroup(&contrib, ContribBefore, SameContribGroup, kTopContributorsN);
    std::vector<int32_t> ranks = RanksWithinGroups(contrib, SameContribGroup);
    RecordBatch& out = res.top_contributors;
    auto& col = out.columns();
    for (size_t k = 0; k < contrib.size(); ++k) {
      const ContribRow& c = contrib[k];
      int i = 0;
      col[i++].AppendString(targets[c.date]);
      col[i++].AppendString(c.domain);
      col[i++].AppendString(c.user);
      col[i++].AppendInt64(c.edits);
      col[i++].AppendInt64(c.pages);
      col[i++].AppendInt64(c.bytes_added);
      col[i++].AppendInt64(c.bytes_removed);
      col[i++].AppendBool(c.bot);
      col[i++].AppendString(model::Name(c.type));
      col[i++].AppendInt64(c.first);
      col[i++].AppendInt64(c.last);
      col[i++].AppendInt32(ranks[k]);
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kTopContributorsSchemaVersion);
    }
  }

  // ---- trending_pages ----
  {
    KeepTopPerGroup(&trending, TrendBefore, SameTrendGroup, kTrendingTopN);
    std::vector<int32_t> ranks = RanksWithinGroups(trending, SameTrendGroup);
    RecordBatch& out = res.trending_pages;
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
  return res;
}

GoldAccumulator::GoldAccumulator(const std::vector<std::string>& target_dates, int64_t now_us, int passes)
    : state_(std::make_unique<State>(target_dates, now_us, std::max(1, passes))) {}
GoldAccumulator::~GoldAccumulator() = default;

int GoldAccumulator::passes() const { return static_cast<int>(state_->results.size()); }

void GoldAccumulator::Add(const RecordBatch& silver_part, int pass) {
  std::unique_ptr<GoldPass>& p = state_->running.at(pass);
  if (state_->results[pass]) std::abort();  // rows fed to a pass that has ended: a caller bug
  if (!p) p = std::make_unique<GoldPass>(state_->slots, pass, passes());
  p->Add(silver_part);
}

void GoldAccumulator::EndPass(int pass) {
  std::unique_ptr<GoldPass>& p = state_->running.at(pass);
  if (state_->results[pass]) return;
  state_->results[pass] = p ? p->Finish() : GoldPass(state_->slots, pass, passes()).Finish();
  p.reset();
}

GoldResult GoldAccumulator::Finish() {
  for (int pass = 0; pass < passes(); ++pass) EndPass(pass);
  return state_->Finish();
}

GoldResult ComputeGold(const RecordBatch& silver, const std::vector<std::string>& target_dates, int64_t now_us) {
  GoldAccumulator gold(target_dates, now_us);
  gold.Add(silver);
  return gold.Finish();
}

}  // namespace ws::transform
