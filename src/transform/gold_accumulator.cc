#include "gold_internal.h"

#include <cstdlib>

#include "wikistream/common/time.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

namespace detail {

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

}  // namespace detail

using detail::ContribRow;
using detail::DailyCounts;
using detail::DateSlots;
using detail::DayRisk;
using detail::GoldPass;
using detail::HourlyRow;
using detail::PassResult;
using detail::RiskRow;
using detail::TrendRow;
using format::Column;
using format::RecordBatch;
using warehouse::DailySummaryTable;
using warehouse::HourlyStatsTable;
using warehouse::RiskScoresTable;
using warehouse::TopContributorsTable;
using warehouse::TrendingPagesTable;

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

  // The passes' rows, merged: each output table's file adds, cuts or ranks them.
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
  detail::AppendHourlyStats(std::move(hourly_parts), targets, now_us, &res.hourly_stats);
  std::vector<DayRisk> day_risk = detail::AppendRiskScores(std::move(risk), targets, now_us, &res.risk_scores);
  detail::AppendDailySummary(daily, day_risk, targets, now_us, &res.daily_summary);
  detail::AppendTopContributors(std::move(contrib), targets, now_us, &res.top_contributors);
  detail::AppendTrendingPages(std::move(trending), targets, now_us, &res.trending_pages);
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
