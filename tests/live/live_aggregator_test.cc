#include "wikistream/live/live_aggregator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/model/user.h"
#include "wikistream/transform/rules.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::live {

namespace bronze = warehouse::bronze;
using alerts::AlertSink;
using format::Column;
using format::RecordBatch;
using model::Alert;
using model::AlertKey;

namespace {

using nlohmann::json;

struct Ev {
  std::string type = "edit";
  std::string domain = "en.wikipedia.org";
  std::optional<std::string> title = "Page";
  std::optional<std::string> user = "Alice";
  bool bot = false;
  std::optional<int32_t> delta = 10;
  int64_t ts = 0;
};

int counter = 0;

void AddRow(RecordBatch& b, const Ev& e) {
  using namespace ws::warehouse::bronze;
  for (int c = 0; c < kRawColumnCount; ++c) {
    Column& col = b.column(c);
    switch (c) {
      case kEventId: col.AppendString("id-" + std::to_string(++counter)); break;
      case kEventType: col.AppendString(e.type); break;
      case kDomain: col.AppendString(e.domain); break;
      case kTitle: col.AppendOptional(e.title); break;
      case kUser: col.AppendOptional(e.user); break;
      case kIsBot: col.AppendBool(e.bot); break;
      case kLengthDelta: col.AppendOptional(e.delta); break;
      case kEventTimestamp: col.AppendInt64(e.ts); break;
      case kIngestedAt: case kBronzeProcessedAt: col.AppendInt64(e.ts); break;
      case kSource: col.AppendString("synthetic"); break;
      case kRaw: col.AppendString("{}"); break;
      case kEventDate: col.AppendString(FormatDate(e.ts)); break;
      case kEventHour: col.AppendInt32(HourOfDay(e.ts)); break;
      default: col.AppendNull();
    }
  }
}

RecordBatch Batch(const std::vector<Ev>& evs) {
  RecordBatch b(bronze::RawEventsSchema());
  for (const Ev& e : evs) AddRow(b, e);
  return b;
}

// 2024-08-22T10:30:00Z
const int64_t kT0 = *ParseIso8601Micros("2024-08-22T10:30:00Z");
constexpr int64_t kSec = kMicrosPerSecond;

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override { log::SetLevel(log::Level::kOff); }
  LiveOptions Options() {
    LiveOptions o;
    o.clock = [this] { return now_.load(); };
    return o;
  }
  std::atomic<int64_t> now_{kT0};
};

TEST_F(LiveTest, CountsPerWindowAndSplit) {
  LiveAggregator agg(Options(), nullptr);
  std::vector<Ev> evs;
  Ev human; human.ts = kT0 - 5 * kSec;
  Ev bot = human; bot.bot = true; bot.user = "SomeBot"; bot.domain = "de.wikipedia.org"; bot.type = "log";
  Ev ip = human; ip.user = "192.168.1.20"; ip.domain = "ja.wikipedia.org"; ip.type = "new";
  Ev tmp = human; tmp.user = "~2024-1234"; tmp.ts = kT0;  // current second
  Ev older = human; older.ts = kT0 - 200 * kSec;          // minute window only
  Ev ancient = human; ancient.ts = kT0 - 2 * kMicrosPerHour;  // neither
  Ev future = human; future.ts = kT0 + 30 * kSec;         // counts as now
  agg.Observe(Batch({human, bot, ip, tmp, older, ancient, future}));
  EXPECT_EQ(agg.observed_rows(), 7u);

  json s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["last_minute"]["total"], 5);
  EXPECT_EQ(s["last_minute"]["bot"], 1);
  EXPECT_EQ(s["last_minute"]["human"], 4);
  EXPECT_EQ(s["last_minute"]["anonymous"], 2);  // ip + temporary
  EXPECT_EQ(s["last_minute"]["by_region"]["americas"], 3);
  EXPECT_EQ(s["last_minute"]["by_region"]["europe"], 1);
  EXPECT_EQ(s["last_minute"]["by_region"]["asia_pacific"], 1);
  EXPECT_EQ(s["last_minute"]["by_type"]["log"], 1);
  EXPECT_EQ(s["last_minute"]["by_type"]["new"], 1);
  EXPECT_EQ(s["last_minute"]["by_type"]["edit"], 3);
  EXPECT_EQ(s["last_minute"]["by_wiki"][0]["domain"], "en.wikipedia.org");
  EXPECT_EQ(s["last_minute"]["by_wiki"][0]["count"], 3);
  EXPECT_EQ(s["last_hour"]["total"], 6);
  EXPECT_EQ(s["last_second"], 2);  // tmp + the future row
  const auto& ps = s["per_second"]["counts"];
  ASSERT_EQ(ps.size(), 120u);
  EXPECT_EQ(ps[119], 2);
  EXPECT_EQ(ps[114], 3);
  EXPECT_EQ(s["per_second"]["start"], kT0 / kSec - 119);
  EXPECT_DOUBLE_EQ(s["events_per_second"].get<double>(), 0.5);
  ASSERT_EQ(s["per_minute"]["counts"].size(), 60u);
  EXPECT_EQ(s["per_minute"]["counts"][59], 2);  // 10:30
  EXPECT_EQ(s["per_minute"]["counts"][58], 3);  // 10:29:55
  EXPECT_EQ(s["per_minute"]["counts"][55], 1);  // 10:26:40
  EXPECT_EQ(s["per_minute"]["by_region"]["americas"][59], 2);

  // The day counts every row of the current day (the ancient one too).
  EXPECT_EQ(s["today"]["date"], "2024-08-22");
  EXPECT_EQ(s["today"]["total_events"], 7);
  EXPECT_EQ(s["today"]["bot_edits"], 1);
  EXPECT_EQ(s["today"]["anonymous_edits"], 2);

  // The windows slide with the clock.
  now_ = kT0 + 125 * kSec;
  s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["last_minute"]["total"], 0);
  EXPECT_EQ(s["last_second"], 0);
  EXPECT_EQ(s["last_hour"]["total"], 6);
  now_ = kT0 + 61 * 60 * kSec;
  s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["last_hour"]["total"], 0);
  EXPECT_EQ(s["today"]["total_events"], 7);
}

TEST_F(LiveTest, FollowEventTimeShowsAReplayOfOldEvents) {
  LiveOptions o;
  o.follow_event_time = true;
  o.clock = [] { return *ParseIso8601Micros("2030-01-01T00:00:00Z"); };  // ignored once events arrive
  LiveAggregator agg(o, nullptr);
  Ev a; a.ts = kT0 - 30 * kSec;
  Ev b; b.ts = kT0;
  agg.Observe(Batch({a, b}));
  json s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["last_minute"]["total"], 2);
  EXPECT_EQ(s["now"].get<std::string>().substr(0, 16), "2024-08-22T10:30");
  // An older batch does not move the clock back.
  Ev c; c.ts = kT0 - 3600 * kSec;
  agg.Observe(Batch({c}));
  s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["now"].get<std::string>().substr(0, 16), "2024-08-22T10:30");
  EXPECT_EQ(s["last_hour"]["total"], 2);
}

TEST_F(LiveTest, SlotsAreReusedWithoutLeakingOldCounts) {
  LiveAggregator agg(Options(), nullptr);
  Ev e; e.ts = kT0;
  agg.Observe(Batch({e, e}));
  now_ = kT0 + 120 * kSec;  // same ring slot, 120 s later
  e.ts = now_;
  agg.Observe(Batch({e}));
  json s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["last_second"], 1);
  EXPECT_EQ(s["per_second"]["counts"][119], 1);
  EXPECT_EQ(s["last_hour"]["total"], 3);
}

TEST_F(LiveTest, TrendingOverTheLastHour) {
  LiveAggregator agg(Options(), nullptr);
  std::vector<Ev> evs;
  for (int i = 0; i < 5; ++i) { Ev e; e.title = "Hot"; e.delta = -100; e.ts = kT0 - i * 60 * kSec; evs.push_back(e); }
  for (int i = 0; i < 3; ++i) { Ev e; e.title = "Warm"; e.domain = "fr.wikipedia.org"; e.ts = kT0; evs.push_back(e); }
  { Ev e; e.title = "Warm"; e.ts = kT0; evs.push_back(e); }  // same title, other wiki
  for (int i = 0; i < 9; ++i) { Ev e; e.title = "Logged"; e.type = "log"; e.ts = kT0; evs.push_back(e); }
  { Ev e; e.title = std::nullopt; e.ts = kT0; evs.push_back(e); }
  { Ev e; e.title = "Old"; e.ts = kT0 - 61 * 60 * kSec; evs.push_back(e); }
  agg.Observe(Batch(evs));
  json s = json::parse(agg.SnapshotJson());
  const auto& t = s["trending"];
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0]["title"], "Hot");
  EXPECT_EQ(t[0]["edits"], 5);
  EXPECT_EQ(t[0]["bytes_changed"], 500);
  EXPECT_EQ(t[1]["title"], "Warm");
  EXPECT_EQ(t[1]["domain"], "fr.wikipedia.org");
  EXPECT_EQ(t[1]["edits"], 3);
  EXPECT_EQ(t[2]["domain"], "en.wikipedia.org");
  // 58 minutes later only the two newest "Hot" edits are within the hour.
  now_ = kT0 + 58 * 60 * kSec;
  agg.Observe(Batch({}));
  s = json::parse(agg.SnapshotJson());
  ASSERT_GE(s["trending"].size(), 1u);
  EXPECT_EQ(s["trending"][0]["title"], "Warm");
  EXPECT_EQ(s["trending"][1]["title"], "Hot");
  EXPECT_EQ(s["trending"][1]["edits"], 2);
}

TEST_F(LiveTest, TrendingPagesAreBounded) {
  LiveOptions o = Options();
  o.max_trending_pages = 10;
  LiveAggregator agg(o, nullptr);
  std::vector<Ev> evs;
  for (int i = 0; i < 30; ++i) { Ev e; e.title = "P" + std::to_string(i); e.ts = kT0; evs.push_back(e); }
  agg.Observe(Batch(evs));
  json s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["trending"].size(), 10u);
  EXPECT_EQ(s["trending_untracked"], 20);
}

// Gold's risk, computed independently from the rows (docs/tables.md).
std::map<std::string, transform::RiskInputs> GoldRiskInputs(const std::vector<Ev>& evs, const std::string& date) {
  struct Acc { std::map<int, int64_t> hours; std::set<std::string> domains; transform::RiskInputs in; };
  std::map<std::string, Acc> acc;
  for (const Ev& e : evs) {
    if (FormatDate(e.ts) != date || e.bot) continue;
    auto user = model::NormalizeUser(e.user ? std::optional<std::string_view>(*e.user) : std::nullopt);
    if (!user) continue;
    Acc& a = acc[*user];
    a.in.total_edits++;
    a.hours[HourOfDay(e.ts)]++;
    a.domains.insert(e.domain);
    if (e.delta && *e.delta < -5000) a.in.large_deletions++;
    auto t = model::ClassifyUser(false, user);
    if (t == model::UserType::kIp || t == model::UserType::kTemporary) a.in.anonymous_edits++;
  }
  std::map<std::string, transform::RiskInputs> out;
  for (auto& [u, a] : acc) {
    if (a.in.total_edits < 5) continue;
    for (auto& [h, n] : a.hours) a.in.peak_hour_edits = std::max(a.in.peak_hour_edits, n);
    a.in.domains_edited = static_cast<int64_t>(a.domains.size());
    out[u] = a.in;
  }
  return out;
}

TEST_F(LiveTest, RiskMatchesTheGoldRulesOnRandomRows) {
  AlertSink sink("");
  LiveAggregator agg(Options(), &sink);
  std::mt19937 rng(42);
  const std::vector<std::string> users = {"Alice", " Bob ", "10.0.0.1", "~2024-77", "2001:db8::1", "Carol\x01",
                                          "Dave", "Eve", "Mallory", "Trent"};
  const std::vector<std::string> domains = {"en.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org",
                                            "ja.wikipedia.org", "es.wikipedia.org", "it.wikipedia.org",
                                            "commons.wikimedia.org"};
  const int64_t day0 = *ParseDateMicros("2024-08-22");
  std::vector<Ev> all;
  for (int b = 0; b < 20; ++b) {
    std::vector<Ev> evs;
    for (int i = 0; i < 200; ++i) {
      Ev e;
      e.user = users[rng() % users.size()];
      if (rng() % 17 == 0) e.user = std::nullopt;
      e.bot = rng() % 13 == 0;
      e.domain = domains[rng() % domains.size()];
      // Mallory concentrates in one hour to go HIGH.
      const int hour = *e.user == "Mallory" ? 3 : static_cast<int>(rng() % 24);
      e.ts = day0 + hour * kMicrosPerHour + static_cast<int64_t>(rng() % 3600) * kSec;
      e.delta = rng() % 9 == 0 ? -6000 : static_cast<int32_t>(rng() % 2000) - 1000;
      if (rng() % 11 == 0) e.delta = std::nullopt;
      evs.push_back(e);
    }
    all.insert(all.end(), evs.begin(), evs.end());
    agg.Observe(Batch(evs));
  }
  const auto expected = GoldRiskInputs(all, "2024-08-22");
  const auto got = agg.UserRisks();
  ASSERT_EQ(got.size(), expected.size());
  int high = 0;
  for (const LiveUserRisk& r : got) {
    ASSERT_TRUE(expected.count(r.user)) << r.user;
    const transform::RiskInputs& in = expected.at(r.user);
    const transform::RiskAssessment a = transform::AssessRisk(in);
    EXPECT_EQ(r.total_edits, in.total_edits) << r.user;
    EXPECT_EQ(r.peak_hour_edits, in.peak_hour_edits) << r.user;
    EXPECT_EQ(r.large_deletions, in.large_deletions) << r.user;
    EXPECT_EQ(r.domains_edited, in.domains_edited) << r.user;
    EXPECT_EQ(r.anonymous_edits, in.anonymous_edits) << r.user;
    EXPECT_EQ(r.risk_score, a.score) << r.user;
    EXPECT_EQ(r.risk_level, a.level) << r.user;
    EXPECT_EQ(r.evidence, transform::RiskEvidenceJson(in, a)) << r.user;
    high += a.alert ? 1 : 0;
  }
  EXPECT_TRUE(expected.count("Bob"));    // trimmed
  EXPECT_TRUE(expected.count("Carol"));  // control character removed
  EXPECT_GE(high, 1);
  // One alert per HIGH user, with the shared dedup key.
  auto alerts = sink.Recent(100);
  EXPECT_EQ(static_cast<int>(alerts.size()), high);
  for (const Alert& a : alerts) {
    EXPECT_EQ(a.kind, model::AlertKind::kRisk);
    EXPECT_EQ(a.severity, model::AlertSeverity::kHigh);
    EXPECT_EQ(a.alert_date, "2024-08-22");
    EXPECT_TRUE(sink.WasRaised(AlertKey(model::AlertKind::kRisk, a.entity, "2024-08-22")));
  }
  json s = json::parse(agg.SnapshotJson());
  EXPECT_EQ(s["today"]["high_risk_users"], high);
  EXPECT_EQ(s["today"]["scored_users"], static_cast<int>(expected.size()));
  EXPECT_EQ(s["risk"][0]["risk_level"], "HIGH");
  EXPECT_EQ(s["alerts"].size(), static_cast<size_t>(high));
}

std::vector<Ev> Burst(const std::string& user, int64_t start, int n) {
  std::vector<Ev> evs;
  for (int i = 0; i < n; ++i) {
    Ev e; e.user = user; e.ts = start + i * kSec; e.title = "T" + std::to_string(i); e.delta = -6000;
    evs.push_back(e);
  }
  return evs;
}

TEST_F(LiveTest, AlertOncePerUserPerDay) {
  AlertSink sink("");
  LiveAggregator agg(Options(), &sink);
  const int64_t day = *ParseDateMicros("2024-08-22");
  // 60 edits in one hour (velocity 40) + large deletions (30) = 70 -> HIGH.
  agg.Observe(Batch(Burst("Vandal", day + kMicrosPerHour, 30)));
  EXPECT_EQ(sink.Recent(10).size(), 0u);  // 25 < peak <= 50: 25 + 30 = 55, MEDIUM
  agg.Observe(Batch(Burst("Vandal", day + kMicrosPerHour + 30 * kSec, 30)));
  ASSERT_EQ(sink.Recent(10).size(), 1u);
  agg.Observe(Batch(Burst("Vandal", day + kMicrosPerHour + 60 * kSec, 30)));
  EXPECT_EQ(sink.Recent(10).size(), 1u);
  // A user the batch already alerted on is not alerted again.
  sink.MarkRaised(AlertKey(model::AlertKind::kRisk, "Batchfound", "2024-08-22"));
  agg.Observe(Batch(Burst("Batchfound", day + 2 * kMicrosPerHour, 60)));
  EXPECT_EQ(sink.Recent(10).size(), 1u);
  // The next day is a new day.
  agg.Observe(Batch(Burst("Vandal", day + kMicrosPerDay + kMicrosPerHour, 60)));
  auto alerts = sink.Recent(10);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].alert_date, "2024-08-23");
  EXPECT_EQ(alerts[1].alert_date, "2024-08-22");
  EXPECT_EQ(alerts[1].entity, "Vandal");
  json details = json::parse(alerts[1].details);
  EXPECT_EQ(details["risk_score"], 70);
  EXPECT_EQ(details["peak_hour_edits"], 51);  // raised at the first HIGH, not later
  // Day rollover: late rows of the previous day no longer change today.
  agg.Observe(Batch(Burst("Late", day + 5 * kMicrosPerHour, 10)));
  auto totals = agg.DayTotals();
  EXPECT_EQ(totals.date, "2024-08-23");
  EXPECT_EQ(totals.total_events, 60);
  ASSERT_EQ(agg.UserRisks().size(), 1u);
  EXPECT_EQ(agg.UserRisks()[0].user, "Vandal");
}

TEST_F(LiveTest, UsersBeyondTheBoundAreCountedNotScored) {
  LiveOptions o = Options();
  o.max_users = 2;
  LiveAggregator agg(o, nullptr);
  std::vector<Ev> evs;
  for (const char* u : {"A", "B", "C"}) {
    auto b = Burst(u, kT0, 5);
    evs.insert(evs.end(), b.begin(), b.end());
  }
  agg.Observe(Batch(evs));
  EXPECT_EQ(agg.UserRisks().size(), 2u);
  EXPECT_EQ(agg.DayTotals().untracked_users, 5);
  EXPECT_EQ(agg.DayTotals().total_events, 15);
}

TEST_F(LiveTest, SubscriptionsReceiveSummariesAndAlerts) {
  AlertSink sink("");
  LiveAggregator agg(Options(), &sink);
  auto sub = agg.Subscribe(8);
  EXPECT_EQ(agg.subscription_count(), 1u);
  EXPECT_FALSE(sub->Next(std::chrono::milliseconds(10)).has_value());
  agg.Observe(Batch(Burst("Vandal", kT0 - 100 * kSec, 60)));
  auto m = sub->Next(std::chrono::milliseconds(100));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->event, "alert");
  EXPECT_EQ(json::parse(*m->data)["entity"], "Vandal");
  agg.PublishSummary();
  m = sub->Next(std::chrono::milliseconds(100));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->event, "summary");
  EXPECT_EQ(json::parse(*m->data)["last_hour"]["total"], 60);

  // An alert raised elsewhere (batch) reaches the ring and subscribers once.
  Alert batch_alert;
  batch_alert.alert_id = "batch-1";
  batch_alert.kind = model::AlertKind::kDq;
  batch_alert.severity = model::AlertSeverity::kWarning;
  batch_alert.details = "{\"check\":\"x\"}";
  agg.OnAlert(batch_alert);
  agg.OnAlert(batch_alert);
  m = sub->Next(std::chrono::milliseconds(100));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(json::parse(*m->data)["alert_id"], "batch-1");
  EXPECT_FALSE(sub->Next(std::chrono::milliseconds(10)).has_value());
  EXPECT_EQ(json::parse(agg.SnapshotJson())["alerts"].size(), 2u);

  // A slow reader's queue stays bounded.
  for (int i = 0; i < 20; ++i) agg.PublishSummary();
  EXPECT_EQ(sub->dropped(), 12u);

  // Closing wakes a waiting reader.
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    agg.CloseAllSubscriptions();
  });
  int drained = 0;
  while (sub->Next(std::chrono::seconds(5)).has_value()) ++drained;
  closer.join();
  EXPECT_TRUE(sub->closed());
  EXPECT_LE(drained, 8);
  EXPECT_EQ(agg.subscription_count(), 0u);
}

// The snapshot's top lists are kept up to date incrementally (ranked sets);
// here they are checked, after every batch of a random two-hour stream that
// crosses midnight, against the lists computed from the rows themselves.
TEST_F(LiveTest, TopListsEqualThoseComputedFromTheRowsAsTheClockMoves) {
  LiveOptions o = Options();
  o.trending_limit = 15;
  o.risk_limit = 12;
  LiveAggregator agg(o, nullptr);
  std::mt19937 rng(7);
  const std::vector<std::string> domains = {"en.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org"};
  const std::vector<std::string> types = {"edit", "new", "log", "categorize"};
  const int64_t start = *ParseIso8601Micros("2024-08-22T23:00:00Z");
  struct Seen { std::string domain, title; int64_t minute; int64_t bytes; };
  std::vector<Seen> seen;  // trending rows as observed (minute clamped to the clock, as the live path counts)
  for (int b = 0; b < 120; ++b) {
    now_ = start + b * 60 * kSec;  // a batch a minute
    const int64_t now_sec = now_.load() / kSec;  // times here are positive: plain division floors
    std::vector<Ev> evs;
    for (int i = 0; i < 60; ++i) {
      Ev e;
      e.type = types[rng() % types.size()];
      e.domain = domains[rng() % domains.size()];
      e.title = "P" + std::to_string(rng() % 40);
      e.user = "U" + std::to_string(rng() % 30);
      e.delta = static_cast<int32_t>(rng() % 4000) - 2000;
      // Mostly recent, some late (older than the hour), some from the future.
      e.ts = now_.load() - static_cast<int64_t>(rng() % 5400) * kSec + (rng() % 10 == 0 ? 90 * kSec : 0);
      evs.push_back(e);
      const int64_t sec = std::min(e.ts / kSec, now_sec);
      if ((e.type == "edit" || e.type == "new") && sec / 60 > now_sec / 60 - 60) {
        seen.push_back(Seen{e.domain, *e.title, sec / 60, int64_t{std::abs(*e.delta)}});
      }
    }
    agg.Observe(Batch(evs));
    now_ = now_.load() + 30 * kSec;  // the snapshot comes later in the minute
    const json snap = json::parse(agg.SnapshotJson());
    const int64_t now_min = now_.load() / (60 * kSec);

    std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> hour;  // (title, domain) -> edits, bytes
    for (const Seen& r : seen) {
      if (r.minute > now_min - 60 && r.minute <= now_min) {
        auto& h = hour[{r.title, r.domain}];
        ++h.first;
        h.second += r.bytes;
      }
    }
    std::vector<std::tuple<int64_t, std::string, std::string, int64_t>> trend;  // -edits, title, domain, bytes
    for (const auto& [k, v] : hour) trend.emplace_back(-v.first, k.first, k.second, v.second);
    std::sort(trend.begin(), trend.end());
    trend.resize(std::min<size_t>(trend.size(), 15));
    ASSERT_EQ(snap["trending"].size(), trend.size()) << "batch " << b;
    for (size_t i = 0; i < trend.size(); ++i) {
      const json& t = snap["trending"][i];
      EXPECT_EQ(t["edits"], -std::get<0>(trend[i])) << "batch " << b << " rank " << i;
      EXPECT_EQ(t["title"], std::get<1>(trend[i])) << "batch " << b << " rank " << i;
      EXPECT_EQ(t["domain"], std::get<2>(trend[i])) << "batch " << b << " rank " << i;
      EXPECT_EQ(t["bytes_changed"], std::get<3>(trend[i])) << "batch " << b << " rank " << i;
    }

    std::vector<LiveUserRisk> risks = agg.UserRisks();  // every scored user, by a scan
    std::sort(risks.begin(), risks.end(), [](const LiveUserRisk& x, const LiveUserRisk& y) {
      if (x.risk_score != y.risk_score) return x.risk_score > y.risk_score;
      if (x.total_edits != y.total_edits) return x.total_edits > y.total_edits;
      return x.user < y.user;
    });
    risks.resize(std::min<size_t>(risks.size(), 12));
    ASSERT_EQ(snap["risk"].size(), risks.size()) << "batch " << b;
    for (size_t i = 0; i < risks.size(); ++i) {
      EXPECT_EQ(snap["risk"][i]["user"], risks[i].user) << "batch " << b << " rank " << i;
      EXPECT_EQ(snap["risk"][i]["risk_score"], risks[i].risk_score) << "batch " << b << " rank " << i;
      EXPECT_EQ(snap["risk"][i]["total_edits"], risks[i].total_edits) << "batch " << b << " rank " << i;
    }
  }
  EXPECT_EQ(agg.DayTotals().date, "2024-08-23");  // the day turned, and the risk lists with it
}

TEST_F(LiveTest, ConcurrentObserveAndSnapshot) {
  LiveAggregator agg(Options(), nullptr);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      json s = json::parse(agg.SnapshotJson());
      // A batch is seen whole: totals are multiples of the batch size.
      EXPECT_EQ(s["today"]["total_events"].get<int64_t>() % 50, 0);
    }
  });
  for (int b = 0; b < 100; ++b) {
    std::vector<Ev> evs;
    for (int i = 0; i < 50; ++i) { Ev e; e.user = "U" + std::to_string(i % 7); e.ts = kT0 - i * kSec; evs.push_back(e); }
    agg.Observe(Batch(evs));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(agg.DayTotals().total_events, 5000);
}

}  // namespace
}  // namespace ws::live
