// End-to-end on the scaled-out stores: the warehouse in an S3-compatible
// bucket (s3rver on loopback) and the catalog in PostgreSQL (a server the
// test starts). The same replay run locally gives the same tables; an outside
// reader (psql, awscli, avsc, DuckDB) walks catalog -> metadata -> manifests ->
// data through s3:// URIs alone; bad stores and credentials fail in one line.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "testing/postgres_server.h"
#include "testing/s3_server.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using ws::testing::PostgresServer;
using ws::testing::RunCommand;
using ws::testing::S3Server;
using ws::testing::SharedDataDir;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

// awscli's path ("" if it is not installed).
std::string Aws() {
  std::string aws = ::access("/usr/bin/aws", X_OK) == 0 ? "/usr/bin/aws" : "";
  if (aws.empty() && RunCommand("command -v aws", &aws) == 0) aws = aws.substr(0, aws.find('\n'));
  return aws;
}

// `wikistream tables` as {table: rows}.
std::map<std::string, long> RowCounts(const std::string& prefix, const std::string& args) {
  std::string out;
  EXPECT_EQ(RunCommand(prefix + Bin() + " tables " + args + " 2>&1", &out), 0) << out;
  std::map<std::string, long> rows;
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string table;
    long count = -1;
    if (fields >> table >> count) rows[table] = count;
  }
  return rows;
}

TEST(ObjectStoreEndToEndTest, RunOnceOnS3WithAPostgresCatalogGivesTheLocalTables) {
  if (!PostgresServer::Available()) {
    GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
  }
  S3Server s3;
  ASSERT_TRUE(s3.ok()) << s3.error();
  PostgresServer pg;
  std::string err;
  ASSERT_TRUE(pg.Start(&err)) << err;
  const std::string catalog = pg.NewDatabase("lake");
  const std::string env = "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "
                          "AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3=" +
                          s3.endpoint() + " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null ";
  const std::string remote = "s3://" + s3.bucket() + "/wh";
  TempDir dir;
  const std::string local = dir.str() + "/local";
  const std::string file = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();

  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level warn --source replay:" + file + " --warehouse " + local + " 2>&1",
                       &out),
            0)
      << out;
  out.clear();
  ASSERT_EQ(RunCommand(env + Bin() + " run --once --log-level warn --source replay:" + file + " --warehouse " + remote +
                           " --catalog " + catalog + " 2>&1",
                       &out),
            0)
      << out;

  // Every table holds as many rows as the local run's.
  const auto expected = RowCounts("", "--warehouse " + local);
  const auto actual = RowCounts(env, "--warehouse " + remote + " --catalog " + catalog);
  ASSERT_GT(expected.size(), 10u);
  EXPECT_GT(expected.at("bronze.raw_events"), 0);
  EXPECT_EQ(actual, expected);

  // A second cycle over the bucket (a `batch` on another machine would do the
  // same) finds nothing new and succeeds.
  out.clear();
  EXPECT_EQ(RunCommand(env + Bin() + " batch --warehouse " + remote + " --catalog " + catalog + " 2>&1", &out), 0)
      << out;

  // psql: every table's metadata lives in the bucket.
  out.clear();
  ASSERT_EQ(pg.Psql("SELECT count(*) FILTER (WHERE metadata_location LIKE '" + remote + "/%'), count(*) "
                    "FROM iceberg_tables WHERE catalog_name = 'wikistream'",
                    &out, "lake"),
            0)
      << out;
  const std::string first_line = out.substr(0, out.find('\n'));
  EXPECT_EQ(first_line, fmt::format("{}|{}", expected.size(), expected.size())) << out;

  // An outside reader walks catalog -> metadata -> manifests -> data through
  // s3:// URIs alone: psql gives each table's metadata_location, `aws s3 sync`
  // copies the bucket's prefix, and iceberg_check.mjs reads the metadata JSON,
  // the manifest lists and manifests (avsc) and the live Parquet files (DuckDB),
  // mapping every s3://BUCKET/wh URI onto the copy. Nothing else is shared.
  const std::string aws = Aws();
  ASSERT_FALSE(aws.empty()) << "awscli is not installed (Debian's awscli; scripts/setup installs it)";
  const std::string aws_cmd = env + "AWS_EC2_METADATA_DISABLED=true AWS_PAGER= " + aws + " --endpoint-url " +
                              s3.endpoint() + " s3 ";
  out.clear();
  ASSERT_EQ(RunCommand(aws_cmd + "ls --recursive s3://" + s3.bucket() + "/wh/bronze/ 2>&1", &out), 0) << out;
  EXPECT_NE(out.find(".parquet"), std::string::npos) << out;
  const std::string copy = dir.str() + "/synced";
  out.clear();
  ASSERT_EQ(RunCommand(aws_cmd + "sync --only-show-errors " + remote + " " + copy + " 2>&1", &out), 0) << out;
  for (const std::string table : {"bronze.raw_events", "gold.hourly_stats"}) {
    SCOPED_TRACE(table);
    const auto dot = table.find('.');
    out.clear();
    ASSERT_EQ(pg.Psql("SELECT metadata_location FROM iceberg_tables WHERE catalog_name = 'wikistream' AND "
                      "table_namespace = '" + table.substr(0, dot) + "' AND table_name = '" + table.substr(dot + 1) + "'",
                      &out, "lake"),
              0)
        << out;
    const std::string metadata = out.substr(0, out.find('\n'));
    ASSERT_EQ(metadata.rfind(remote + "/", 0), 0u) << out;
    out.clear();
    ASSERT_EQ(RunCommand("node " + (SourceDir() / "tests/interop/iceberg_check.mjs").string() + " " + metadata +
                             " duckdb --map " + remote + "=" + copy + " 2>&1",
                         &out),
              0)
        << out;
    const auto walk = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(walk.is_discarded()) << out;
    EXPECT_GT(walk["locations"].size(), 3u) << out;  // metadata, a manifest list, a manifest, a data file
    for (const auto& location : walk["locations"]) {
      EXPECT_EQ(location.get<std::string>().rfind(remote + "/", 0), 0u) << location;
    }
    EXPECT_EQ(walk["current_records"].get<long>(), expected.at(table)) << out;
    EXPECT_EQ(walk["duckdb_rows"].get<long>(), expected.at(table)) << out;
  }

  // A bucket warehouse without a shared catalog is a one-line usage mistake.
  out.clear();
  EXPECT_NE(RunCommand(env + Bin() + " tables --warehouse " + remote + " 2>&1", &out), 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// A store or catalog that cannot be used is one line on stderr and exit 1,
// within seconds (an unreachable endpoint costs the S3 client's bounded
// retries), and nothing reaches the catalog or the bucket.
TEST(ObjectStoreEndToEndTest, BadStoresCredentialsAndCatalogRightsFailInOneLineAndCommitNothing) {
  if (!PostgresServer::Available()) {
    GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
  }
  S3Server s3;
  ASSERT_TRUE(s3.ok()) << s3.error();
  PostgresServer pg;
  std::string err;
  ASSERT_TRUE(pg.Start(&err)) << err;
  const std::string catalog = pg.NewDatabase("lake");
  const std::string file = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();
  const std::string base = "AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
                           "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true ";
  const std::string good = base + "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=" +
                           s3.endpoint() + " ";
  const std::string remote = "s3://" + s3.bucket() + "/wh";
  auto fails = [&](const std::string& env, const std::string& warehouse, const std::string& catalog_uri,
                   const std::string& expect) {
    SCOPED_TRACE(expect);
    std::string stderr_text;
    const auto start = std::chrono::steady_clock::now();
    // stderr only (RunCommand adds 2>&1 after the group); `timeout` turns a hang into exit 124.
    const int rc = RunCommand("{ " + env + "timeout 30 " + Bin() + " run --once --source replay:" + file +
                                  " --warehouse " + warehouse + " --catalog " + catalog_uri + " 2>&1 >/dev/null; }",
                              &stderr_text);
    EXPECT_EQ(rc, 1) << stderr_text;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_EQ(std::count(stderr_text.begin(), stderr_text.end(), '\n'), 1) << stderr_text;
    EXPECT_NE(stderr_text.find(expect), std::string::npos) << stderr_text;
  };
  fails(good, "s3://no-such-bucket/wh", catalog, "bucket 'no-such-bucket' does not exist");
  fails(base + "AWS_ACCESS_KEY_ID=WRONG AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=" + s3.endpoint() + " ", remote,
        catalog, "access denied (InvalidAccessKeyId)");
  fails(base + "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=http://127.0.0.1:" +
            std::to_string(PostgresServer::FreePort()) + " ",
        remote, catalog, "Couldn't connect to server");
  // A role that may log in but not touch the catalog tables (which exist now:
  // the owner's runs above created them).
  std::string out;
  ASSERT_EQ(pg.Psql("CREATE ROLE reader LOGIN", &out, "lake"), 0) << out;
  fails(good, remote, "postgresql://reader@127.0.0.1:" + std::to_string(pg.port()) + "/lake",
        "permission denied for table iceberg_tables");

  // Nothing committed, nothing uploaded.
  out.clear();
  ASSERT_EQ(pg.Psql("SELECT count(*) FROM iceberg_tables", &out, "lake"), 0) << out;
  EXPECT_EQ(out, "0\n");
  const std::string aws = Aws();
  ASSERT_FALSE(aws.empty()) << "awscli is not installed (Debian's awscli; scripts/setup installs it)";
  out.clear();
  RunCommand(good + "AWS_PAGER= " + aws + " --endpoint-url " + s3.endpoint() + " s3 ls --recursive s3://" +
                 s3.bucket() + "/ 2>&1",
             &out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace ws::app
