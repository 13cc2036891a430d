// End-to-end on the scaled-out stores: the warehouse in an S3-compatible
// bucket (s3rver on loopback) and the catalog in PostgreSQL (a server the
// test starts). The same replay run locally gives the same tables; an outside
// S3 client (awscli) sees the data files and psql sees s3:// locations.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
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
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

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

  // An outside S3 client sees bronze's Parquet files.
  std::string aws = ::access("/usr/bin/aws", X_OK) == 0 ? "/usr/bin/aws" : "";
  if (aws.empty() && RunCommand("command -v aws", &aws) == 0) aws = aws.substr(0, aws.find('\n'));
  if (!aws.empty()) {
    out.clear();
    ASSERT_EQ(RunCommand(env + "AWS_EC2_METADATA_DISABLED=true AWS_PAGER= " + aws + " --endpoint-url " + s3.endpoint() +
                             " s3 ls --recursive s3://" + s3.bucket() + "/wh/bronze/ 2>&1",
                         &out),
              0)
        << out;
    EXPECT_NE(out.find(".parquet"), std::string::npos) << out;
  }

  // A bucket warehouse without a shared catalog is a one-line usage mistake.
  out.clear();
  EXPECT_NE(RunCommand(env + Bin() + " tables --warehouse " + remote + " 2>&1", &out), 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
}  // namespace ws::app
