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
#include <memory>
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

// What both tests stand on: an S3 server, a PostgreSQL server with a
// `lake` catalog database, and the environment the binary and awscli read
// the store from (the credentials s3rver takes, its endpoint, no outside
// AWS configuration).
class ObjectStoreEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer::Available()) {
      GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
    }
    s3_ = std::make_unique<S3Server>();
    ASSERT_TRUE(s3_->ok()) << s3_->error();
    std::string err;
    ASSERT_TRUE(pg_.Start(&err)) << err;
    catalog_ = pg_.NewDatabase("lake");
    env_ = kBaseEnv + "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=" + s3_->endpoint() + " ";
    remote_ = "s3://" + s3_->bucket() + "/wh";
  }

  // Region and no configuration from outside the test; no credentials.
  const std::string kBaseEnv = "AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
                               "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true ";
  const std::string file_ = (SharedDataDir() / "ndjson/yearfunla-2024-08-22.ndjson").string();
  std::unique_ptr<S3Server> s3_;
  PostgresServer pg_;
  std::string catalog_;  // the `lake` database's URI
  std::string env_;      // kBaseEnv, s3rver's credentials and endpoint
  std::string remote_;   // s3://BUCKET/wh
};

TEST_F(ObjectStoreEndToEndTest, RunOnceOnS3WithAPostgresCatalogGivesTheLocalTables) {
  TempDir dir;
  const std::string local = dir.str() + "/local";

  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level warn --source replay:" + file_ + " --warehouse " + local + " 2>&1",
                       &out),
            0)
      << out;
  out.clear();
  ASSERT_EQ(RunCommand(env_ + Bin() + " run --once --log-level warn --source replay:" + file_ + " --warehouse " + remote_ +
                           " --catalog " + catalog_ + " 2>&1",
                       &out),
            0)
      << out;

  // Every table holds as many rows as the local run's.
  const auto expected = RowCounts("", "--warehouse " + local);
  const auto actual = RowCounts(env_, "--warehouse " + remote_ + " --catalog " + catalog_);
  ASSERT_GT(expected.size(), 10u);
  EXPECT_GT(expected.at("bronze.raw_events"), 0);
  EXPECT_EQ(actual, expected);

  // A second cycle over the bucket (a `batch` on another machine would do the
  // same) finds nothing new and succeeds.
  out.clear();
  EXPECT_EQ(RunCommand(env_ + Bin() + " batch --warehouse " + remote_ + " --catalog " + catalog_ + " 2>&1", &out), 0)
      << out;

  // psql: every table's metadata lives in the bucket.
  out.clear();
  ASSERT_EQ(pg_.Psql("SELECT count(*) FILTER (WHERE metadata_location LIKE '" + remote_ + "/%'), count(*) "
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
  const std::string aws_cmd = env_ + "AWS_PAGER= " + aws + " --endpoint-url " +
                              s3_->endpoint() + " s3 ";
  out.clear();
  ASSERT_EQ(RunCommand(aws_cmd + "ls --recursive s3://" + s3_->bucket() + "/wh/bronze/ 2>&1", &out), 0) << out;
  EXPECT_NE(out.find(".parquet"), std::string::npos) << out;
  const std::string copy = dir.str() + "/synced";
  out.clear();
  ASSERT_EQ(RunCommand(aws_cmd + "sync --only-show-errors " + remote_ + " " + copy + " 2>&1", &out), 0) << out;
  for (const std::string table : {"bronze.raw_events", "gold.hourly_stats"}) {
    SCOPED_TRACE(table);
    const auto dot = table.find('.');
    out.clear();
    ASSERT_EQ(pg_.Psql("SELECT metadata_location FROM iceberg_tables WHERE catalog_name = 'wikistream' AND "
                      "table_namespace = '" + table.substr(0, dot) + "' AND table_name = '" + table.substr(dot + 1) + "'",
                      &out, "lake"),
              0)
        << out;
    const std::string metadata = out.substr(0, out.find('\n'));
    ASSERT_EQ(metadata.rfind(remote_ + "/", 0), 0u) << out;
    out.clear();
    ASSERT_EQ(RunCommand("node " + (SourceDir() / "tests/interop/iceberg_check.mjs").string() + " " + metadata +
                             " duckdb --map " + remote_ + "=" + copy + " 2>&1",
                         &out),
              0)
        << out;
    const auto walk = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(walk.is_discarded()) << out;
    EXPECT_GT(walk["locations"].size(), 3u) << out;  // metadata, a manifest list, a manifest, a data file
    for (const auto& location : walk["locations"]) {
      EXPECT_EQ(location.get<std::string>().rfind(remote_ + "/", 0), 0u) << location;
    }
    EXPECT_EQ(walk["current_records"].get<long>(), expected.at(table)) << out;
    EXPECT_EQ(walk["duckdb_rows"].get<long>(), expected.at(table)) << out;
  }

  // A bucket warehouse without a shared catalog is a one-line usage mistake.
  out.clear();
  EXPECT_NE(RunCommand(env_ + Bin() + " tables --warehouse " + remote_ + " 2>&1", &out), 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// A store or catalog that cannot be used is one line on stderr and exit 1,
// within seconds (an unreachable endpoint costs the S3 client's bounded
// retries), and nothing reaches the catalog or the bucket.
TEST_F(ObjectStoreEndToEndTest, BadStoresCredentialsAndCatalogRightsFailInOneLineAndCommitNothing) {
  auto fails = [&](const std::string& env, const std::string& warehouse, const std::string& catalog_uri,
                   const std::string& expect) {
    SCOPED_TRACE(expect);
    std::string stderr_text;
    const auto start = std::chrono::steady_clock::now();
    // stderr only (RunCommand adds 2>&1 after the group); `timeout` turns a hang into exit 124.
    const int rc = RunCommand("{ " + env + "timeout 30 " + Bin() + " run --once --source replay:" + file_ +
                                  " --warehouse " + warehouse + " --catalog " + catalog_uri + " 2>&1 >/dev/null; }",
                              &stderr_text);
    EXPECT_EQ(rc, 1) << stderr_text;
    // A bound that tells a bounded failure from a retry loop, with room for
    // a loaded CI machine (10 s was exceeded under the full parallel suite).
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
    EXPECT_EQ(std::count(stderr_text.begin(), stderr_text.end(), '\n'), 1) << stderr_text;
    EXPECT_NE(stderr_text.find(expect), std::string::npos) << stderr_text;
  };
  fails(env_, "s3://no-such-bucket/wh", catalog_, "bucket 'no-such-bucket' does not exist");
  fails(kBaseEnv + "AWS_ACCESS_KEY_ID=WRONG AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=" + s3_->endpoint() + " ", remote_,
        catalog_, "access denied (InvalidAccessKeyId)");
  fails(kBaseEnv + "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=http://127.0.0.1:" +
            std::to_string(PostgresServer::FreePort()) + " ",
        remote_, catalog_, "Couldn't connect to server");
  // A role that may log in but not touch the catalog tables (which exist now:
  // the owner's runs above created them).
  std::string out;
  ASSERT_EQ(pg_.Psql("CREATE ROLE reader LOGIN", &out, "lake"), 0) << out;
  fails(env_, remote_, "postgresql://reader@127.0.0.1:" + std::to_string(pg_.port()) + "/lake",
        "permission denied for table iceberg_tables");

  // Nothing committed, nothing uploaded.
  out.clear();
  ASSERT_EQ(pg_.Psql("SELECT count(*) FROM iceberg_tables", &out, "lake"), 0) << out;
  EXPECT_EQ(out, "0\n");
  const std::string aws = Aws();
  ASSERT_FALSE(aws.empty()) << "awscli is not installed (Debian's awscli; scripts/setup installs it)";
  out.clear();
  RunCommand(env_ + "AWS_PAGER= " + aws + " --endpoint-url " + s3_->endpoint() + " s3 ls --recursive s3://" +
                 s3_->bucket() + "/ 2>&1",
             &out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace ws::app
