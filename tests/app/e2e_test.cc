// End-to-end: the real binary over real recorded events, read back by
// independent readers (DuckDB via the manifests, sqlite3 for the catalog).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/test_util.h"

namespace ws::app {
namespace {

using ws::testing::RunCommand;
using ws::testing::SharedDataDir;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

// Rows of a table as an independent Iceberg reader sees them.
nlohmann::json ReadTable(const std::string& warehouse, const std::string& table, const std::string& order = "") {
  std::string out;
  int rc = testing::ReadTableWithDuckDb(warehouse, table, order, &out);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return nlohmann::json::object({{"rows", nlohmann::json::array()}});
  return nlohmann::json::parse(out);
}

int64_t Int(const nlohmann::json& v) {
  if (v.is_string()) return std::stoll(v.get<std::string>());
  return v.get<int64_t>();
}

TEST(EndToEndTest, ReplayOnceLandsEveryTableReadableByDuckDB) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  std::string file = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();
  std::string out;
  int rc = RunCommand(Bin() + " run --once --source replay:" + file + " --warehouse " + wh + " 2>&1", &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("stage seconds"), std::string::npos) << out;

  // 335 events of the 18 default wikis (data README, checked independently).
  auto bronze = ReadTable(wh, "bronze.raw_events", "event_id");
  ASSERT_EQ(bronze["rows"].size(), 335u);
  std::set<std::string> ids;
  for (const auto& r : bronze["rows"]) ids.insert(r["event_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 335u);
  auto silver = ReadTable(wh, "silver.cleaned_events");
  EXPECT_EQ(silver["rows"].size(), 335u);
  auto hourly = ReadTable(wh, "gold.hourly_stats");
  int64_t total = 0;
  for (const auto& r : hourly["rows"]) total += Int(r["total_events"]);
  EXPECT_EQ(total, 335);
  auto daily = ReadTable(wh, "gold.daily_analytics_summary");
  int64_t daily_total = 0;
  for (const auto& r : daily["rows"]) daily_total += Int(r["total_events"]);
  EXPECT_EQ(daily_total, 335);
  auto runs = ReadTable(wh, "ops.pipeline_runs");
  EXPECT_GE(runs["rows"].size(), 2u);
  auto dq = ReadTable(wh, "dq_audit.quality_results");
  EXPECT_GT(dq["rows"].size(), 5u);

  // The catalog (read with the sqlite3 CLI) points where version-hint points.
  std::string loc;
  ASSERT_EQ(RunCommand("sqlite3 " + wh +
                           "/catalog.db \"select metadata_location from iceberg_tables where catalog_name='wikistream' "
                           "and table_namespace='bronze' and table_name='raw_events'\"",
                       &loc),
            0);
  std::string hint = ws::testing::ReadFile(wh + "/bronze/raw_events/metadata/version-hint.text");
  while (!hint.empty() && (hint.back() == '\n' || hint.back() == ' ')) hint.pop_back();
  EXPECT_NE(loc.find("metadata/"), std::string::npos) << loc;
  EXPECT_NE(loc.find(hint), std::string::npos) << loc << " vs hint " << hint;

  // `tables` and `snapshots` describe it.
  ASSERT_EQ(RunCommand(Bin() + " tables --warehouse " + wh + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("bronze.raw_events"), std::string::npos);
  EXPECT_NE(out.find("gold.trending_pages"), std::string::npos);
  ASSERT_EQ(RunCommand(Bin() + " snapshots bronze.raw_events --warehouse " + wh + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("wikistream.source.replay"), std::string::npos) << out;

  // Running again changes nothing: the position says the file is done, and
  // the batch finds no new input.
  ASSERT_EQ(RunCommand(Bin() + " run --once --source replay:" + file + " --warehouse " + wh + " 2>&1", &out), 0)
      << out;
  EXPECT_EQ(ReadTable(wh, "bronze.raw_events")["rows"].size(), 335u);
  EXPECT_EQ(ReadTable(wh, "silver.cleaned_events")["rows"].size(), 335u);
  ASSERT_EQ(RunCommand(Bin() + " batch --warehouse " + wh + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("SKIPPED"), std::string::npos) << out;
}

TEST(EndToEndTest, SseCaptureWithDomainsAll) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  std::string file = (SharedDataDir() / "sse/kirajano-2021-09-10.sse").string();
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --once --domains all --source replay:" + file + " --warehouse " + wh + " 2>&1",
                       &out),
            0)
      << out;
  EXPECT_EQ(ReadTable(wh, "bronze.raw_events")["rows"].size(), 341u);
}

// Incremental equals full: five chunks with a cycle after each give the same
// silver and gold rows as one pass over the whole file.
TEST(EndToEndTest, FiveChunksEqualOnePass) {
  TempDir dir;
  std::string file = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();
  std::string out;
  std::string whole = dir.str() + "/whole", chunked = dir.str() + "/chunked";
  ASSERT_EQ(RunCommand(Bin() + " run --once --domains all --source replay:" + file + " --warehouse " + whole), 0);
  // Lines 1..N split into 5 files (the capture starts with a blank line).
  ASSERT_EQ(RunCommand("cd " + dir.str() + " && grep -v '^$' " + file + " > all.ndjson && split -n l/5 -d all.ndjson chunk", &out), 0) << out;
  for (int i = 0; i < 5; ++i) {
    std::string chunk = dir.str() + "/chunk0" + std::to_string(i);
    out.clear();
    ASSERT_EQ(RunCommand(Bin() + " run --once --domains all --source replay:" + chunk + " --warehouse " + chunked, &out),
              0)
        << out;
  }
  auto strip = [](nlohmann::json t) {
    for (auto& r : t["rows"]) {
      for (const char* c : {"silver_processed_at", "gold_processed_at", "bronze_processed_at"}) r.erase(c);
    }
    return t["rows"];
  };
  const std::pair<const char*, const char*> tables[] = {
      {"silver.cleaned_events", "event_id"},
      {"gold.hourly_stats", "stat_date, stat_hour, domain"},
      {"gold.risk_scores", "stat_date, entity_id"},
      {"gold.daily_analytics_summary", "summary_date"},
      {"gold.trending_pages", "stat_date, stat_hour, domain, rank"},
      {"gold.top_contributors", "stat_date, domain, rank"}};
  for (const auto& [table, order] : tables) {
    auto a = strip(ReadTable(whole, table, order));
    auto b = strip(ReadTable(chunked, table, order));
    EXPECT_GT(a.size(), 0u) << table;
    EXPECT_EQ(a, b) << table;
  }
  EXPECT_EQ(ReadTable(chunked, "silver.cleaned_events")["rows"].size(), 2387u);
}

int64_t CountRows(const std::string& wh, const std::string& table, std::set<std::string>* ids = nullptr) {
  auto t = ReadTable(wh, table);
  if (ids) {
    for (const auto& r : t["rows"]) ids->insert(r["event_id"].get<std::string>());
  }
  return static_cast<int64_t>(t["rows"].size());
}

// kill -9 at an arbitrary moment, restart: nothing lost, nothing doubled.
TEST(EndToEndTest, KillNineAndRestartIsExactlyOnce) {
  TempDir dir;
  std::string input = dir.str() + "/events.ndjson";
  std::string out;
  ASSERT_EQ(RunCommand("{ " + Bin() + " generate 60000 --seed 7 > " + input + "; }", &out), 0) << out;

  // Reference: one clean run.
  std::string ref = dir.str() + "/ref";
  ASSERT_EQ(RunCommand(Bin() + " run --once --source replay:" + input + " --warehouse " + ref + " 2>&1", &out), 0)
      << out;
  std::set<std::string> ref_ids;
  int64_t expected = CountRows(ref, "bronze.raw_events", &ref_ids);
  ASSERT_GT(expected, 30000);
  ASSERT_EQ(static_cast<int64_t>(ref_ids.size()), expected);

  std::string wh = dir.str() + "/wh";
  for (int delay_ms : {300, 700}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::string src = "replay:" + input;
      execl(Bin().c_str(), "wikistream", "run", "--once", "--source", src.c_str(), "--warehouse", wh.c_str(),
            "--commit-max-events", "3000", "--log-level", "error", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  ASSERT_EQ(RunCommand(Bin() + " run --once --source replay:" + input + " --warehouse " + wh +
                           " --commit-max-events 3000 2>&1",
                       &out),
            0)
      << out;
  std::set<std::string> ids;
  EXPECT_EQ(CountRows(wh, "bronze.raw_events", &ids), expected);
  EXPECT_EQ(ids, ref_ids);
  EXPECT_EQ(CountRows(wh, "silver.cleaned_events"), expected);
}

TEST(EndToEndTest, SigtermCommitsAndExitsZero) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(Bin().c_str(), "wikistream", "run", "--source", "synthetic", "--speed", "50", "--http", "off",
          "--warehouse", wh.c_str(), "--commit-interval", "60", "--log-level", "error", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The commit interval was 60 s: every row here was committed by the shutdown path.
  EXPECT_GT(CountRows(wh, "bronze.raw_events"), 0);
}

TEST(EndToEndTest, UserMistakesAreOneLineErrors) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " run --once --source replay:/nonexistent/file.ndjson --warehouse " + dir.str() +
                           "/wh 2>&1",
                       &out),
            2);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("nonexistent"), std::string::npos);
  // A usage error creates nothing.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "wh"));
  out.clear();
  EXPECT_NE(RunCommand(Bin() + " run --once --source bogus --warehouse " + dir.str() + "/wh 2>&1", &out), 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  out.clear();
  EXPECT_NE(RunCommand(Bin() + " tables --warehouse " + dir.str() + "/missing 2>&1", &out), 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
}  // namespace ws::app
