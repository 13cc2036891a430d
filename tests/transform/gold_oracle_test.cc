// ComputeGold against an independent DuckDB oracle (tests/interop/gold_duckdb.mjs)
// that reads the raw NDJSON itself: real recorded events and a synthetic day
// boundary (dense hours across midnight, IPs, temporary accounts, bots, a
// high-risk editor).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::transform {

namespace bronze = warehouse::bronze;
using format::Column;
using format::RecordBatch;
using format::TypeId;
using ingest::EventIngestor;
using ingest::IngestOutcome;
using model::DomainFilter;
using source::SourceRecord;

namespace {

using nlohmann::json;

bool NodeAvailable() {
  return ws::testing::RunCommand("node --version >/dev/null 2>&1") == 0 &&
         std::filesystem::exists(ws::testing::SourceDir() / "node_modules/@duckdb/node-api");
}

// Ingests every line (all domains) and computes gold over all dates. With
// `accepted_out`, the lines the ingest rules accept are also written there
// (the oracle does not re-implement the DLQ rules); otherwise none may fail.
GoldResult GoldFromNdjson(const std::filesystem::path& file, size_t* silver_rows,
                          const std::filesystem::path* accepted_out = nullptr) {
  EventIngestor ingestor(DomainFilter::All(), "replay");
  RecordBatch bronze(bronze::RawEventsSchema());
  RecordBatch dlq(bronze::DlqEventsSchema());
  std::ifstream in(file);
  std::string line, accepted;
  int64_t n = 0;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    SourceRecord rec{line, 1'800'000'000'000'000 + n, std::to_string(n)};
    ++n;
    if (ingestor.Ingest(rec, &bronze, &dlq) == IngestOutcome::kAccepted) accepted += line + "\n";
  }
  if (accepted_out) {
    ws::testing::WriteFile(*accepted_out, accepted);
  } else {
    EXPECT_EQ(dlq.num_rows(), 0u) << file;
  }
  RecordBatch silver = BuildSilver(bronze, nullptr, 1);
  *silver_rows = silver.num_rows();
  std::set<std::string> dates;
  for (size_t r = 0; r < silver.num_rows(); ++r) dates.insert(std::string(silver.column("event_date").GetString(r)));
  return ComputeGold(silver, {dates.begin(), dates.end()}, 1);
}

int64_t AsInt(const json& v) {
  if (v.is_string()) return std::stoll(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_float()) return static_cast<int64_t>(std::llround(v.get<double>()));
  return v.get<int64_t>();
}

// Compares one gold batch with the oracle's rows, matched by key columns.
// Columns rounded by the pipeline are unrounded in the oracle: they must
// agree within half a unit of the last kept digit.
void Compare(const RecordBatch& mine, const json& oracle, const std::vector<std::string>& keys,
             const std::map<std::string, double>& rounded, const std::string& what) {
  ASSERT_EQ(mine.num_rows(), oracle.size()) << what;
  std::map<std::string, const json*> by_key;
  for (const json& row : oracle) {
    std::string k;
    for (const auto& c : keys) k += (row[c].is_string() ? row[c].get<std::string>() : row[c].dump()) + "|";
    by_key[k] = &row;
  }
  size_t compared = 0;
  for (size_t r = 0; r < mine.num_rows(); ++r) {
    std::string k;
    for (const auto& c : keys) {
      const Column& col = mine.column(c);
      k += (col.type() == TypeId::kString ? std::string(col.GetString(r)) : col.ValueToString(r)) + "|";
    }
    auto it = by_key.find(k);
    ASSERT_NE(it, by_key.end()) << what << ": oracle has no row " << k;
    const json& o = *it->second;
    for (auto item = o.begin(); item != o.end(); ++item) {
      const std::string& name = item.key();
      int idx = mine.schema()->FieldIndex(name);
      ASSERT_GE(idx, 0) << what << ": no column " << name;
      const Column& col = mine.column(idx);
      const json& v = item.value();
      std::string where = what + " " + k + " " + name;
      if (v.is_null()) {
        EXPECT_TRUE(col.IsNull(r)) << where;
        continue;
      }
      ASSERT_TRUE(col.IsValid(r)) << where;
      switch (col.type()) {
        case TypeId::kString: EXPECT_EQ(col.GetString(r), v.get<std::string>()) << where; break;
        case TypeId::kBoolean: EXPECT_EQ(col.GetBool(r), v.get<bool>()) << where; break;
        case TypeId::kInt32: EXPECT_EQ(col.GetInt32(r), AsInt(v)) << where; break;
        case TypeId::kInt64:
        case TypeId::kTimestampTz: EXPECT_EQ(col.GetInt64(r), AsInt(v)) << where; break;
        case TypeId::kDouble: {
          double want = v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
          auto rd = rounded.find(name);
          double tol = rd == rounded.end() ? 1e-9 : rd->second / 2 + 1e-9;
          EXPECT_NEAR(col.GetDouble(r), want, tol) << where;
          break;
        }
        default: FAIL() << where;
      }
    }
    ++compared;
  }
  EXPECT_EQ(compared, oracle.size()) << what;
}

void CheckAgainstOracle(const std::filesystem::path& file, size_t min_risk_rows, size_t min_trending_rows,
                        bool filter_accepted = false) {
  size_t silver_rows = 0;
  std::filesystem::path accepted = file;
  accepted += ".accepted";
  GoldResult g = GoldFromNdjson(file, &silver_rows, filter_accepted ? &accepted : nullptr);
  const std::filesystem::path& oracle_input = filter_accepted ? accepted : file;
  std::string out;
  std::string cmd = "node " + (ws::testing::SourceDir() / "tests/interop/gold_duckdb.mjs").string() + " '" +
                    oracle_input.string() + "' 2>&1";
  ASSERT_EQ(ws::testing::RunCommand(cmd, &out), 0) << out;
  json o = json::parse(out, nullptr, false);
  ASSERT_FALSE(o.is_discarded()) << out.substr(0, 2000);
  EXPECT_EQ(AsInt(o["silver_rows"]), static_cast<int64_t>(silver_rows));
  const double r2 = 0.01, r4 = 0.0001;
  Compare(g.hourly_stats, o["hourly"], {"stat_date", "stat_hour", "domain"},
          {{"avg_edit_size", r2}, {"bot_percentage", r2}, {"anonymous_percentage", r2}}, "hourly_stats");
  Compare(g.daily_summary, o["daily"], {"summary_date"},
          {{"bot_percentage", r2}, {"anonymous_percentage", r2}, {"registered_user_percentage", r2},
           {"avg_edit_size_bytes", r2}, {"large_deletion_rate", r4}, {"platform_avg_risk_score", r2},
           {"europe_percentage", r2}, {"americas_percentage", r2}, {"asia_pacific_percentage", r2},
           {"middle_east_percentage", r2}, {"other_percentage", r2}, {"avg_events_per_hour", r2},
           {"platform_health_score", r2}},
          "daily_summary");
  Compare(g.risk_scores, o["risk"], {"stat_date", "entity_id"}, {}, "risk_scores");
  Compare(g.top_contributors, o["top"], {"stat_date", "domain", "rank"}, {}, "top_contributors");
  Compare(g.trending_pages, o["trending"], {"stat_date", "stat_hour", "domain", "rank"}, {{"trend_score", r4}},
          "trending_pages");
  EXPECT_GE(g.risk_scores.num_rows(), min_risk_rows);
  EXPECT_GE(g.trending_pages.num_rows(), min_trending_rows);
}

TEST(GoldOracleTest, RecordedEventsMatchDuckDb) {
  if (!NodeAvailable()) GTEST_SKIP() << "node or @duckdb/node-api missing";
  CheckAgainstOracle(ws::testing::SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson", 10, 10);
}

TEST(GoldOracleTest, AllRecordedNdjsonFilesTogetherMatchDuckDb) {
  if (!NodeAvailable()) GTEST_SKIP() << "node or @duckdb/node-api missing";
  ws::testing::TempDir dir;
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(ws::testing::SharedDataDir() / "ndjson")) {
    if (entry.path().extension() == ".ndjson") all += ws::testing::ReadFile(entry.path()) + "\n";
  }
  auto path = dir.path() / "all.ndjson";
  ws::testing::WriteFile(path, all);
  CheckAgainstOracle(path, 10, 10);
}

// Raw events across midnight with every user class, written as NDJSON.
std::string SyntheticNdjson() {
  const char* wikis[] = {"en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "fa.wikipedia.org",
                         "pt.wikipedia.org", "www.wikidata.org", "commons.wikimedia.org"};
  std::vector<std::string> users = {"Alice", "Bob", "Carol", "10.1.2.3", "2001:db8::7", "~2026-12345-67",
                                    "Ctl\x01Name", " Spacey ", "\xe5\xbc\xa0\xe4\xb8\x89", "ImportBot"};
  uint64_t x = 12345;
  auto next = [&](uint64_t mod) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % mod;
  };
  int64_t start = *ParseIso8601Micros("2024-06-30T18:00:00Z") / kMicrosPerSecond;
  std::ostringstream out;
  int id = 0;
  auto emit = [&](const std::string& user, bool bot, const std::string& domain, const std::string& type,
                  const std::string& title, int64_t ts, std::optional<int> lo, std::optional<int> ln) {
    json e;
    e["meta"] = {{"id", "syn-" + std::to_string(id++)}, {"domain", domain}, {"dt", FormatIso8601(ts * kMicrosPerSecond)}};
    e["type"] = type;
    e["title"] = title;
    e["user"] = user;
    e["bot"] = bot;
    e["namespace"] = 0;
    e["timestamp"] = ts;
    if (lo || ln) {
      e["length"] = json::object();
      if (lo) e["length"]["old"] = *lo;
      if (ln) e["length"]["new"] = *ln;
    }
    out << e.dump() << "\n";
  };
  const char* types[] = {"edit", "edit", "edit", "new", "log", "categorize"};
  for (int i = 0; i < 4000; ++i) {
    const std::string& user = users[next(users.size())];
    std::string type = types[next(6)];
    std::optional<int> lo, ln;
    if (type == "edit") {
      lo = static_cast<int>(next(30000));
      ln = next(10) == 0 ? static_cast<int>(next(100)) : static_cast<int>(*lo + next(2000)) - 700;
    } else if (type == "new") {
      ln = static_cast<int>(next(60000));
    }
    int64_t ts = start + static_cast<int64_t>(next(12 * 3600));
    emit(user, user == "ImportBot", wikis[next(7)], type, "Page " + std::to_string(next(25)), ts, lo, ln);
  }
  // A burst: 60 edits in one hour over 7 wikis with large deletions → HIGH.
  for (int i = 0; i < 60; ++i) {
    emit("Vandal", false, wikis[i % 7], "edit", "Target " + std::to_string(i % 3), start + 6 * 3600 + i * 10,
         i < 5 ? std::optional<int>(9000) : std::optional<int>(100), i < 5 ? std::optional<int>(10) : std::optional<int>(150));
  }
  return out.str();
}

TEST(GoldOracleTest, SyntheticMidnightMatchesDuckDb) {
  if (!NodeAvailable()) GTEST_SKIP() << "node or @duckdb/node-api missing";
  ws::testing::TempDir dir;
  auto path = dir.path() / "synthetic.ndjson";
  ws::testing::WriteFile(path, SyntheticNdjson());
  size_t silver_rows = 0;
  GoldResult g = GoldFromNdjson(path, &silver_rows);
  EXPECT_EQ(silver_rows, 4060u);
  // The burst user is HIGH on 2024-07-01 (18:00 + 6 h).
  bool found = false;
  for (size_t r = 0; r < g.risk_scores.num_rows(); ++r) {
    if (g.risk_scores.column("entity_id").GetString(r) == "Vandal") {
      found = true;
      EXPECT_EQ(g.risk_scores.column("risk_level").GetString(r), "HIGH");
    }
  }
  EXPECT_TRUE(found);
  // Trending on 2024-07-01 sees the previous evening's edits.
  bool prev_across_midnight = false;
  for (size_t r = 0; r < g.trending_pages.num_rows(); ++r) {
    if (g.trending_pages.column("stat_date").GetString(r) == "2024-07-01" &&
        g.trending_pages.column("stat_hour").GetInt32(r) == 0 && g.trending_pages.column("prev_24h_edits").GetInt64(r) > 0) {
      prev_across_midnight = true;
    }
  }
  EXPECT_TRUE(prev_across_midnight);
  CheckAgainstOracle(path, 8, 100);
}

// The project's synthetic generator (heavy users, duplicates, canaries,
// malformed lines), when the binary can run `generate`.
TEST(GoldOracleTest, SyntheticGeneratorOutputMatchesDuckDb) {
  if (!NodeAvailable()) GTEST_SKIP() << "node or @duckdb/node-api missing";
  ws::testing::TempDir dir;
  auto path = dir.path() / "generated.ndjson";
  std::string out;
  if (!std::filesystem::exists(ws::testing::WikistreamBinary()) ||
      ws::testing::RunCommand(ws::testing::WikistreamBinary().string() + " generate 30000 --seed 11 > '" +
                                  path.string() + "' 2>/dev/null",
                              &out) != 0) {
    GTEST_SKIP() << "wikistream generate is not available in this build";
  }
  CheckAgainstOracle(path, 8, 1, /*filter_accepted=*/true);
}

}  // namespace
}  // namespace ws::transform
