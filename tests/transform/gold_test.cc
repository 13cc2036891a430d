#include "wikistream/transform/gold.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "transform_fixture.h"
#include "wikistream/common/time.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

using format::Column;
using format::RecordBatch;
using warehouse::DailySummaryTable;
using warehouse::HourlyStatsTable;
using warehouse::kHourlyStatsSchemaVersion;
using warehouse::RiskScoresTable;
using warehouse::SilverTable;
using warehouse::TopContributorsTable;
using warehouse::TrendingPagesTable;
using enum warehouse::SilverCol;

namespace {

using testing::At;
using testing::Ev;
using testing::MakeBronze;

using Row = std::map<std::string, std::string>;

Row RowAt(const RecordBatch& b, size_t r) {
  Row out;
  for (size_t c = 0; c < b.num_columns(); ++c) out[b.schema()->field(c).name] = b.column(c).ValueToString(r);
  return out;
}

// Rows whose columns equal every given value (as text).
std::vector<Row> Where(const RecordBatch& b, const Row& match) {
  std::vector<Row> out;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    Row row = RowAt(b, r);
    bool ok = true;
    for (const auto& [k, v] : match) {
      EXPECT_TRUE(row.count(k)) << "no column " << k;
      if (row[k] != v) ok = false;
    }
    if (ok) out.push_back(row);
  }
  return out;
}

Row One(const RecordBatch& b, const Row& match) {
  auto rows = Where(b, match);
  EXPECT_EQ(rows.size(), 1u) << "match " << nlohmann::json(match).dump();
  return rows.empty() ? Row{} : rows[0];
}

RecordBatch Silver(const std::vector<Ev>& evs) { return BuildSilver(MakeBronze(evs), nullptr, 1); }

// Copy of a silver batch with is_anonymous replaced for some rows: the only
// way to give one user a mixed anonymous share (it follows from the name).
RecordBatch WithAnonymous(const RecordBatch& s, const std::set<size_t>& anon_rows) {
  RecordBatch out(s.schema());
  for (size_t c = 0; c < s.num_columns(); ++c) {
    for (size_t r = 0; r < s.num_rows(); ++r) {
      if (static_cast<int>(c) == kSIsAnonymous) {
        out.column(c).AppendBool(anon_rows.count(r) > 0);
      } else {
        out.column(c).AppendFrom(s.column(c), r);
      }
    }
  }
  return out;
}

constexpr int64_t kNow = 1'700'000'000'000'000;

TEST(GoldTest, HourlyAndDailyFormulas) {
  int64_t h10 = At("2024-03-01T10:05:00Z"), h11 = At("2024-03-01T11:59:59Z");
  RecordBatch s = Silver({
      Ev{.id = "a1", .title = "P1", .user = "Alice", .len_old = 100, .len_new = 150, .ts_us = h10},
      Ev{.id = "a2", .title = "P2", .user = "Alice", .len_old = 150, .len_new = 100, .ts_us = h10 + 1},
      Ev{.id = "a3", .title = "P1", .user = "1.2.3.4", .ts_us = h10 + 2},
      Ev{.id = "a4", .type = "new", .title = "P3", .user = "Robo", .bot = true, .len_new = 10, .ts_us = h10 + 3},
      Ev{.id = "a5", .type = "log", .domain = "de.wikipedia.org", .title = std::nullopt, .user = "~2026-1-1", .ts_us = h11},
      Ev{.id = "a6", .type = "categorize", .domain = "de.wikipedia.org", .title = "P1", .user = std::nullopt, .ts_us = h11},
      Ev{.id = "a7", .domain = "ja.wikipedia.org", .user = "Alice", .len_old = 10000, .len_new = 1, .ts_us = h11},
  });
  GoldResult g = ComputeGold(s, {"2024-03-01"}, kNow);
  ASSERT_TRUE(g.hourly_stats.Validate().ok());
  ASSERT_EQ(g.hourly_stats.num_rows(), 3u);
  Row en = RowAt(g.hourly_stats, 0);  // sorted: hour 10 en, hour 11 de, hour 11 ja
  EXPECT_EQ(en["domain"], "en.wikipedia.org");
  EXPECT_EQ(en["region"], "americas");
  EXPECT_EQ(en["stat_hour"], "10");
  EXPECT_EQ(en["total_events"], "4");
  EXPECT_EQ(en["unique_users"], "3");
  EXPECT_EQ(en["unique_pages"], "3");
  EXPECT_EQ(en["bytes_added"], "60");
  EXPECT_EQ(en["bytes_removed"], "50");
  EXPECT_EQ(en["avg_edit_size"], "36.67");
  EXPECT_EQ(en["bot_edits"], "1");
  EXPECT_EQ(en["human_edits"], "3");
  EXPECT_EQ(en["bot_percentage"], "25");
  EXPECT_EQ(en["anonymous_edits"], "1");
  EXPECT_EQ(en["anonymous_percentage"], "25");
  EXPECT_EQ(en["type_edit"], "3");
  EXPECT_EQ(en["type_new"], "1");
  EXPECT_EQ(en["type_log"], "0");
  EXPECT_EQ(en["schema_version"], kHourlyStatsSchemaVersion);
  EXPECT_EQ(g.hourly_stats.column("gold_processed_at").GetInt64(0), kNow);
  Row de = RowAt(g.hourly_stats, 1);
  EXPECT_EQ(de["domain"], "de.wikipedia.org");
  EXPECT_EQ(de["unique_users"], "1");
  EXPECT_EQ(de["unique_pages"], "1");
  EXPECT_EQ(de["avg_edit_size"], "null");
  EXPECT_EQ(de["anonymous_percentage"], "50");
  EXPECT_EQ(de["type_log"], "1");
  EXPECT_EQ(de["type_categorize"], "1");
  Row ja = RowAt(g.hourly_stats, 2);
  EXPECT_EQ(ja["domain"], "ja.wikipedia.org");
  EXPECT_EQ(ja["bytes_removed"], "9999");
  EXPECT_EQ(ja["large_deletions"], "1");
  EXPECT_EQ(ja["region"], "asia_pacific");

  ASSERT_EQ(g.daily_summary.num_rows(), 1u);
  Row d = RowAt(g.daily_summary, 0);
  EXPECT_EQ(d["summary_date"], "2024-03-01");
  EXPECT_EQ(d["total_events"], "7");
  EXPECT_EQ(d["unique_users"], "4");
  EXPECT_EQ(d["active_domains"], "3");
  EXPECT_EQ(d["unique_pages_edited"], "5");
  EXPECT_EQ(d["bot_percentage"], "14.29");
  EXPECT_EQ(d["anonymous_percentage"], "28.57");
  EXPECT_EQ(d["registered_user_percentage"], "42.86");
  EXPECT_EQ(d["total_bytes_added"], "60");
  EXPECT_EQ(d["total_bytes_removed"], "10049");
  EXPECT_EQ(d["net_content_change"], "-9989");
  EXPECT_EQ(d["avg_edit_size_bytes"], "2527.25");
  EXPECT_EQ(d["new_pages_created"], "1");
  EXPECT_EQ(d["large_deletions_count"], "1");
  EXPECT_EQ(d["large_additions_count"], "0");
  EXPECT_EQ(d["large_deletion_rate"], "14.2857");
  EXPECT_EQ(d["high_risk_user_count"], "0");
  EXPECT_EQ(d["low_risk_user_count"], "0");
  EXPECT_EQ(d["platform_avg_risk_score"], "0");
  EXPECT_EQ(d["platform_max_risk_score"], "0");
  EXPECT_EQ(d["total_alerts_triggered"], "0");
  EXPECT_EQ(d["americas_percentage"], "57.14");
  EXPECT_EQ(d["europe_percentage"], "28.57");
  EXPECT_EQ(d["asia_pacific_percentage"], "14.29");
  EXPECT_EQ(d["middle_east_percentage"], "0");
  EXPECT_EQ(d["other_percentage"], "0");
  EXPECT_EQ(d["peak_hour"], "10");
  EXPECT_EQ(d["peak_hour_events"], "4");
  EXPECT_EQ(d["avg_events_per_hour"], "3.5");
  // P1 40 (nobody scored) + P2 30*3/7 + P3 0 (60 <= 0.5*10049) + P4 0 (1 >= 0.05*7)
  EXPECT_EQ(d["platform_health_score"], "52.86");
  EXPECT_TRUE(g.risk_scores.num_rows() == 0);
}

TEST(GoldTest, HealthScoreTiersAndPeakHourTie) {
  std::vector<Ev> evs;
  for (int i = 0; i < 100; ++i) {
    Ev e{.id = "r" + std::to_string(i), .user = "Reg", .len_old = 1000, .len_new = 1100,
         .ts_us = At(i < 50 ? "2024-03-02T05:00:00Z" : "2024-03-02T03:00:00Z") + i};
    if (i == 7) e.len_new = 1000 - 6000 + 5000;  // 0 → delta -1000; fixed below
    evs.push_back(e);
  }
  evs[7].len_old = 7000;
  evs[7].len_new = 1000;  // -6000: one large deletion
  GoldResult g = ComputeGold(Silver(evs), {"2024-03-02"}, kNow);
  ASSERT_EQ(g.daily_summary.num_rows(), 1u);
  Row d = RowAt(g.daily_summary, 0);
  EXPECT_EQ(d["peak_hour"], "3");  // 50 events at 03h and at 05h: the earliest wins
  EXPECT_EQ(d["peak_hour_events"], "50");
  EXPECT_EQ(d["avg_events_per_hour"], "50");
  EXPECT_EQ(d["large_deletion_rate"], "1");
  EXPECT_EQ(d["total_bytes_added"], "9900");
  EXPECT_EQ(d["total_bytes_removed"], "6000");
  // "Reg": 100 events, peak 50 → 25 points, LOW. P1 40·1/1, P2 30, P3 20 (9900 > 6000),
  // P4 5 (1 is not < 1 but is < 5).
  EXPECT_EQ(d["low_risk_user_count"], "1");
  EXPECT_EQ(d["platform_avg_risk_score"], "25");
  EXPECT_EQ(d["platform_max_risk_score"], "25");
  EXPECT_EQ(d["platform_health_score"], "95");

  // P3 = 10 when added > half of removed; P4 = 0 when deletions ≥ 5 %.
  std::vector<Ev> e2;
  for (int i = 0; i < 4; ++i) {
    e2.push_back(Ev{.id = "q" + std::to_string(i), .user = "1.1.1." + std::to_string(i), .len_old = 0,
                    .len_new = 3001, .ts_us = At("2024-03-09T00:00:00Z")});
  }
  e2.push_back(Ev{.id = "q9", .user = "Del", .len_old = 20000, .len_new = 0, .ts_us = At("2024-03-09T01:00:00Z")});
  g = ComputeGold(Silver(e2), {"2024-03-09"}, kNow);
  d = RowAt(g.daily_summary, 0);
  // 40 (nobody scored) + 30·1/5 + 10 (12004 > 10000) + 0 (1 ≥ 0.05·5)
  EXPECT_EQ(d["platform_health_score"], "56");
  EXPECT_EQ(d["registered_user_percentage"], "20");
  EXPECT_EQ(d["anonymous_percentage"], "80");
}

TEST(GoldTest, RiskScoresPinEveryBoundary) {
  const char* day = "2024-03-03";
  int64_t base = At("2024-03-03T00:00:00Z");
  std::vector<Ev> evs;
  int seq = 0;
  auto add = [&](const std::string& user, int hour, int count, int dels = 0, const std::string& domain = "en.wikipedia.org",
                 bool bot = false) {
    for (int i = 0; i < count; ++i) {
      Ev e{.id = "e" + std::to_string(seq++), .domain = domain, .user = user, .bot = bot, .ts_us = base + hour * kMicrosPerHour + i};
      if (i < dels) {
        e.len_old = 6001;
        e.len_new = 1000;
      }
      evs.push_back(e);
    }
  };
  for (int peak : {10, 11, 25, 26, 50, 51}) add("V" + std::to_string(peak), 2, peak);
  add("V51", 3, 4);  // more events in another hour do not change the peak
  for (int d = 1; d <= 4; ++d) add("D" + std::to_string(d), 4, 5, d);
  const char* wikis[] = {"en.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org",
                         "ja.wikipedia.org", "ar.wikipedia.org", "pt.wikipedia.org"};
  auto spread = [&](const std::string& user, int domains_count, int peak) {
    for (int i = 0; i < peak; ++i) add(user, 5, 1, 0, wikis[i % domains_count]);
  };
  spread("X5", 5, 21);
  spread("X6a", 6, 21);
  spread("X6b", 6, 20);
  add("F4", 6, 4);
  add("1.2.3.4", 7, 5);
  add("2001:db8::1", 7, 5);
  add("~2026-12345-67", 7, 5);
  add("H", 8, 51, 4);
  add("RoboBot", 9, 100, 0, "en.wikipedia.org", true);
  add("Ctl\x01", 10, 3);
  add(" Ctl", 11, 2);
  add("Half", 12, 6);
  add("More", 12, 6);
  RecordBatch s = Silver(evs);
  // Half: 3 of 6 anonymous (exactly 50 %), More: 4 of 6.
  std::set<size_t> anon;
  auto user_col = s.schema()->FieldIndex("user_normalized");
  auto anon_col = s.schema()->FieldIndex("is_anonymous");
  std::map<std::string, int> seen;
  for (size_t r = 0; r < s.num_rows(); ++r) {
    std::string u = s.column(user_col).IsNull(r) ? "" : std::string(s.column(user_col).GetString(r));
    int k = seen[u]++;
    if ((u == "Half" && k < 3) || (u == "More" && k < 4) || (s.column(anon_col).GetBool(r) && u != "Half" && u != "More")) {
      anon.insert(r);
    }
  }
  s = WithAnonymous(s, anon);
  GoldResult g = ComputeGold(s, {day}, kNow);
  const RecordBatch& rs = g.risk_scores;
  ASSERT_TRUE(rs.Validate().ok());
  auto row = [&](const std::string& user) { return One(rs, {{"entity_id", user}}); };
  EXPECT_EQ(row("V10")["velocity_points"], "0");
  EXPECT_EQ(row("V11")["velocity_points"], "10");
  EXPECT_EQ(row("V25")["velocity_points"], "10");
  EXPECT_EQ(row("V26")["velocity_points"], "25");
  EXPECT_EQ(row("V50")["velocity_points"], "25");
  Row v51 = row("V51");
  EXPECT_EQ(v51["velocity_points"], "40");
  EXPECT_EQ(v51["peak_hour_edits"], "51");
  EXPECT_EQ(v51["total_edits"], "55");
  EXPECT_EQ(v51["active_hours"], "2");
  EXPECT_EQ(v51["risk_score"], "40");
  EXPECT_EQ(v51["risk_level"], "MEDIUM");
  EXPECT_EQ(v51["alert_triggered"], "false");
  EXPECT_EQ(row("D1")["deletion_points"], "0");
  EXPECT_EQ(row("D2")["deletion_points"], "15");
  EXPECT_EQ(row("D3")["deletion_points"], "15");
  EXPECT_EQ(row("D4")["deletion_points"], "30");
  EXPECT_EQ(row("D4")["large_deletions"], "4");
  EXPECT_EQ(row("X5")["cross_domain_points"], "0");
  EXPECT_EQ(row("X5")["domains_edited"], "5");
  Row x6a = row("X6a");
  EXPECT_EQ(x6a["cross_domain_points"], "10");
  EXPECT_EQ(x6a["risk_score"], "20");
  EXPECT_EQ(x6a["domains_edited"], "6");
  EXPECT_EQ(x6a["peak_hour_edits"], "21");
  EXPECT_EQ(row("X6b")["cross_domain_points"], "0");
  EXPECT_TRUE(Where(rs, {{"entity_id", "F4"}}).empty());
  EXPECT_TRUE(Where(rs, {{"entity_id", "RoboBot"}}).empty());
  Row ip4 = row("1.2.3.4");
  EXPECT_EQ(ip4["user_type"], "ip");
  EXPECT_EQ(ip4["anonymous_points"], "20");
  EXPECT_EQ(ip4["anonymous_edits"], "5");
  EXPECT_EQ(row("2001:db8::1")["user_type"], "ip");
  EXPECT_EQ(row("~2026-12345-67")["user_type"], "temporary");
  EXPECT_EQ(row("V10")["user_type"], "registered");
  EXPECT_EQ(row("V10")["entity_type"], "user");
  Row ctl = row("Ctl");
  EXPECT_EQ(ctl["total_edits"], "5");
  EXPECT_EQ(ctl["active_hours"], "2");
  EXPECT_EQ(ctl["first_seen"], FormatIso8601(base + 10 * kMicrosPerHour));
  EXPECT_EQ(ctl["last_seen"], FormatIso8601(base + 11 * kMicrosPerHour + 1));
  EXPECT_EQ(row("Half")["anonymous_points"], "0");
  EXPECT_EQ(row("Half")["anonymous_edits"], "3");
  EXPECT_EQ(row("More")["anonymous_points"], "20");
  Row h = row("H");
  EXPECT_EQ(h["risk_score"], "70");
  EXPECT_EQ(h["risk_level"], "HIGH");
  EXPECT_EQ(h["alert_triggered"], "true");
  auto ev = nlohmann::json::parse(h["evidence"]);
  EXPECT_EQ(ev["peak_hour_edits"], 51);
  EXPECT_EQ(ev["large_deletions"], 4);
  EXPECT_EQ(ev["domains_edited"], 1);
  EXPECT_EQ(ev["total_edits"], 51);
  EXPECT_EQ(ev["anonymous_edits"], 0);
  EXPECT_EQ(ev["factors"], nlohmann::json::array({"velocity", "deletions"}));
  // Sorted by entity_id bytes.
  for (size_t r = 1; r < rs.num_rows(); ++r) {
    EXPECT_LT(rs.column("entity_id").GetString(r - 1), rs.column("entity_id").GetString(r));
  }
  ASSERT_EQ(g.daily_summary.num_rows(), 1u);
  Row d = RowAt(g.daily_summary, 0);
  EXPECT_EQ(d["high_risk_user_count"], "1");
  EXPECT_EQ(d["total_alerts_triggered"], "1");
  EXPECT_EQ(d["platform_max_risk_score"], "70");
  int64_t scored = static_cast<int64_t>(rs.num_rows());
  EXPECT_EQ(std::stoll(d["high_risk_user_count"]) + std::stoll(d["medium_risk_user_count"]) +
                std::stoll(d["low_risk_user_count"]),
            scored);
}

TEST(GoldTest, TrendingTiesPrev24hAcrossMidnightAndTopN) {
  std::vector<Ev> evs;
  int seq = 0;
  auto add = [&](const std::string& title, const char* at, int count, const std::string& user = "U1",
                 const std::string& type = "edit", const std::string& domain = "en.wikipedia.org") {
    for (int i = 0; i < count; ++i) {
      evs.push_back(Ev{.id = "t" + std::to_string(seq++), .type = type, .domain = domain, .title = title, .user = user,
                       .len_old = 100, .len_new = 100 + (i % 2 ? 7 : -3), .ts_us = At(at) + i});
    }
  };
  add("A", "2024-03-04T00:10:00Z", 24);  // h-24 of 2024-03-05T00: inside the window
  add("A", "2024-03-03T23:10:00Z", 9);   // h-25 (and a date not needed): outside
  add("A", "2024-03-05T00:20:00Z", 4, "U1");
  add("A", "2024-03-05T00:30:00Z", 2, "U2");
  add("A", "2024-03-05T00:40:00Z", 3, "U3", "log");  // not an edit
  add("B", "2024-03-05T00:20:00Z", 3);
  add("Zeta", "2024-03-05T00:20:00Z", 3);
  add("\xc3\x84pfel", "2024-03-05T00:20:00Z", 3);
  add("E", "2024-03-05T00:20:00Z", 2);
  add("B", "2024-03-05T00:20:00Z", 3, "U1", "edit", "de.wikipedia.org");
  add("F", "2024-03-05T04:20:00Z", 12);
  add("F", "2024-03-05T05:20:00Z", 3, "U9", "new");
  for (int p = 0; p < 25; ++p) add("Many" + std::to_string(100 + p), "2024-03-05T07:00:00Z", 3 + (p == 24));
  evs.push_back(Ev{.id = "nt", .title = std::nullopt, .ts_us = At("2024-03-05T00:20:00Z")});
  GoldResult g = ComputeGold(Silver(evs), {"2024-03-05"}, kNow);
  const RecordBatch& t = g.trending_pages;
  ASSERT_TRUE(t.Validate().ok());
  auto h0 = Where(t, {{"stat_hour", "0"}, {"domain", "en.wikipedia.org"}});
  ASSERT_EQ(h0.size(), 4u);
  // A: 6 edits, prev 24 → 6/2 = 3; B, Zeta, Äpfel: 3/1 = 3. Ties: edits desc, then title bytes.
  EXPECT_EQ(h0[0]["title"], "A");
  EXPECT_EQ(h0[0]["edits"], "6");
  EXPECT_EQ(h0[0]["prev_24h_edits"], "24");
  EXPECT_EQ(h0[0]["trend_score"], "3");
  EXPECT_EQ(h0[0]["unique_editors"], "2");
  EXPECT_EQ(h0[0]["bytes_changed"], "30");  // 4: 3+7+3+7, 2: 3+7
  EXPECT_EQ(h0[0]["rank"], "1");
  EXPECT_EQ(h0[1]["title"], "B");
  EXPECT_EQ(h0[2]["title"], "Zeta");
  EXPECT_EQ(h0[3]["title"], "\xc3\x84pfel");
  EXPECT_EQ(h0[3]["rank"], "4");
  EXPECT_EQ(One(t, {{"stat_hour", "0"}, {"domain", "de.wikipedia.org"}})["rank"], "1");
  Row f = One(t, {{"title", "F"}, {"stat_hour", "5"}});
  EXPECT_EQ(f["prev_24h_edits"], "12");
  EXPECT_EQ(f["trend_score"], "2");
  EXPECT_EQ(One(t, {{"title", "F"}, {"stat_hour", "4"}})["trend_score"], "12");
  auto h7 = Where(t, {{"stat_hour", "7"}});
  ASSERT_EQ(h7.size(), static_cast<size_t>(kTrendingTopN));
  EXPECT_EQ(h7[0]["title"], "Many124");
  EXPECT_EQ(h7[1]["title"], "Many100");
  EXPECT_EQ(h7[19]["title"], "Many118");
  EXPECT_EQ(h7[19]["rank"], "20");
  EXPECT_TRUE(Where(t, {{"title", "E"}}).empty());
  EXPECT_TRUE(Where(t, {{"stat_date", "2024-03-04"}}).empty());
  // Hourly row order and counts of the previous day do not leak into the target date.
  EXPECT_EQ(Where(g.hourly_stats, {{"stat_date", "2024-03-04"}}).size(), 0u);

  // A trend score that needs rounding to 4 digits: 3 edits, prev 1 → 3/(1+1/24) = 2.88
  std::vector<Ev> e2;
  for (int i = 0; i < 3; ++i) e2.push_back(Ev{.id = "x" + std::to_string(i), .title = "R", .ts_us = At("2024-03-05T10:00:00Z")});
  e2.push_back(Ev{.id = "y", .title = "R", .ts_us = At("2024-03-04T23:59:59Z")});
  GoldResult g2 = ComputeGold(Silver(e2), {"2024-03-05"}, kNow);
  ASSERT_EQ(g2.trending_pages.num_rows(), 1u);
  EXPECT_EQ(RowAt(g2.trending_pages, 0)["trend_score"], "2.88");
  e2.push_back(Ev{.id = "z", .title = "R", .ts_us = At("2024-03-05T09:00:00Z")});
  e2.push_back(Ev{.id = "w", .title = "R", .ts_us = At("2024-03-05T08:00:00Z")});
  g2 = ComputeGold(Silver(e2), {"2024-03-05"}, kNow);
  EXPECT_EQ(RowAt(g2.trending_pages, 0)["trend_score"], "2.6667");  // 3 / (1 + 3/24)
}

TEST(GoldTest, TopContributorsRankingAndTypes) {
  std::vector<Ev> evs;
  int seq = 0;
  int64_t t0 = At("2024-03-06T12:00:00Z");
  auto add = [&](const std::string& user, int count, int32_t delta, bool bot = false,
                 const std::string& domain = "en.wikipedia.org") {
    for (int i = 0; i < count; ++i) {
      evs.push_back(Ev{.id = "c" + std::to_string(seq++), .domain = domain, .title = "T" + std::to_string(i % 2),
                       .user = user, .bot = bot, .len_old = 1000, .len_new = 1000 + delta, .ts_us = t0 + seq});
    }
  };
  add("b", 3, 5);
  add("a", 3, 5);
  add("c", 3, 10);
  add("Robo", 5, -7, true);
  add("9.9.9.9", 1, 1);
  for (int u = 0; u < 55; ++u) add("de" + std::to_string(u), 1, u, false, "de.wikipedia.org");
  GoldResult g = ComputeGold(Silver(evs), {"2024-03-06"}, kNow);
  auto en = Where(g.top_contributors, {{"domain", "en.wikipedia.org"}});
  ASSERT_EQ(en.size(), 5u);
  EXPECT_EQ(en[0]["user_normalized"], "Robo");
  EXPECT_EQ(en[0]["is_bot"], "true");
  EXPECT_EQ(en[0]["user_type"], "bot");
  EXPECT_EQ(en[0]["bytes_removed"], "35");
  EXPECT_EQ(en[0]["bytes_added"], "0");
  EXPECT_EQ(en[1]["user_normalized"], "c");
  EXPECT_EQ(en[2]["user_normalized"], "a");
  EXPECT_EQ(en[3]["user_normalized"], "b");
  EXPECT_EQ(en[3]["pages_edited"], "2");
  EXPECT_EQ(en[3]["rank"], "4");
  EXPECT_EQ(en[3]["user_type"], "registered");
  EXPECT_EQ(en[4]["user_type"], "ip");
  auto de = Where(g.top_contributors, {{"domain", "de.wikipedia.org"}});
  ASSERT_EQ(de.size(), static_cast<size_t>(kTopContributorsN));
  EXPECT_EQ(de[0]["user_normalized"], "de54");  // bytes_added desc among equal edits
  EXPECT_EQ(de[49]["rank"], "50");
  // de rows come before en rows (domain bytes).
  EXPECT_EQ(RowAt(g.top_contributors, 0)["domain"], "de.wikipedia.org");
}

TEST(GoldTest, DatesToRecompute) {
  EXPECT_EQ(GoldDatesToRecompute({"2024-02-28", "2024-12-31"}),
            (std::vector<std::string>{"2024-02-28", "2024-02-29", "2024-12-31", "2025-01-01"}));
  EXPECT_EQ(GoldDatesToRecompute({"2024-03-01", "2024-03-02"}),
            (std::vector<std::string>{"2024-03-01", "2024-03-02", "2024-03-03"}));
  EXPECT_EQ(SilverDatesNeededFor({"2024-03-01", "2024-03-03"}),
            (std::vector<std::string>{"2024-02-29", "2024-03-01", "2024-03-02", "2024-03-03"}));
  EXPECT_TRUE(GoldDatesToRecompute({}).empty());
}

TEST(GoldTest, CountRowsPerDate) {
  RecordBatch s = Silver({Ev{.id = "1", .ts_us = At("2024-03-01T00:00:00Z")}, Ev{.id = "2", .ts_us = At("2024-03-02T00:00:00Z")},
                          Ev{.id = "3", .ts_us = At("2024-03-01T23:59:59Z")}, Ev{.id = "4", .ts_us = At("2024-03-01T01:00:00Z")}});
  EXPECT_EQ(CountRowsPerDate(s, "event_date"),
            (std::map<std::string, int64_t>{{"2024-03-01", 3}, {"2024-03-02", 1}}));
  EXPECT_TRUE(CountRowsPerDate(RecordBatch(SilverTable().schema), "event_date").empty());
}

// Deterministic pseudo-random events over three days with duplicates.
std::vector<Ev> SyntheticEvents(int n, uint64_t seed) {
  const char* wikis[] = {"en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "commons.wikimedia.org"};
  const char* types[] = {"edit", "edit", "edit", "new", "log", "categorize", "142"};
  uint64_t x = seed;
  auto next = [&](uint64_t mod) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % mod;
  };
  int64_t start = At("2024-05-01T20:00:00Z");
  std::vector<Ev> out;
  for (int i = 0; i < n; ++i) {
    if (i > 10 && next(20) == 0) {  // a re-delivered event
      out.push_back(out[next(out.size())]);
      continue;
    }
    Ev e;
    e.id = "id" + std::to_string(i);
    e.type = types[next(7)];
    e.domain = wikis[next(4)];
    e.title = next(15) == 0 ? std::nullopt : std::optional<std::string>("Pg" + std::to_string(next(12)));
    uint64_t u = next(30);
    e.user = u == 0 ? std::nullopt
             : u < 4 ? std::optional<std::string>("10.0.0." + std::to_string(u))
             : u < 6 ? std::optional<std::string>("~2024-" + std::to_string(u))
                     : std::optional<std::string>("User" + std::to_string(u % 12));
    e.bot = u >= 27;
    if (next(5)) {
      e.len_old = static_cast<int32_t>(next(20000));
      e.len_new = static_cast<int32_t>(next(3) == 0 ? next(80000) : next(20000));
    }
    e.ts_us = start + static_cast<int64_t>(next(52)) * kMicrosPerHour + static_cast<int64_t>(next(3600)) * kMicrosPerSecond;
    out.push_back(e);
  }
  return out;
}

void ExpectBatchesEqual(const RecordBatch& a, const RecordBatch& b, const std::string& what) {
  ASSERT_EQ(a.num_rows(), b.num_rows()) << what;
  ASSERT_TRUE(a.schema()->Equals(*b.schema())) << what;
  for (size_t r = 0; r < a.num_rows(); ++r) {
    for (size_t c = 0; c < a.num_columns(); ++c) {
      ASSERT_TRUE(a.column(c).ValueEquals(r, b.column(c), r))
          << what << " row " << r << " column " << a.schema()->field(c).name << ": " << a.column(c).ValueToString(r)
          << " vs " << b.column(c).ValueToString(r);
    }
  }
}

void ExpectGoldEqual(const GoldResult& a, const GoldResult& b) {
  ExpectBatchesEqual(a.hourly_stats, b.hourly_stats, "hourly_stats");
  ExpectBatchesEqual(a.risk_scores, b.risk_scores, "risk_scores");
  ExpectBatchesEqual(a.daily_summary, b.daily_summary, "daily_summary");
  ExpectBatchesEqual(a.trending_pages, b.trending_pages, "trending_pages");
  ExpectBatchesEqual(a.top_contributors, b.top_contributors, "top_contributors");
}

RecordBatch RowsOfDates(const RecordBatch& b, const char* date_col, const std::set<std::string>& dates) {
  std::vector<uint32_t> keep;
  const Column& c = b.column(date_col);
  for (size_t r = 0; r < b.num_rows(); ++r) {
    if (dates.count(std::string(c.GetString(r)))) keep.push_back(static_cast<uint32_t>(r));
  }
  return b.Take(keep);
}

TEST(GoldTest, ChunkedIncrementalEqualsOnePass) {
  std::vector<Ev> evs = SyntheticEvents(3000, 42);
  // One pass.
  RecordBatch all_silver = BuildSilver(MakeBronze(evs), nullptr, 1);
  std::set<std::string> all_dates;
  for (size_t r = 0; r < all_silver.num_rows(); ++r) all_dates.insert(std::string(all_silver.column(kSEventDate).GetString(r)));
  ASSERT_GE(all_dates.size(), 3u);
  GoldResult full = ComputeGold(all_silver, {all_dates.begin(), all_dates.end()}, kNow);
  ASSERT_GT(full.trending_pages.num_rows(), 0u);
  ASSERT_GT(full.risk_scores.num_rows(), 0u);

  // Five chunks, silver state carried by already_in_silver, gold partitions replaced.
  RecordBatch silver(SilverTable().schema);
  std::set<std::string> silver_ids;
  std::map<std::string, GoldResult> gold_by_date;
  size_t chunk = evs.size() / 5 + 1;
  for (size_t start = 0; start < evs.size(); start += chunk) {
    std::vector<Ev> part(evs.begin() + start, evs.begin() + std::min(evs.size(), start + chunk));
    RecordBatch added = BuildSilver(MakeBronze(part), [&](std::string_view id) { return silver_ids.count(std::string(id)) > 0; },
                                    static_cast<int64_t>(start));
    std::set<std::string> touched;
    for (size_t r = 0; r < added.num_rows(); ++r) {
      silver_ids.insert(std::string(added.column(kSEventId).GetString(r)));
      touched.insert(std::string(added.column(kSEventDate).GetString(r)));
    }
    silver.Append(added);
    std::vector<std::string> dates = GoldDatesToRecompute(touched);
    std::vector<std::string> need = SilverDatesNeededFor(dates);
    RecordBatch input = RowsOfDates(silver, "event_date", {need.begin(), need.end()});
    GoldResult g = ComputeGold(input, dates, kNow);
    for (const auto& d : dates) {
      GoldResult& slot = gold_by_date[d];
      slot.hourly_stats = RowsOfDates(g.hourly_stats, "stat_date", {d});
      slot.risk_scores = RowsOfDates(g.risk_scores, "stat_date", {d});
      slot.daily_summary = RowsOfDates(g.daily_summary, "summary_date", {d});
      slot.trending_pages = RowsOfDates(g.trending_pages, "stat_date", {d});
      slot.top_contributors = RowsOfDates(g.top_contributors, "stat_date", {d});
    }
  }
  EXPECT_EQ(silver.num_rows(), all_silver.num_rows());
  GoldResult merged{RecordBatch(HourlyStatsTable().schema), RecordBatch(RiskScoresTable().schema),
                    RecordBatch(DailySummaryTable().schema), RecordBatch(TrendingPagesTable().schema),
                    RecordBatch(TopContributorsTable().schema)};
  for (auto& [d, g] : gold_by_date) {
    merged.hourly_stats.Append(g.hourly_stats);
    merged.risk_scores.Append(g.risk_scores);
    merged.daily_summary.Append(g.daily_summary);
    merged.trending_pages.Append(g.trending_pages);
    merged.top_contributors.Append(g.top_contributors);
  }
  ExpectGoldEqual(merged, full);
}

// The batch cycle feeds gold one silver data file at a time and frees each
// file's rows after Add: parts of any size, freed right away, must give
// exactly the one-batch result.
TEST(GoldTest, AccumulatorOverFreedPartsEqualsOneBatch) {
  RecordBatch all_silver = BuildSilver(MakeBronze(SyntheticEvents(4000, 11)), nullptr, 1);
  std::set<std::string> all_dates;
  for (size_t r = 0; r < all_silver.num_rows(); ++r) all_dates.insert(std::string(all_silver.column(kSEventDate).GetString(r)));
  std::vector<std::string> dates(all_dates.begin(), all_dates.end());
  dates.pop_back();  // the last date is only read as the previous day of none: rows of other dates are ignored
  GoldResult full = ComputeGold(all_silver, dates, kNow);
  ASSERT_GT(full.trending_pages.num_rows(), 0u);

  GoldAccumulator accumulator(dates, kNow);
  const size_t sizes[] = {1, 999, 7, 1500};
  size_t start = 0;
  for (size_t i = 0; start < all_silver.num_rows(); ++i) {
    std::vector<uint32_t> rows;
    for (size_t r = start; r < std::min(all_silver.num_rows(), start + sizes[i % 4]); ++r) {
      rows.push_back(static_cast<uint32_t>(r));
    }
    start += rows.size();
    auto part = std::make_unique<RecordBatch>(all_silver.Take(rows));
    accumulator.Add(*part);
    // Overwrite, then free, the part's bytes: gold must not point into them.
    for (auto& c : part->columns()) c.Clear();
    part.reset();
  }
  GoldResult parts = accumulator.Finish();
  ExpectGoldEqual(parts, full);
}

// Passes split the users and pages between them; fed from one thread each,
// in any number, they must still give exactly the one-pass result, the
// top-N cuts included.
TEST(GoldTest, AnyNumberOfPassesOnThreadsEqualsOnePass) {
  // More users and pages than SyntheticEvents has, so that groups overflow
  // their top-N; derived from the id, so a re-delivered event stays a copy.
  std::vector<Ev> events = SyntheticEvents(100000, 5);
  for (Ev& e : events) {
    const size_t k = std::hash<std::string>{}(e.id);
    if (e.user && e.user->rfind("User", 0) == 0) e.user = "User" + std::to_string(k % 300);
    if (e.title) e.title = "Pg" + std::to_string(k / 300 % 30);
  }
  RecordBatch silver = BuildSilver(MakeBronze(events), nullptr, 1);
  std::set<std::string> all_dates;
  for (size_t r = 0; r < silver.num_rows(); ++r) all_dates.insert(std::string(silver.column(kSEventDate).GetString(r)));
  std::vector<std::string> dates(all_dates.begin(), all_dates.end());
  GoldResult one = ComputeGold(silver, dates, kNow);
  // The cuts matter: some group has more candidates than it keeps.
  auto max_rank = [](const RecordBatch& b) {
    int32_t m = 0;
    for (size_t r = 0; r < b.num_rows(); ++r) m = std::max(m, b.column("rank").GetInt32(r));
    return m;
  };
  ASSERT_EQ(max_rank(one.top_contributors), kTopContributorsN);
  ASSERT_EQ(max_rank(one.trending_pages), kTrendingTopN);
  ASSERT_GT(one.risk_scores.num_rows(), 0u);

  std::vector<uint32_t> first_half, second_half;
  for (uint32_t r = 0; r < silver.num_rows(); ++r) (r < silver.num_rows() / 2 ? first_half : second_half).push_back(r);
  const RecordBatch parts[] = {silver.Take(first_half), silver.Take(second_half)};
  for (int passes : {2, 3, 7}) {
    SCOPED_TRACE(passes);
    GoldAccumulator accumulator(dates, kNow, passes);
    ASSERT_EQ(accumulator.passes(), passes);
    std::vector<std::thread> threads;
    for (int p = 0; p < passes; ++p) {
      threads.emplace_back([&, p] {
        for (const RecordBatch& part : parts) accumulator.Add(part, p);
        accumulator.EndPass(p);
      });
    }
    for (auto& t : threads) t.join();
    GoldResult split = accumulator.Finish();
    ExpectGoldEqual(split, one);
  }
}

TEST(GoldTest, PassesKeepTheRowsInMemoryBoundedAndFillEveryThread) {
  EXPECT_EQ(GoldPassesFor(0, 1), 1);
  EXPECT_EQ(GoldPassesFor(kGoldRowsInMemory, 1), 1);
  EXPECT_EQ(GoldPassesFor(kGoldRowsInMemory + 1, 1), 2);
  EXPECT_EQ(GoldPassesFor(10, 2), 2);
  // Two passes in memory at once: each covers at most half the budget.
  EXPECT_EQ(GoldPassesFor(3 * kGoldRowsInMemory, 2), 6);
  EXPECT_EQ(GoldPassesFor(5 * kGoldRowsInMemory / 2, 2), 6);  // 5 rounded up to a multiple of 2
  EXPECT_EQ(GoldPassesFor(1'000 * kGoldRowsInMemory, 1), kGoldMaxPasses);
}

TEST(GoldTest, ScalesToManyRows) {
  // Not a benchmark: guards against per-row string work creeping in.
  std::vector<Ev> evs = SyntheticEvents(200000, 7);
  RecordBatch s = BuildSilver(MakeBronze(evs), nullptr, 1);
  std::set<std::string> dates;
  for (size_t r = 0; r < s.num_rows(); ++r) dates.insert(std::string(s.column(kSEventDate).GetString(r)));
  int64_t t0 = MonotonicMicros();
  GoldResult g = ComputeGold(s, {dates.begin(), dates.end()}, kNow);
  int64_t elapsed = MonotonicMicros() - t0;
  EXPECT_GT(g.hourly_stats.num_rows(), 0u);
  std::printf("ComputeGold: %zu rows in %lld us\n", s.num_rows(), static_cast<long long>(elapsed));
  EXPECT_LT(elapsed, 2'000'000) << "ComputeGold over " << s.num_rows() << " rows took " << elapsed << " us";
  int64_t sum = 0;
  for (size_t r = 0; r < g.hourly_stats.num_rows(); ++r) sum += g.hourly_stats.column("total_events").GetInt64(r);
  EXPECT_EQ(sum, static_cast<int64_t>(s.num_rows()));
}

}  // namespace
}  // namespace ws::transform
