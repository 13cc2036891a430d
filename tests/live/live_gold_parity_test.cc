// Batch gold and the live state agree once the batch has
// caught up. Real recorded events go through the ingest rules into bronze
// rows; the same rows feed the live aggregator (in micro-batches) and the
// batch path (BuildSilver -> ComputeGold). The newest day must match.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "testing/test_util.h"
#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/model/region.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::live {

namespace bronze = warehouse::bronze;
using alerts::AlertSink;
using format::Column;
using format::RecordBatch;
using format::TypeId;
using ingest::EventIngestor;
using ingest::IngestOutcome;
using model::Alert;
using model::DomainFilter;
using source::SourceRecord;

namespace {

// The recordings hold no HIGH-risk user, so two made-up ones join the real
// events of the newest day: an IP blanking pages fast (HIGH) and a
// cross-wiki editor (MEDIUM). Both go through the same ingest rules.
std::vector<std::string> HeavyUsers(int64_t newest_us) {
  std::vector<std::string> lines;
  const int64_t hour_start = newest_us / kMicrosPerHour * kMicrosPerHour / kMicrosPerSecond;
  const char* wikis[] = {"en", "de", "fr", "ja", "es", "it", "pl"};
  for (int i = 0; i < 60; ++i) {
    nlohmann::json e = {{"meta", {{"id", "parity-ip-" + std::to_string(i)}, {"domain", "en.wikipedia.org"}}},
                        {"type", "edit"}, {"title", "Blanked " + std::to_string(i % 7)}, {"user", "203.0.113.9"},
                        {"bot", false}, {"namespace", 0}, {"length", {{"old", 9000}, {"new", 100}}},
                        {"timestamp", hour_start + i}};
    lines.push_back(e.dump());
  }
  for (int i = 0; i < 28; ++i) {
    std::string wiki = wikis[i % 7];
    nlohmann::json e = {{"meta", {{"id", "parity-x-" + std::to_string(i)}, {"domain", wiki + ".wikipedia.org"}}},
                        {"type", i % 5 ? "edit" : "new"}, {"title", "Interwiki"}, {"user", "Cross Wiki"},
                        {"bot", false}, {"namespace", 0}, {"length", {{"old", 100}, {"new", 200}}},
                        {"timestamp", hour_start + 100 + i}};
    lines.push_back(e.dump());
  }
  return lines;
}

RecordBatch IngestFile(const std::filesystem::path& path) {
  EventIngestor ingestor(DomainFilter::All(), "replay");
  RecordBatch bronze(bronze::RawEventsSchema());
  RecordBatch dlq(bronze::DlqEventsSchema());
  std::ifstream in(path);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    SourceRecord rec{line, 1'700'000'000'000'000, std::to_string(++n)};
    ingestor.Ingest(rec, &bronze, &dlq);
  }
  int64_t newest = 0;
  for (size_t r = 0; r < bronze.num_rows(); ++r) newest = std::max(newest, bronze.column("event_timestamp").GetInt64(r));
  for (const std::string& l : HeavyUsers(newest)) {
    SourceRecord rec{l, 1'700'000'000'000'000, std::to_string(++n)};
    EXPECT_EQ(ingestor.Ingest(rec, &bronze, &dlq), IngestOutcome::kAccepted) << l;
  }
  return bronze;
}

std::string Str(const RecordBatch& b, const char* col, size_t r) {
  const Column& c = b.column(col);
  return c.IsNull(r) ? std::string("<null>") : std::string(c.GetString(r));
}
int64_t Int(const RecordBatch& b, const char* col, size_t r) {
  const Column& c = b.column(col);
  return c.type() == TypeId::kInt32 ? c.GetInt32(r) : c.GetInt64(r);
}

class LiveGoldParity : public ::testing::TestWithParam<std::string> {};

TEST_P(LiveGoldParity, NewestDayMatchesGold) {
  log::SetLevel(log::Level::kOff);
  const auto path = ws::testing::SharedDataDir() / "ndjson" / GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing";
  RecordBatch bronze = IngestFile(path);
  ASSERT_GT(bronze.num_rows(), 0u);

  // Live: micro-batches in arrival order; "now" follows the newest event.
  int64_t newest = 0;
  const Column& ts = bronze.column("event_timestamp");
  for (size_t r = 0; r < bronze.num_rows(); ++r) newest = std::max(newest, ts.GetInt64(r));
  AlertSink sink("");
  LiveOptions opts;
  opts.clock = [newest] { return newest; };
  LiveAggregator live(opts, &sink);
  for (size_t start = 0; start < bronze.num_rows(); start += 97) {
    std::vector<uint32_t> rows;
    for (size_t r = start; r < std::min(bronze.num_rows(), start + 97); ++r) rows.push_back(static_cast<uint32_t>(r));
    live.Observe(bronze.Take(rows));
  }
  const LiveDayTotals day = live.DayTotals();
  ASSERT_EQ(day.date, FormatDate(newest));

  // Batch.
  RecordBatch silver = transform::BuildSilver(bronze, [](std::string_view) { return false; }, newest);
  transform::GoldResult gold = transform::ComputeGold(silver, {day.date}, newest);

  // Daily totals.
  ASSERT_EQ(gold.daily_summary.num_rows(), 1u);
  EXPECT_EQ(Int(gold.daily_summary, "total_events", 0), day.total_events);
  EXPECT_EQ(Int(gold.daily_summary, "high_risk_user_count", 0) + Int(gold.daily_summary, "medium_risk_user_count", 0) +
                Int(gold.daily_summary, "low_risk_user_count", 0),
            static_cast<int64_t>(live.UserRisks().size()));
  // Per wiki and the bot / human / anonymous split, from hourly_stats.
  std::map<std::string, int64_t> gold_by_domain;
  int64_t bot = 0, human = 0, anon = 0;
  for (size_t r = 0; r < gold.hourly_stats.num_rows(); ++r) {
    gold_by_domain[Str(gold.hourly_stats, "domain", r)] += Int(gold.hourly_stats, "total_events", r);
    bot += Int(gold.hourly_stats, "bot_edits", r);
    human += Int(gold.hourly_stats, "human_edits", r);
    anon += Int(gold.hourly_stats, "anonymous_edits", r);
  }
  std::map<std::string, int64_t> live_by_domain(day.by_domain.begin(), day.by_domain.end());
  EXPECT_EQ(live_by_domain, gold_by_domain);
  EXPECT_EQ(day.bot_edits, bot);
  EXPECT_EQ(day.human_edits, human);
  EXPECT_EQ(day.anonymous_edits, anon);

  // Risk: every scored user, every field gold publishes.
  std::map<std::string, LiveUserRisk> live_risk;
  for (const auto& r : live.UserRisks()) live_risk[r.user] = r;
  const RecordBatch& rs = gold.risk_scores;
  ASSERT_EQ(rs.num_rows(), live_risk.size());
  std::set<std::string> gold_alerts;
  for (size_t r = 0; r < rs.num_rows(); ++r) {
    const std::string user = Str(rs, "entity_id", r);
    ASSERT_TRUE(live_risk.count(user)) << user;
    const LiveUserRisk& l = live_risk[user];
    EXPECT_EQ(l.total_edits, Int(rs, "total_edits", r)) << user;
    EXPECT_EQ(l.peak_hour_edits, Int(rs, "peak_hour_edits", r)) << user;
    EXPECT_EQ(l.active_hours, Int(rs, "active_hours", r)) << user;
    EXPECT_EQ(l.large_deletions, Int(rs, "large_deletions", r)) << user;
    EXPECT_EQ(l.domains_edited, Int(rs, "domains_edited", r)) << user;
    EXPECT_EQ(l.anonymous_edits, Int(rs, "anonymous_edits", r)) << user;
    EXPECT_EQ(Name(l.user_type), Str(rs, "user_type", r)) << user;
    EXPECT_EQ(l.first_seen_us, rs.column("first_seen").GetInt64(r)) << user;
    EXPECT_EQ(l.last_seen_us, rs.column("last_seen").GetInt64(r)) << user;
    EXPECT_EQ(l.risk_score, Int(rs, "risk_score", r)) << user;
    EXPECT_EQ(Name(l.risk_level), Str(rs, "risk_level", r)) << user;
    EXPECT_EQ(nlohmann::json::parse(l.evidence), nlohmann::json::parse(Str(rs, "evidence", r))) << user;
    if (rs.column("alert_triggered").GetBool(r)) gold_alerts.insert(user);
  }
  // The live path alerted on exactly the users gold flags, once each.
  std::set<std::string> live_alerts;
  for (const Alert& a : sink.Recent(1000)) {
    if (a.alert_date == day.date) {
      EXPECT_TRUE(live_alerts.insert(a.entity).second) << a.entity;
    }
  }
  EXPECT_EQ(live_alerts, gold_alerts);
  EXPECT_TRUE(gold_alerts.count("203.0.113.9"));
  ASSERT_TRUE(live_risk.count("Cross Wiki"));
  EXPECT_EQ(live_risk["Cross Wiki"].domains_edited, 7);
  std::cout << GetParam() << ": " << day.total_events << " events on " << day.date << ", " << rs.num_rows()
            << " scored users, " << gold_alerts.size() << " HIGH\n";
}

INSTANTIATE_TEST_SUITE_P(Recorded, LiveGoldParity,
                         ::testing::Values("yearfunla-2024-08-22.ndjson", "editgroups-2018-03-07-a.ndjson",
                                           "editgroups-2018-03-07-b.ndjson", "arvindp25-2025-05-03.ndjson",
                                           "freelancecoderx-2024-02-06.ndjson"),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.find('.'));
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ws::live
