#include "wikistream/pipeline/gold.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "wikistream/common/time.h"
#include "wikistream/pipeline/rules.h"
#include "wikistream/pipeline/table_schemas.h"

namespace ws::pipeline {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Open-addressing tables keyed by 64-bit composites of dense ids: one probe
// sequence per row instead of a node allocation, which is what keeps gold
// over ~1M rows well under a second. Key UINT64_MAX is reserved.
class FlatMap64 {
 public:
  FlatMap64() { Rehash(1024); }
  // The value for key, inserting `value` if absent; second = inserted.
  std::pair<int32_t, bool> FindOrInsert(uint64_t key, int32_t value) {
    size_t i = Mix(key) & mask_;
    while (keys_[i] != kEmpty) {
      if (keys_[i] == key) return {values_[i], false};
      i = (i + 1) & mask_;
    }
    keys_[i] = key;
    values_[i] = value;
    if (++size_ * 10 > keys_.size() * 7) Rehash(keys_.size() * 2);
    return {value, true};
  }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  void Rehash(size_t capacity) {
    std::vector<uint64_t> old_keys(capacity, kEmpty);
    std::vector<int32_t> old_values(capacity);
    old_keys.swap(keys_);
    old_values.swap(values_);
    mask_ = capacity - 1;
    for (size_t j = 0; j < old_keys.size(); ++j) {
      if (old_keys[j] == kEmpty) continue;
      size_t i = Mix(old_keys[j]) & mask_;
      while (keys_[i] != kEmpty) i = (i + 1) & mask_;
      keys_[i] = old_keys[j];
      values_[i] = old_values[j];
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> values_;
  size_t mask_ = 0, size_ = 0;
};

// The distinct-pair sets are gold's largest structures (one entry per
// distinct (group, user) or (group, title) pair of a day): keys only.
class FlatSet64 {
 public:
  FlatSet64() { Rehash(1024); }
  bool Insert(uint64_t key) {
    size_t i = Mix(key) & mask_;
    while (keys_[i] != kEmpty) {
      if (keys_[i] == key) return false;
      i = (i + 1) & mask_;
    }
    keys_[i] = key;
    if (++size_ * 10 > keys_.size() * 7) Rehash(keys_.size() * 2);
    return true;
  }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  void Rehash(size_t capacity) {
    std::vector<uint64_t> old(capacity, kEmpty);
    old.swap(keys_);
    mask_ = capacity - 1;
    for (uint64_t k : old) {
      if (k == kEmpty) continue;
      size_t i = Mix(k) & mask_;
      while (keys_[i] != kEmpty) i = (i + 1) & mask_;
      keys_[i] = k;
    }
  }
  std::vector<uint64_t> keys_;
  size_t mask_ = 0, size_ = 0;
};

// Strings of the input are interned to dense ids once per row so that every
// aggregation below works on integers. Each distinct string is copied once
// into the interner's own blocks, so the silver rows can be freed after Add.
class Interner {
 public:
  Interner() : table_(1024, -1), mask_(1023) {}
  int32_t Id(std::string_view s) {
    uint64_t h = std::hash<std::string_view>{}(s);
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

enum EventKind : uint8_t { kEdit, kNew, kLog, kCategorize, kExternal, kOtherKind };

EventKind KindOf(std::string_view t) {
  if (t == "edit") return kEdit;
  if (t == "new") return kNew;
  if (t == "log") return kLog;
  if (t == "categorize") return kCategorize;
  if (t == "external") return kExternal;
  return kOtherKind;
}

int RegionIndex(std::string_view region) {
  if (region == "europe") return 0;
  if (region == "americas") return 1;
  if (region == "asia_pacific") return 2;
  if (region == "middle_east") return 3;
  return 4;  // other
}

double Pct(int64_t part, int64_t total) {
  return total == 0 ? 0.0 : rules::Round2(100.0 * static_cast<double>(part) / static_cast<double>(total));
}

uint64_t Pair(uint64_t group, uint32_t value) { return (group << 32) | value; }

struct HourlyAgg {
  int32_t date = 0, hour = 0, domain = 0;
  std::string_view region;
  int64_t total = 0, bytes_added = 0, bytes_removed = 0, abs_delta_sum = 0, delta_count = 0;
  int64_t bot = 0, anonymous = 0, large_del = 0, large_add = 0;
  int64_t users = 0, pages = 0;  // distinct
  std::array<int64_t, 5> types{};
};

struct RiskAgg {
  int32_t date = 0, user = 0;
  int64_t total = 0, large_del = 0, anonymous = 0, domains = 0;
  std::array<int32_t, 24> hours{};
  int64_t first = INT64_MAX, last = INT64_MIN;
};

struct DailyAgg {
  int64_t total = 0, bytes_added = 0, bytes_removed = 0, abs_delta_sum = 0, delta_count = 0;
  int64_t bot = 0, anonymous = 0, registered = 0, new_pages = 0, large_del = 0, large_add = 0;
  int64_t users = 0, pages = 0;  // distinct
  std::array<int64_t, 5> regions{};
  std::array<int64_t, 24> hours{};
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

struct TrendCandidate {
  int32_t date, hour, domain, title;
  int64_t edits, editors, bytes, prev;
  double score;
};

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

// ComputeGold's working state: the interned strings and the aggregates of
// every row added so far.
struct GoldAccumulator::State {
  State(const std::vector<std::string>& target_dates_in, int64_t now);
  void Add(const RecordBatch& silver);
  GoldResult Finish();

  int64_t now_us;
  bool any_rows = false;
  std::vector<std::string> targets;
  int32_t nt = 0;
  std::vector<std::string> slot_dates;
  std::vector<int64_t> slot_day;
  int64_t min_day = INT64_MAX;
  std::unordered_map<std::string_view, int32_t> slot_of;  // views into slot_dates, fixed after construction
  Interner domains, users, titles, regions;
  FlatMap64 page_of;  // domain << 32 | title -> page id
  std::vector<int32_t> page_domain, page_title;

  std::vector<DailyAgg> daily;
  std::vector<std::vector<uint8_t>> daily_domains;
  FlatSet64 daily_users, daily_pages;
  FlatMap64 hourly_of;
  std::vector<HourlyAgg> hourly;
  FlatSet64 hourly_users, hourly_titles;
  FlatMap64 risk_of;
  std::vector<RiskAgg> risk;
  FlatSet64 risk_domains;
  FlatMap64 contrib_of;
  std::vector<ContribAgg> contrib;
  FlatSet64 contrib_titles;
  FlatMap64 page_hour_of;  // page << 32 | hour slot -> index into page_hours
  std::vector<PageHour> page_hours;
  FlatSet64 page_hour_editors;

};

GoldAccumulator::State::State(const std::vector<std::string>& target_dates_in, int64_t now) : now_us(now) {
  targets = target_dates_in;
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  nt = static_cast<int32_t>(targets.size());

  // Loaded dates: targets (slots 0..nt-1) and the previous day of each that
  // is not itself a target (trending only). Day numbers give UTC hour slots.
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
  daily.resize(nt);
  daily_domains.resize(nt);
}

void GoldAccumulator::State::Add(const RecordBatch& silver) {
  if (nt == 0 || silver.num_rows() == 0) return;
  any_rows = true;
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

  const size_t n = silver.num_rows();
  std::string_view last_date;
  int32_t last_slot = -1;
  for (size_t r = 0; r < n; ++r) {
    std::string_view date = c_date.GetString(r);
    if (r == 0 || date != last_date) {
      auto it = slot_of.find(date);
      last_slot = it == slot_of.end() ? -2 : it->second;
      last_date = date;
    }
    if (last_slot < 0) continue;  // a date this computation does not need
    const int32_t slot = last_slot;
    const bool is_target = slot < nt;
    const int32_t hour = c_hour.GetInt32(r);
    if (hour < 0 || hour > 23) continue;  // impossible by construction (the silver gate checks it)
    const EventKind kind = KindOf(c_type.GetString(r));
    const int32_t domain = domains.Id(c_domain.GetString(r));
    const int32_t title = c_title.IsValid(r) ? titles.Id(c_title.GetString(r)) : -1;
    const int32_t user = c_user.IsValid(r) ? users.Id(c_user.GetString(r)) : -1;
    const bool delta_valid = c_delta.IsValid(r);
    const int32_t delta = delta_valid ? c_delta.GetInt32(r) : 0;
    const int32_t abs_delta = delta < 0 ? -delta : delta;
    int32_t page = -1;
    if (title >= 0) {
      uint64_t pk = Pair(static_cast<uint32_t>(domain), static_cast<uint32_t>(title));
      auto [id, inserted] = page_of.FindOrInsert(pk, static_cast<int32_t>(page_domain.size()));
      if (inserted) {
        page_domain.push_back(domain);
        page_title.push_back(title);
      }
      page = id;
    }

    if ((kind == kEdit || kind == kNew) && page >= 0) {
      uint32_t hour_slot = static_cast<uint32_t>((slot_day[slot] - min_day) * 24 + hour);
      auto [ph, ph_new] =
          page_hour_of.FindOrInsert(Pair(static_cast<uint32_t>(page), hour_slot), static_cast<int32_t>(page_hours.size()));
      if (ph_new) page_hours.push_back(PageHour{page, static_cast<int32_t>(hour_slot)});
      PageHour& p = page_hours[ph];
      ++p.edits;
      p.bytes += abs_delta;
      if (user >= 0 && page_hour_editors.Insert(Pair(static_cast<uint32_t>(ph), static_cast<uint32_t>(user)))) ++p.editors;
    }
    if (!is_target) continue;

    const bool bot = c_bot.GetBool(r);
    const bool anon = c_anon.GetBool(r);
    const bool ldel = c_ldel.GetBool(r);
    const bool ladd = c_ladd.GetBool(r);
    const int64_t ts = c_ts.GetInt64(r);
    const int64_t added = delta > 0 ? delta : 0;
    const int64_t removed = delta < 0 ? -static_cast<int64_t>(delta) : 0;

    // hourly_stats
    uint64_t hkey = (static_cast<uint64_t>(slot * 24 + hour) << 32) | static_cast<uint32_t>(domain);
    auto [hg, hnew] = hourly_of.FindOrInsert(hkey, static_cast<int32_t>(hourly.size()));
    if (hnew) {
      HourlyAgg h;
      h.date = slot;
      h.hour = hour;
      h.domain = domain;
      h.region = regions.Value(regions.Id(c_region.GetString(r)));
      hourly.push_back(h);
    }
    HourlyAgg& h = hourly[hg];
    ++h.total;
    h.bytes_added += added;
    h.bytes_removed += removed;
    if (delta_valid) {
      h.abs_delta_sum += abs_delta;
      ++h.delta_count;
    }
    h.bot += bot;
    h.anonymous += anon;
    h.large_del += ldel;
    h.large_add += ladd;
    if (kind != kOtherKind) ++h.types[kind];
    if (user >= 0 && hourly_users.Insert(Pair(hg, user))) ++h.users;
    if (title >= 0 && hourly_titles.Insert(Pair(hg, title))) ++h.pages;

    // daily_analytics_summary
    DailyAgg& d = daily[slot];
    ++d.total;
    d.bytes_added += added;
    d.bytes_removed += removed;
    if (delta_valid) {
      d.abs_delta_sum += abs_delta;
      ++d.delta_count;
    }
    d.bot += bot;
    d.anonymous += anon;
    d.registered += c_user_type.GetString(r) == "registered";
    d.new_pages += kind == kNew;
    d.large_del += ldel;
    d.large_add += ladd;
    ++d.regions[RegionIndex(c_region.GetString(r))];
    ++d.hours[hour];
    if (daily_domains[slot].size() <= static_cast<size_t>(domain)) daily_domains[slot].resize(domain + 1, 0);
    daily_domains[slot][domain] = 1;
    if (user >= 0 && daily_users.Insert(Pair(slot, user))) ++d.users;
    if (page >= 0 && daily_pages.Insert(Pair(slot, page))) ++d.pages;

    if (user < 0) continue;
    // top_contributors (bots included)
    uint64_t ckey = (static_cast<uint64_t>(slot) << 56) | (static_cast<uint64_t>(domain) << 32) |
                    static_cast<uint32_t>(user);
    auto [cg, cnew] = contrib_of.FindOrInsert(ckey, static_cast<int32_t>(contrib.size()));
    if (cnew) {
      ContribAgg c;
      c.date = slot;
      c.domain = domain;
      c.user = user;
      contrib.push_back(c);
    }
    ContribAgg& c = contrib[cg];
    ++c.edits;
    c.bytes_added += added;
    c.bytes_removed += removed;
    c.bot = c.bot || bot;
    c.first = std::min(c.first, ts);
    c.last = std::max(c.last, ts);
    if (title >= 0 && contrib_titles.Insert(Pair(cg, title))) ++c.pages;

    // risk_scores: humans with a name
    if (bot) continue;
    uint64_t rkey = Pair(slot, user);
    auto [rg, rnew] = risk_of.FindOrInsert(rkey, static_cast<int32_t>(risk.size()));
    if (rnew) {
      RiskAgg a;
      a.date = slot;
      a.user = user;
      risk.push_back(a);
    }
    RiskAgg& a = risk[rg];
    ++a.total;
    ++a.hours[hour];
    a.large_del += ldel;
    a.anonymous += anon;
    a.first = std::min(a.first, ts);
    a.last = std::max(a.last, ts);
    if (risk_domains.Insert(Pair(rg, domain))) ++a.domains;
  }

}

GoldResult GoldAccumulator::State::Finish() {
  GoldResult res{RecordBatch(HourlyStatsTable().schema), RecordBatch(RiskScoresTable().schema),
                 RecordBatch(DailySummaryTable().schema), RecordBatch(TrendingPagesTable().schema),
                 RecordBatch(TopContributorsTable().schema)};

  if (nt == 0 || !any_rows) return res;
  std::vector<int8_t> name_class(users.size(), -1);
  auto class_of = [&](int32_t user) {
    if (name_class[user] < 0) {
      name_class[user] = static_cast<int8_t>(rules::ClassifyName(std::string(users.Value(user))));
    }
    return static_cast<rules::UserType>(name_class[user]);
  };

  // ---- hourly_stats ----
  {
    std::vector<int32_t> order(hourly.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      const HourlyAgg& x = hourly[a];
      const HourlyAgg& y = hourly[b];
      if (x.date != y.date) return x.date < y.date;  // slots 0..nt-1 are sorted dates
      if (x.hour != y.hour) return x.hour < y.hour;
      return domains.Value(x.domain) < domains.Value(y.domain);
    });
    RecordBatch& out = res.hourly_stats;
    out.Reserve(order.size());
    auto& col = out.columns();
    for (int32_t g : order) {
      const HourlyAgg& h = hourly[g];
      int i = 0;
      col[i++].AppendString(targets[h.date]);
      col[i++].AppendInt32(h.hour);
      col[i++].AppendString(domains.Value(h.domain));
      col[i++].AppendString(h.region);
      col[i++].AppendInt64(h.total);
      col[i++].AppendInt64(h.users);
      col[i++].AppendInt64(h.pages);
      col[i++].AppendInt64(h.bytes_added);
      col[i++].AppendInt64(h.bytes_removed);
      if (h.delta_count > 0) {
        col[i++].AppendDouble(rules::Round2(static_cast<double>(h.abs_delta_sum) / h.delta_count));
      } else {
        col[i++].AppendNull();
      }
      col[i++].AppendInt64(h.bot);
      col[i++].AppendInt64(h.total - h.bot);
      col[i++].AppendDouble(Pct(h.bot, h.total));
      col[i++].AppendInt64(h.anonymous);
      col[i++].AppendDouble(Pct(h.anonymous, h.total));
      for (int k = 0; k < 5; ++k) col[i++].AppendInt64(h.types[k]);
      col[i++].AppendInt64(h.large_del);
      col[i++].AppendInt64(h.large_add);
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kHourlyStatsSchemaVersion);
    }
  }

  // ---- risk_scores ----
  struct DayRisk {
    int64_t scored = 0, high = 0, medium = 0, low = 0, score_sum = 0, alerts = 0;
    int32_t max_score = 0;
  };
  std::vector<DayRisk> day_risk(nt);
  {
    std::vector<int32_t> order;
    for (size_t i = 0; i < risk.size(); ++i) {
      if (risk[i].total >= rules::kMinEventsForRiskScore) order.push_back(static_cast<int32_t>(i));
    }
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      if (risk[a].date != risk[b].date) return risk[a].date < risk[b].date;
      return users.Value(risk[a].user) < users.Value(risk[b].user);
    });
    RecordBatch& out = res.risk_scores;
    out.Reserve(order.size());
    auto& col = out.columns();
    for (int32_t e : order) {
      const RiskAgg& a = risk[e];
      rules::RiskInputs in;
      in.total_edits = a.total;
      int64_t active = 0;
      for (int32_t c : a.hours) {
        in.peak_hour_edits = std::max<int64_t>(in.peak_hour_edits, c);
        active += c > 0;
      }
      in.large_deletions = a.large_del;
      in.domains_edited = a.domains;
      in.anonymous_edits = a.anonymous;
      rules::RiskAssessment ra = rules::AssessRisk(in);
      DayRisk& dr = day_risk[a.date];
      ++dr.scored;
      dr.score_sum += ra.score;
      dr.max_score = std::max(dr.max_score, ra.score);
      dr.high += ra.level == "HIGH";
      dr.medium += ra.level == "MEDIUM";
      dr.low += ra.level == "LOW";
      dr.alerts += ra.alert;
      int i = 0;
      col[i++].AppendString(targets[a.date]);
      col[i++].AppendString(users.Value(a.user));
      col[i++].AppendString("user");
      col[i++].AppendString(rules::UserTypeName(class_of(a.user)));
      col[i++].AppendInt64(in.total_edits);
      col[i++].AppendInt64(in.peak_hour_edits);
      col[i++].AppendInt64(active);
      col[i++].AppendInt64(in.large_deletions);
      col[i++].AppendInt64(in.domains_edited);
      col[i++].AppendInt64(in.anonymous_edits);
      col[i++].AppendInt32(ra.velocity_points);
      col[i++].AppendInt32(ra.deletion_points);
      col[i++].AppendInt32(ra.anonymous_points);
      col[i++].AppendInt32(ra.cross_domain_points);
      col[i++].AppendInt32(ra.score);
      col[i++].AppendString(ra.level);
      col[i++].AppendBool(ra.alert);
      col[i++].AppendString(rules::RiskEvidenceJson(in, ra));
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
      const DailyAgg& d = daily[t];
      if (d.total == 0) continue;
      const DayRisk& dr = day_risk[t];
      int64_t active_domains = std::count(daily_domains[t].begin(), daily_domains[t].end(), 1);
      int peak_hour = 0;
      int64_t hours_with_events = 0;
      for (int hh = 0; hh < 24; ++hh) {
        if (d.hours[hh] > d.hours[peak_hour]) peak_hour = hh;
        hours_with_events += d.hours[hh] > 0;
      }
      const double total = static_cast<double>(d.total);
      double p1 = dr.scored == 0 ? 40.0 : 40.0 * static_cast<double>(dr.low) / static_cast<double>(dr.scored);
      double p2 = 30.0 * static_cast<double>(d.registered) / total;
      double p3 = d.bytes_added > d.bytes_removed ? 20.0 : (2 * d.bytes_added > d.bytes_removed ? 10.0 : 0.0);
      double p4 = 100 * d.large_del < d.total ? 10.0 : (20 * d.large_del < d.total ? 5.0 : 0.0);
      double health = std::clamp(p1 + p2 + p3 + p4, 0.0, 100.0);
      int i = 0;
      col[i++].AppendString(targets[t]);
      col[i++].AppendInt64(d.total);
      col[i++].AppendInt64(d.users);
      col[i++].AppendInt64(active_domains);
      col[i++].AppendInt64(d.pages);
      col[i++].AppendDouble(Pct(d.bot, d.total));
      col[i++].AppendDouble(Pct(d.anonymous, d.total));
      col[i++].AppendDouble(Pct(d.registered, d.total));
      col[i++].AppendInt64(d.bytes_added);
      col[i++].AppendInt64(d.bytes_removed);
      col[i++].AppendInt64(d.bytes_added - d.bytes_removed);
      if (d.delta_count > 0) {
        col[i++].AppendDouble(rules::Round2(static_cast<double>(d.abs_delta_sum) / d.delta_count));
      } else {
        col[i++].AppendNull();
      }
      col[i++].AppendInt64(d.new_pages);
      col[i++].AppendInt64(d.large_del);
      col[i++].AppendInt64(d.large_add);
      col[i++].AppendDouble(rules::RoundTo(100.0 * static_cast<double>(d.large_del) / total, 4));
      col[i++].AppendInt64(dr.high);
      col[i++].AppendInt64(dr.medium);
      col[i++].AppendInt64(dr.low);
      col[i++].AppendDouble(dr.scored == 0 ? 0.0
                                           : rules::Round2(static_cast<double>(dr.score_sum) /
                                                           static_cast<double>(dr.scored)));
      col[i++].AppendInt32(dr.max_score);
      col[i++].AppendInt64(dr.alerts);
      for (int k = 0; k < 5; ++k) col[i++].AppendDouble(Pct(d.regions[k], d.total));
      col[i++].AppendInt32(peak_hour);
      col[i++].AppendInt64(d.hours[peak_hour]);
      col[i++].AppendDouble(rules::Round2(total / static_cast<double>(hours_with_events)));
      col[i++].AppendDouble(rules::Round2(health));
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kDailySummarySchemaVersion);
    }
  }

  // ---- top_contributors ----
  {
    std::vector<int32_t> order(contrib.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      const ContribAgg& x = contrib[a];
      const ContribAgg& y = contrib[b];
      if (x.date != y.date) return x.date < y.date;
      if (x.domain != y.domain) return domains.Value(x.domain) < domains.Value(y.domain);
      if (x.edits != y.edits) return x.edits > y.edits;
      if (x.bytes_added != y.bytes_added) return x.bytes_added > y.bytes_added;
      return users.Value(x.user) < users.Value(y.user);
    });
    RecordBatch& out = res.top_contributors;
    auto& col = out.columns();
    int32_t rank = 0;
    int32_t prev_date = -1, prev_domain = -1;
    for (int32_t k : order) {
      const ContribAgg& c = contrib[k];
      if (c.date != prev_date || c.domain != prev_domain) {
        rank = 0;
        prev_date = c.date;
        prev_domain = c.domain;
      }
      if (++rank > kTopContributorsN) continue;
      int i = 0;
      col[i++].AppendString(targets[c.date]);
      col[i++].AppendString(domains.Value(c.domain));
      col[i++].AppendString(users.Value(c.user));
      col[i++].AppendInt64(c.edits);
      col[i++].AppendInt64(c.pages);
      col[i++].AppendInt64(c.bytes_added);
      col[i++].AppendInt64(c.bytes_removed);
      col[i++].AppendBool(c.bot);
      col[i++].AppendString(c.bot ? "bot" : rules::UserTypeName(class_of(c.user)));
      col[i++].AppendInt64(c.first);
      col[i++].AppendInt64(c.last);
      col[i++].AppendInt32(rank);
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kTopContributorsSchemaVersion);
    }
  }

  // ---- trending_pages ----
  {
    // Each page's hours in ascending order, for the sliding 24-hour window.
    std::vector<PageHour>& ph = page_hours;
    std::sort(ph.begin(), ph.end(), [](const PageHour& a, const PageHour& b) {
      return a.page != b.page ? a.page < b.page : a.slot < b.slot;
    });
    // Hour slot -> target date index (or -1 for a previous-day-only slot).
    std::unordered_map<int64_t, int32_t> target_of_day;
    for (int32_t t = 0; t < nt; ++t) target_of_day[slot_day[t] - min_day] = t;

    std::vector<TrendCandidate> cand;
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
      TrendCandidate c;
      c.date = it->second;
      c.hour = ph[i].slot % 24;
      c.domain = page_domain[ph[i].page];
      c.title = page_title[ph[i].page];
      c.edits = ph[i].edits;
      c.editors = ph[i].editors;
      c.bytes = ph[i].bytes;
      c.prev = prev;
      c.score = rules::RoundTo(static_cast<double>(c.edits) / (1.0 + static_cast<double>(prev) / 24.0), 4);
      cand.push_back(c);
    }
    std::sort(cand.begin(), cand.end(), [&](const TrendCandidate& a, const TrendCandidate& b) {
      if (a.date != b.date) return a.date < b.date;
      if (a.hour != b.hour) return a.hour < b.hour;
      if (a.domain != b.domain) return domains.Value(a.domain) < domains.Value(b.domain);
      if (a.score != b.score) return a.score > b.score;
      if (a.edits != b.edits) return a.edits > b.edits;
      return titles.Value(a.title) < titles.Value(b.title);
    });
    RecordBatch& out = res.trending_pages;
    auto& col = out.columns();
    int32_t rank = 0;
    for (size_t k = 0; k < cand.size(); ++k) {
      const TrendCandidate& c = cand[k];
      if (k == 0 || c.date != cand[k - 1].date || c.hour != cand[k - 1].hour || c.domain != cand[k - 1].domain) {
        rank = 0;
      }
      if (++rank > kTrendingTopN) continue;
      int i = 0;
      col[i++].AppendString(targets[c.date]);
      col[i++].AppendInt32(c.hour);
      col[i++].AppendString(domains.Value(c.domain));
      col[i++].AppendString(titles.Value(c.title));
      col[i++].AppendInt64(c.edits);
      col[i++].AppendInt64(c.editors);
      col[i++].AppendInt64(c.bytes);
      col[i++].AppendInt64(c.prev);
      col[i++].AppendDouble(c.score);
      col[i++].AppendInt32(rank);
      col[i++].AppendInt64(now_us);
      col[i++].AppendString(kTrendingPagesSchemaVersion);
    }
  }
  return res;
}

GoldAccumulator::GoldAccumulator(const std::vector<std::string>& target_dates, int64_t now_us)
    : state_(std::make_unique<State>(target_dates, now_us)) {}
GoldAccumulator::~GoldAccumulator() = default;
void GoldAccumulator::Add(const RecordBatch& silver_part) { state_->Add(silver_part); }
GoldResult GoldAccumulator::Finish() { return state_->Finish(); }

GoldResult ComputeGold(const RecordBatch& silver, const std::vector<std::string>& target_dates, int64_t now_us) {
  GoldAccumulator gold(target_dates, now_us);
  gold.Add(silver);
  return gold.Finish();
}

}  // namespace ws::pipeline
