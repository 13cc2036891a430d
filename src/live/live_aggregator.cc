#include "wikistream/live/live_aggregator.h"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"
#include "wikistream/model/event_type.h"
#include "wikistream/model/region.h"
#include "wikistream/model/risk_level.h"
#include "wikistream/model/user.h"
#include "wikistream/transform/rules.h"

namespace ws::live {

using alerts::AlertSink;
using format::Column;
using format::RecordBatch;
using format::Schema;
using model::Alert;
using model::RegionOf;

namespace {

using nlohmann::json;

constexpr int64_t kSecondSlots = 120;
constexpr int64_t kMinuteSlots = 60;
constexpr int kNumRegions = static_cast<int>(model::kRegionCount);
// The event types counted by name, then every other type under "other".
constexpr int kNumTypes = static_cast<int>(model::kEventTypeCount) + 1;
constexpr std::string_view kOtherTypes = "other";
constexpr std::string_view kOtherDomain = "(other)";
constexpr size_t kTopWikis = 20;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

int TypeIndex(std::string_view type) {
  std::optional<model::EventType> t = model::ParseEventType(type);
  return t ? static_cast<int>(*t) : kNumTypes - 1;
}

std::string_view TypeKey(int index) {
  return index < kNumTypes - 1 ? Name(static_cast<model::EventType>(index)) : kOtherTypes;
}

int RegionIndex(model::Region region) { return static_cast<int>(region); }
std::string RegionKey(int index) { return std::string(Name(static_cast<model::Region>(index))); }

// Counts of one time bucket (one second or one minute).
struct Slot {
  int64_t tag = std::numeric_limits<int64_t>::min();
  int64_t total = 0, bot = 0, human = 0, anon = 0;
  std::array<int64_t, kNumRegions> by_region{};
  std::array<int64_t, kNumTypes> by_type{};
  std::vector<int64_t> by_domain;  // indexed by domain id

  void Reset(int64_t t) {
    tag = t;
    total = bot = human = anon = 0;
    by_region.fill(0);
    by_type.fill(0);
    std::fill(by_domain.begin(), by_domain.end(), 0);
  }
};

struct MinuteEntry {
  int32_t minute;  // epoch minute
  int32_t edits;
  int64_t bytes;
};

struct Page {
  uint32_t domain;
  std::string title;
  std::vector<MinuteEntry> minutes;  // ascending by minute
  // Sums over `minutes`: the page's last hour as of the last sweep.
  int64_t hour_edits = 0, hour_bytes = 0;
};

// Trending order (as gold.trending_pages ranks): edits desc, title, domain.
// The set is kept up to date as edits come and minutes leave, so a snapshot
// reads the top pages instead of scanning every page of the hour.
struct RankedPage {
  int64_t edits;
  const Page* page;
};
struct RankedPageOrder {
  const std::vector<std::string>* domain_names;
  bool operator()(const RankedPage& a, const RankedPage& b) const {
    if (a.edits != b.edits) return a.edits > b.edits;
    if (a.page->title != b.page->title) return a.page->title < b.page->title;
    const std::string& da = (*domain_names)[a.page->domain];
    const std::string& db = (*domain_names)[b.page->domain];
    if (da != db) return da < db;
    return a.page < b.page;
  }
};

struct UserState {
  std::array<int32_t, 24> hours{};
  int64_t total = 0;
  int64_t large_deletions = 0;
  int64_t anonymous = 0;
  std::vector<uint32_t> domains;  // distinct domain ids
  int64_t first_seen = 0, last_seen = 0;
  model::UserType name_type = model::UserType::kUnknown;
  int score = 0;
  int level = -1;  // -1 unscored, else the model::RiskLevel
  bool alerted = false;
  int64_t ranked_total = 0;  // `total` when last placed in State::ranked_users
};

// The riskiest-first order of SnapshotJson: score desc, edits desc, name.
// Kept up to date as users are scored, for the same reason as RankedPage.
struct RankedUser {
  int score;
  int64_t total;
  const std::string* name;
  const UserState* user;
  bool operator<(const RankedUser& o) const {
    if (score != o.score) return score > o.score;
    if (total != o.total) return total > o.total;
    return *name < *o.name;
  }
};


transform::RiskInputs InputsOf(const UserState& u) {
  transform::RiskInputs in;
  in.total_edits = u.total;
  in.peak_hour_edits = *std::max_element(u.hours.begin(), u.hours.end());
  in.large_deletions = u.large_deletions;
  in.domains_edited = static_cast<int64_t>(u.domains.size());
  in.anonymous_edits = u.anonymous;
  return in;
}

// Column indexes by name, so the aggregator accepts any batch carrying the
// bronze columns it needs.
struct Cols {
  int event_type, domain, title, user, is_bot, length_delta, event_timestamp;
  static std::optional<Cols> Of(const Schema& s) {
    Cols c{s.FieldIndex("event_type"), s.FieldIndex("domain"),       s.FieldIndex("title"),
           s.FieldIndex("user"),       s.FieldIndex("is_bot"),       s.FieldIndex("length_delta"),
           s.FieldIndex("event_timestamp")};
    if (c.event_type < 0 || c.domain < 0 || c.is_bot < 0 || c.event_timestamp < 0) return std::nullopt;
    return c;
  }
};

json AlertJson(const Alert& a) {
  json details = json::parse(a.details, nullptr, false);
  if (details.is_discarded()) details = a.details;
  return json{{"alert_id", a.alert_id}, {"raised_at", FormatIso8601Millis(a.raised_at_us)},
              {"alert_date", a.alert_date}, {"kind", a.kind},
              {"severity", a.severity},     {"subject", a.subject},
              {"entity", a.entity},         {"details", details}};
}

}  // namespace

// ---------------------------------------------------------------------------
// LiveSubscription

std::optional<LiveMessage> LiveSubscription::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) return std::nullopt;
  LiveMessage m = std::move(queue_.front());
  queue_.pop_front();
  return m;
}

void LiveSubscription::Close() {
  std::function<void()> on_ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    on_ready = on_ready_;
  }
  cv_.notify_all();
  if (on_ready) on_ready();
}

void LiveSubscription::set_on_ready(std::function<void()> on_ready) {
  std::lock_guard<std::mutex> lock(mu_);
  on_ready_ = std::move(on_ready);
}

bool LiveSubscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

uint64_t LiveSubscription::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void LiveSubscription::Push(LiveMessage message) {
  std::function<void()> on_ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    on_ready = on_ready_;
    // A slow reader loses old summaries rather than holding memory; alerts
    // are preferred over summaries when making room.
    while (queue_.size() >= std::max<size_t>(1, max_queue_)) {
      auto it = std::find_if(queue_.begin(), queue_.end(), [](const LiveMessage& m) { return m.event == "summary"; });
      if (it == queue_.end()) it = queue_.begin();
      queue_.erase(it);
      ++dropped_;
    }
    queue_.push_back(std::move(message));
  }
  cv_.notify_one();
  if (on_ready) on_ready();
}

// ---------------------------------------------------------------------------
// State

struct LiveAggregator::State {
  // Domains, interned; id 0 is the overflow bucket.
  std::unordered_map<std::string, uint32_t> domain_ids;
  std::vector<std::string> domain_names;
  std::vector<int> domain_region;

  std::array<Slot, kSecondSlots> seconds;
  std::array<Slot, kMinuteSlots> minutes;

  std::unordered_map<std::string, Page> pages;  // key: domain id + '\n' + title
  std::set<RankedPage, RankedPageOrder> ranked_pages{RankedPageOrder{&domain_names}};  // pages with hour_edits > 0
  int64_t pages_swept_minute = std::numeric_limits<int64_t>::min();
  uint64_t trending_untracked = 0;

  int64_t day = std::numeric_limits<int64_t>::min();  // epoch day of the current day
  std::string day_date;
  int64_t day_total = 0, day_bot = 0, day_human = 0, day_anon = 0, day_untracked = 0;
  std::vector<int64_t> day_by_domain;
  std::unordered_map<std::string, UserState> users;
  std::set<RankedUser> ranked_users;  // every scored user
  std::array<int64_t, model::kRiskLevelCount> level_counts{};  // by model::RiskLevel

  std::deque<Alert> recent;  // newest first
  std::map<std::pair<std::string, std::string>, uint64_t> alert_counts;

  State() {
    domain_ids.emplace(std::string(kOtherDomain), 0);
    domain_names.emplace_back(kOtherDomain);
    domain_region.push_back(kNumRegions - 1);
  }

  uint32_t DomainId(std::string_view domain, size_t max_domains) {
    auto it = domain_ids.find(std::string(domain));
    if (it != domain_ids.end()) return it->second;
    if (domain_names.size() >= std::max<size_t>(2, max_domains)) return 0;
    uint32_t id = static_cast<uint32_t>(domain_names.size());
    domain_ids.emplace(std::string(domain), id);
    domain_names.emplace_back(domain);
    domain_region.push_back(RegionIndex(RegionOf(domain).region));
    return id;
  }

  static void Add(Slot& s, uint32_t domain, int region, int type, bool bot, bool anon) {
    ++s.total;
    if (bot) ++s.bot; else ++s.human;
    if (anon) ++s.anon;
    ++s.by_region[region];
    ++s.by_type[type];
    if (s.by_domain.size() <= domain) s.by_domain.resize(domain + 1, 0);
    ++s.by_domain[domain];
  }

  void StartDay(int64_t d) {
    day = d;
    day_date = FormatDate(d * kMicrosPerDay);
    day_total = day_bot = day_human = day_anon = day_untracked = 0;
    day_by_domain.clear();
    ranked_users.clear();
    users.clear();
    level_counts.fill(0);
  }

  // Moves a page's hour totals by (edits, bytes), keeping its rank.
  void AddToHour(Page& page, int64_t edits, int64_t bytes) {
    if (page.hour_edits > 0) ranked_pages.erase(RankedPage{page.hour_edits, &page});
    page.hour_edits += edits;
    page.hour_bytes += bytes;
    if (page.hour_edits > 0) ranked_pages.insert(RankedPage{page.hour_edits, &page});
  }

  // Drops minute entries that left the hour and pages left without any.
  // Once a minute: O(pages).
  void SweepPages(int64_t now_min) {
    if (now_min <= pages_swept_minute) return;
    pages_swept_minute = now_min;
    for (auto it = pages.begin(); it != pages.end();) {
      Page& page = it->second;
      auto& m = page.minutes;
      const auto keep = std::find_if(m.begin(), m.end(), [&](const MinuteEntry& e) { return e.minute > now_min - kMinuteSlots; });
      int64_t edits = 0, bytes = 0;
      for (auto e = m.begin(); e != keep; ++e) {
        edits += e->edits;
        bytes += e->bytes;
      }
      m.erase(m.begin(), keep);
      if (edits > 0) AddToHour(page, -edits, -bytes);
      if (m.empty()) it = pages.erase(it); else ++it;
    }
  }

  // Places a user just scored (score and total updated) in ranked_users.
  void Rank(const std::string& name, UserState& u, int old_score, bool was_scored) {
    if (was_scored) ranked_users.erase(RankedUser{old_score, u.ranked_total, &name, &u});
    u.ranked_total = u.total;
    ranked_users.insert(RankedUser{u.score, u.total, &name, &u});
  }
};

LiveAggregator::LiveAggregator(LiveOptions options, AlertSink* alerts)
    : options_(std::move(options)), alerts_(alerts), state_(std::make_unique<State>()) {
  if (!options_.clock) options_.clock = [] { return NowMicros(); };
}

LiveAggregator::~LiveAggregator() { CloseAllSubscriptions(); }

int64_t LiveAggregator::Now() const {
  if (options_.follow_event_time) {
    const int64_t newest = newest_event_us_.load();
    return newest == 0 ? options_.clock() : newest + (MonotonicMicros() - newest_seen_mono_us_.load());
  }
  return options_.clock();
}

void LiveAggregator::Observe(const RecordBatch& rows) {
  if (rows.num_rows() == 0 || !rows.schema()) return;
  auto cols = Cols::Of(*rows.schema());
  if (!cols) {
    log::Error("live", "Observe: batch lacks the bronze columns; ignored");
    return;
  }
  const Column& c_type = rows.column(cols->event_type);
  const Column& c_domain = rows.column(cols->domain);
  const Column& c_bot = rows.column(cols->is_bot);
  const Column& c_ts = rows.column(cols->event_timestamp);
  const Column* c_title = cols->title >= 0 ? &rows.column(cols->title) : nullptr;
  const Column* c_user = cols->user >= 0 ? &rows.column(cols->user) : nullptr;
  const Column* c_delta = cols->length_delta >= 0 ? &rows.column(cols->length_delta) : nullptr;

  if (options_.follow_event_time) {
    int64_t newest = newest_event_us_.load();
    for (size_t r = 0; r < rows.num_rows(); ++r) {
      if (c_ts.IsValid(r)) newest = std::max(newest, c_ts.GetInt64(r));
    }
    if (newest > newest_event_us_.load()) {
      newest_seen_mono_us_ = MonotonicMicros();
      newest_event_us_ = newest;
    }
  }
  const int64_t now = Now();
  const int64_t now_sec = FloorDiv(now, kMicrosPerSecond);
  const int64_t now_min = FloorDiv(now_sec, 60);
  std::vector<Alert> to_raise;
  {
    std::lock_guard<std::mutex> lock(mu_);
    State& s = *state_;
    s.SweepPages(now_min);
    std::string key;
    for (size_t r = 0; r < rows.num_rows(); ++r) {
      if (c_ts.IsNull(r) || c_domain.IsNull(r)) continue;
      const int64_t ts = c_ts.GetInt64(r);
      const std::string_view domain = c_domain.GetString(r);
      const std::string_view type = c_type.IsNull(r) ? std::string_view() : c_type.GetString(r);
      const bool bot = c_bot.IsValid(r) && c_bot.GetBool(r);
      std::optional<std::string> user;
      if (c_user && c_user->IsValid(r)) user = model::NormalizeUser(c_user->GetString(r));
      const model::UserType user_type = model::ClassifyUser(bot, user);
      const bool anon = user_type == model::UserType::kIp || user_type == model::UserType::kTemporary;
      // A plain value plus flag: g++ 12 warns (wrongly) on optional<int32_t> here.
      const bool has_delta = c_delta && c_delta->IsValid(r);
      const int64_t delta = has_delta ? c_delta->GetInt32(r) : 0;

      const uint32_t dom = s.DomainId(domain, options_.max_domains);
      const int region_idx = dom == 0 ? RegionIndex(RegionOf(domain).region) : s.domain_region[dom];
      const int type_idx = TypeIndex(type);

      // Windows. Rows from the future (clock skew) count in the current second.
      const int64_t sec = std::min(FloorDiv(ts, kMicrosPerSecond), now_sec);
      const int64_t min = FloorDiv(sec, 60);
      if (sec > now_sec - kSecondSlots) {
        Slot& slot = s.seconds[FloorMod(sec, kSecondSlots)];
        if (slot.tag != sec) slot.Reset(sec);
        State::Add(slot, dom, region_idx, type_idx, bot, anon);
      }
      if (min > now_min - kMinuteSlots) {
        Slot& slot = s.minutes[FloorMod(min, kMinuteSlots)];
        if (slot.tag != min) slot.Reset(min);
        State::Add(slot, dom, region_idx, type_idx, bot, anon);

        // Trending: edit/new with a title, as gold.trending_pages counts.
        if ((type_idx == 0 || type_idx == 1) && c_title && c_title->IsValid(r)) {
          key.assign(std::to_string(dom)).push_back('\n');
          key.append(c_title->GetString(r));
          auto it = s.pages.find(key);
          if (it == s.pages.end() && s.pages.size() < options_.max_trending_pages) {
            it = s.pages.emplace(key, Page{dom, std::string(c_title->GetString(r)), {}}).first;
          }
          if (it == s.pages.end()) {
            ++s.trending_untracked;
          } else {
            auto& mins = it->second.minutes;
            const int64_t bytes = has_delta ? std::abs(delta) : 0;
            s.AddToHour(it->second, 1, bytes);
            auto pos = std::lower_bound(mins.begin(), mins.end(), min,
                                        [](const MinuteEntry& e, int64_t m) { return e.minute < m; });
            if (pos != mins.end() && pos->minute == min) {
              ++pos->edits;
              pos->bytes += bytes;
            } else {
              mins.insert(pos, MinuteEntry{static_cast<int32_t>(min), 1, bytes});
            }
          }
        }
      }

      // The current day: the newest event day seen. Earlier days belong to gold.
      const int64_t day = FloorDiv(ts, kMicrosPerDay);
      if (day > s.day) s.StartDay(day);
      if (day < s.day) continue;
      ++s.day_total;
      if (bot) ++s.day_bot; else ++s.day_human;
      if (anon) ++s.day_anon;
      if (s.day_by_domain.size() <= dom) s.day_by_domain.resize(dom + 1, 0);
      ++s.day_by_domain[dom];

      // Risk: eligible rows are exactly gold's (human, named).
      if (bot || !user) continue;
      auto uit = s.users.find(*user);
      if (uit == s.users.end()) {
        if (s.users.size() >= options_.max_users) {
          ++s.day_untracked;
          continue;
        }
        uit = s.users.emplace(*user, UserState{}).first;
        uit->second.name_type = model::ClassifyName(user);
        uit->second.first_seen = ts;
        uit->second.last_seen = ts;
      }
      UserState& u = uit->second;
      ++u.total;
      ++u.hours[HourOfDay(ts)];
      if (has_delta && delta < transform::kLargeDeletionBelow) ++u.large_deletions;
      if (anon) ++u.anonymous;
      // Domains are compared by name: ids of overflowed domains collapse.
      if (dom != 0 && std::find(u.domains.begin(), u.domains.end(), dom) == u.domains.end()) {
        u.domains.push_back(dom);
      } else if (dom == 0) {
        // An overflow domain is still distinct for the user; intern a private id
        // from the hash so distinct names stay distinct.
        uint32_t pseudo = 0x80000000u | static_cast<uint32_t>(std::hash<std::string_view>()(domain) & 0x7fffffffu);
        if (std::find(u.domains.begin(), u.domains.end(), pseudo) == u.domains.end()) u.domains.push_back(pseudo);
      }
      u.first_seen = std::min(u.first_seen, ts);
      u.last_seen = std::max(u.last_seen, ts);
      if (u.total < transform::kMinEventsForRiskScore) continue;
      const transform::RiskInputs in = InputsOf(u);
      const transform::RiskAssessment a = transform::AssessRisk(in);
      const int level = static_cast<int>(a.level);
      const bool was_scored = u.level >= 0;
      const int old_score = u.score;
      if (was_scored) --s.level_counts[u.level];
      ++s.level_counts[level];
      u.level = level;
      u.score = a.score;
      s.Rank(uit->first, u, old_score, was_scored);
      if (a.alert && !u.alerted) {
        u.alerted = true;
        Alert alert;
        alert.alert_id = NewUuid();
        alert.raised_at_us = now;
        alert.alert_date = s.day_date;
        alert.kind = model::AlertKind::kRisk;
        alert.severity = model::AlertSeverity::kHigh;
        alert.entity = *user;
        alert.subject = fmt::format("HIGH risk user {} on {} (score {})", *user, s.day_date, a.score);
        json details = json::parse(transform::RiskEvidenceJson(in, a), nullptr, false);
        if (details.is_discarded()) details = json::object();
        details["risk_score"] = a.score;
        details["risk_level"] = a.level;
        details["source"] = "live";
        alert.details = details.dump();
        to_raise.push_back(std::move(alert));
      }
    }
  }
  observed_ += rows.num_rows();
  // Raised outside the lock: AlertSink calls its listener (possibly OnAlert)
  // synchronously.
  for (Alert& a : to_raise) {
    if (alerts_ && !alerts_->Raise(a)) continue;
    OnAlert(a);
  }
}

void LiveAggregator::OnAlert(const Alert& alert) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& recent = state_->recent;
    for (const Alert& a : recent) {
      if (a.alert_id == alert.alert_id) return;
    }
    recent.push_front(alert);
    ++state_->alert_counts[{std::string(Name(alert.kind)), std::string(Name(alert.severity))}];
    while (recent.size() > std::max<size_t>(1, options_.max_recent_alerts)) recent.pop_back();
  }
  auto data = std::make_shared<const std::string>(AlertJson(alert).dump());
  std::lock_guard<std::mutex> lock(subs_mu_);
  for (auto& sub : subs_) sub->Push(LiveMessage{"alert", data});
}

std::map<std::pair<std::string, std::string>, uint64_t> LiveAggregator::AlertCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->alert_counts;
}

std::shared_ptr<LiveSubscription> LiveAggregator::Subscribe(size_t max_queue) {
  auto sub = std::make_shared<LiveSubscription>(max_queue);
  std::lock_guard<std::mutex> lock(subs_mu_);
  subs_.push_back(sub);
  return sub;
}

void LiveAggregator::PublishSummary() {
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [](const auto& s) { return s->closed(); }), subs_.end());
    if (subs_.empty()) return;
  }
  // Built now, and kept for the RecentSnapshotJson callers that follow.
  std::shared_ptr<const std::string> data = RecentSnapshotJson(std::chrono::milliseconds(0));
  std::lock_guard<std::mutex> lock(subs_mu_);
  for (auto& sub : subs_) sub->Push(LiveMessage{"summary", data});
}

std::shared_ptr<const std::string> LiveAggregator::RecentSnapshotJson(std::chrono::milliseconds max_age) const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!recent_ || now - recent_built_ >= max_age) {
    recent_ = std::make_shared<const std::string>(SnapshotJson());
    recent_built_ = now;
  }
  return recent_;
}

void LiveAggregator::CloseAllSubscriptions() {
  std::lock_guard<std::mutex> lock(subs_mu_);
  for (auto& sub : subs_) sub->Close();
  subs_.clear();
}

size_t LiveAggregator::subscription_count() const {
  std::lock_guard<std::mutex> lock(subs_mu_);
  size_t n = 0;
  for (const auto& s : subs_) n += s->closed() ? 0 : 1;
  return n;
}

namespace {

json SplitJson(const Slot& agg, const std::vector<std::string>& names) {
  json regions = json::object();
  for (int i = 0; i < kNumRegions; ++i) regions[RegionKey(i)] = agg.by_region[i];
  json types = json::object();
  for (int i = 0; i < kNumTypes; ++i) types[std::string(TypeKey(i))] = agg.by_type[i];
  std::vector<std::pair<int64_t, uint32_t>> wikis;
  for (size_t d = 0; d < agg.by_domain.size(); ++d) {
    if (agg.by_domain[d] > 0) wikis.emplace_back(agg.by_domain[d], static_cast<uint32_t>(d));
  }
  std::sort(wikis.begin(), wikis.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : names[a.second] < names[b.second];
  });
  json by_wiki = json::array();
  for (size_t i = 0; i < wikis.size() && i < kTopWikis; ++i) {
    by_wiki.push_back({{"domain", names[wikis[i].second]}, {"count", wikis[i].first}});
  }
  return json{{"total", agg.total},       {"bot", agg.bot},        {"human", agg.human},
              {"anonymous", agg.anon},    {"by_region", regions},  {"by_type", types},
              {"by_wiki", by_wiki},       {"wikis", wikis.size()}};
}

void Accumulate(Slot& into, const Slot& s) {
  into.total += s.total;
  into.bot += s.bot;
  into.human += s.human;
  into.anon += s.anon;
  for (int i = 0; i < kNumRegions; ++i) into.by_region[i] += s.by_region[i];
  for (int i = 0; i < kNumTypes; ++i) into.by_type[i] += s.by_type[i];
  if (into.by_domain.size() < s.by_domain.size()) into.by_domain.resize(s.by_domain.size(), 0);
  for (size_t d = 0; d < s.by_domain.size(); ++d) into.by_domain[d] += s.by_domain[d];
}

}  // namespace

std::string LiveAggregator::SnapshotJson() const {
  const int64_t now = Now();
  const int64_t now_sec = FloorDiv(now, kMicrosPerSecond);
  const int64_t now_min = FloorDiv(now_sec, 60);
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *state_;  // not const: the pages are swept to this minute
  json out;
  out["now"] = FormatIso8601Millis(now);
  out["observed_rows"] = observed_.load();

  json per_second = json::array();
  int64_t last10 = 0, last_second = 0;
  for (int64_t t = now_sec - kSecondSlots + 1; t <= now_sec; ++t) {
    const Slot& slot = s.seconds[FloorMod(t, kSecondSlots)];
    const int64_t n = slot.tag == t ? slot.total : 0;
    per_second.push_back(n);
    if (t > now_sec - 10) last10 += n;
    if (t == now_sec) last_second = n;
  }
  out["per_second"] = {{"start", now_sec - kSecondSlots + 1}, {"counts", per_second}};
  out["last_second"] = last_second;
  out["events_per_second"] = transform::Round2(static_cast<double>(last10) / 10.0);

  Slot minute_agg, hour_agg;
  for (int64_t t = now_sec - 59; t <= now_sec; ++t) {
    const Slot& slot = s.seconds[FloorMod(t, kSecondSlots)];
    if (slot.tag == t) Accumulate(minute_agg, slot);
  }
  json per_minute = json::array();
  json per_minute_region = json::object();
  for (int i = 0; i < kNumRegions; ++i) per_minute_region[RegionKey(i)] = json::array();
  for (int64_t t = now_min - kMinuteSlots + 1; t <= now_min; ++t) {
    const Slot& slot = s.minutes[FloorMod(t, kMinuteSlots)];
    const bool live = slot.tag == t;
    per_minute.push_back(live ? slot.total : 0);
    for (int i = 0; i < kNumRegions; ++i) per_minute_region[RegionKey(i)].push_back(live ? slot.by_region[i] : 0);
    if (live) Accumulate(hour_agg, slot);
  }
  out["per_minute"] = {{"start", (now_min - kMinuteSlots + 1) * 60}, {"counts", per_minute}, {"by_region", per_minute_region}};
  out["last_minute"] = SplitJson(minute_agg, s.domain_names);
  out["last_hour"] = SplitJson(hour_agg, s.domain_names);

  // Trending over the last hour: the hour totals are the window's once the
  // pages are swept to this minute (a snapshot may come first in a minute).
  s.SweepPages(now_min);
  json trending = json::array();
  for (const RankedPage& r : s.ranked_pages) {
    if (trending.size() >= options_.trending_limit) break;
    trending.push_back({{"domain", s.domain_names[r.page->domain]},
                        {"title", r.page->title},
                        {"edits", r.page->hour_edits},
                        {"bytes_changed", r.page->hour_bytes}});
  }
  out["trending"] = trending;
  out["trending_untracked"] = s.trending_untracked;

  // Today.
  json by_domain = json::object();
  for (size_t d = 0; d < s.day_by_domain.size(); ++d) {
    if (s.day_by_domain[d] > 0) by_domain[s.domain_names[d]] = s.day_by_domain[d];
  }
  auto users_at = [&s](model::RiskLevel l) { return s.level_counts[static_cast<size_t>(l)]; };
  int64_t scored = 0;
  for (int64_t n : s.level_counts) scored += n;
  out["today"] = {{"date", s.day_date.empty() ? json(nullptr) : json(s.day_date)},
                  {"total_events", s.day_total},
                  {"bot_edits", s.day_bot},
                  {"human_edits", s.day_human},
                  {"anonymous_edits", s.day_anon},
                  {"by_domain", by_domain},
                  {"tracked_users", s.users.size()},
                  {"untracked_rows", s.day_untracked},
                  {"scored_users", scored},
                  {"high_risk_users", users_at(model::RiskLevel::kHigh)},
                  {"medium_risk_users", users_at(model::RiskLevel::kMedium)},
                  {"low_risk_users", users_at(model::RiskLevel::kLow)}};

  // Riskiest users of the day.
  json risk = json::array();
  for (const RankedUser& r : s.ranked_users) {
    if (risk.size() >= options_.risk_limit) break;
    const UserState& u = *r.user;
    const transform::RiskInputs in = InputsOf(u);
    const transform::RiskAssessment a = transform::AssessRisk(in);
    json evidence = json::parse(transform::RiskEvidenceJson(in, a), nullptr, false);
    risk.push_back({{"user", *r.name},
                    {"user_type", u.name_type},
                    {"risk_score", a.score},
                    {"risk_level", a.level},
                    {"total_edits", u.total},
                    {"peak_hour_edits", in.peak_hour_edits},
                    {"evidence", evidence.is_discarded() ? json::object() : evidence}});
  }
  out["risk"] = risk;

  json alerts = json::array();
  for (const Alert& a : s.recent) alerts.push_back(AlertJson(a));
  out["alerts"] = alerts;
  return out.dump();
}

std::vector<LiveUserRisk> LiveAggregator::UserRisks() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LiveUserRisk> out;
  for (const auto& [name, u] : state_->users) {
    if (u.total < transform::kMinEventsForRiskScore) continue;
    const transform::RiskInputs in = InputsOf(u);
    const transform::RiskAssessment a = transform::AssessRisk(in);
    LiveUserRisk r;
    r.user = name;
    r.user_type = u.name_type;
    r.total_edits = u.total;
    r.peak_hour_edits = in.peak_hour_edits;
    r.active_hours = std::count_if(u.hours.begin(), u.hours.end(), [](int32_t h) { return h > 0; });
    r.large_deletions = u.large_deletions;
    r.domains_edited = in.domains_edited;
    r.anonymous_edits = u.anonymous;
    r.first_seen_us = u.first_seen;
    r.last_seen_us = u.last_seen;
    r.risk_score = a.score;
    r.risk_level = a.level;
    r.evidence = transform::RiskEvidenceJson(in, a);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const LiveUserRisk& a, const LiveUserRisk& b) {
    return a.risk_score != b.risk_score ? a.risk_score > b.risk_score : a.user < b.user;
  });
  return out;
}

LiveDayTotals LiveAggregator::DayTotals() const {
  std::lock_guard<std::mutex> lock(mu_);
  const State& s = *state_;
  LiveDayTotals t;
  t.date = s.day_date;
  t.total_events = s.day_total;
  t.bot_edits = s.day_bot;
  t.human_edits = s.day_human;
  t.anonymous_edits = s.day_anon;
  t.untracked_users = s.day_untracked;
  for (size_t d = 0; d < s.day_by_domain.size(); ++d) {
    if (s.day_by_domain[d] > 0) t.by_domain.emplace_back(s.domain_names[d], s.day_by_domain[d]);
  }
  std::sort(t.by_domain.begin(), t.by_domain.end());
  return t;
}

}  // namespace ws::live
