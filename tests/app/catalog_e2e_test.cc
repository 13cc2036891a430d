// End-to-end with a PostgreSQL catalog: the binary, a PostgreSQL server the
// test starts, and the same replay as a local run, read back by independent
// readers (DuckDB via the manifests, psql for the catalog).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing/postgres_server.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using ws::testing::PostgresServer;
using ws::testing::RunCommand;
using ws::testing::SharedDataDir;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

nlohmann::json ReadTable(const std::string& warehouse, const std::string& table, const std::string& order) {
  std::string out;
  int rc = testing::ReadTableWithDuckDb(warehouse, table, order, &out);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return nlohmann::json::object({{"rows", nlohmann::json::array()}});
  return nlohmann::json::parse(out);
}

TEST(PostgresCatalogEndToEndTest, RunOnceWithAPostgresCatalogGivesTheLocalTables) {
  if (!PostgresServer::Available()) {
    GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
  }
  PostgresServer pg;
  std::string err;
  ASSERT_TRUE(pg.Start(&err)) << err;
  const std::string uri = pg.NewDatabase("lake");
  TempDir dir;
  const std::string local = dir.str() + "/local";
  const std::string remote = dir.str() + "/pg";
  const std::string file = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level warn --source replay:" + file + " --warehouse " + local +
                           " 2>&1",
                       &out),
            0)
      << out;
  out.clear();
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level warn --source replay:" + file + " --warehouse " + remote +
                           " --catalog " + uri + " 2>&1",
                       &out),
            0)
      << out;
  EXPECT_FALSE(std::filesystem::exists(remote + "/catalog.db"));

  // Every table holds what the local run made of the same input.
  for (const auto& [table, order] : std::vector<std::pair<std::string, std::string>>{
           {"bronze.raw_events", "event_id"},
           {"silver.cleaned_events", "event_id"},
           {"gold.hourly_stats", "stat_date, stat_hour, domain"},
           {"gold.risk_scores", "stat_date, entity_id"},
       }) {
    auto a = ReadTable(local, table, order);
    auto b = ReadTable(remote, table, order);
    ASSERT_GT(a["rows"].size(), 0u) << table;
    ASSERT_EQ(a["rows"].size(), b["rows"].size()) << table;
    if (table == "bronze.raw_events" || table == "gold.hourly_stats") {
      for (size_t i = 0; i < a["rows"].size(); ++i) {
        auto ra = a["rows"][i], rb = b["rows"][i];
        for (const char* volatile_col : {"ingested_at", "bronze_processed_at", "gold_processed_at"}) {
          ra.erase(volatile_col);
          rb.erase(volatile_col);
        }
        ASSERT_EQ(ra, rb) << table << " row " << i;
      }
    }
  }

  // The catalog rows, as psql sees them: every table, pointing at file:// URIs.
  out.clear();
  ASSERT_EQ(pg.Psql("SELECT count(*), count(*) FILTER (WHERE metadata_location LIKE 'file:///%') "
                    "FROM iceberg_tables WHERE catalog_name = 'wikistream'",
                    &out, "lake"),
            0)
      << out;
  const auto bar = out.find('|');
  ASSERT_NE(bar, std::string::npos) << out;
  EXPECT_GT(std::stoi(out.substr(0, bar)), 10) << out;
  EXPECT_EQ(out.substr(0, bar), out.substr(bar + 1, out.find('\n') - bar - 1)) << out;

  // Other commands take the catalog from the flag or from WIKISTREAM_CATALOG.
  out.clear();
  ASSERT_EQ(RunCommand(Bin() + " tables --warehouse " + remote + " --catalog " + uri + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("gold.hourly_stats"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(RunCommand("WIKISTREAM_CATALOG=" + uri + " " + Bin() + " batch --warehouse " + remote + " 2>&1", &out), 0)
      << out;
  EXPECT_NE(out.find("SKIPPED"), std::string::npos) << out;
  // Without it, the same directory is no warehouse (its catalog is elsewhere).
  out.clear();
  EXPECT_NE(RunCommand(Bin() + " tables --warehouse " + remote + " 2>&1", &out), 0) << out;

  // An unknown scheme is one line and a non-zero exit, before anything is written.
  out.clear();
  EXPECT_NE(RunCommand(Bin() + " run --once --source replay:" + file + " --warehouse " + dir.str() +
                           "/other --catalog mysql://u@h/db 2>&1",
                       &out),
            0);
  EXPECT_NE(out.find("unknown catalog URI scheme 'mysql'"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.str() + "/other/bronze"));
}

}  // namespace
}  // namespace ws::app
