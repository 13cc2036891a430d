// The scaled-out mode on real parts, all on 127.0.0.1 (issue #16): the
// warehouse in an S3 bucket (s3rver) reached through a fault-injecting
// proxy, the catalog in PostgreSQL, and Kafka (librdkafka's mock cluster,
// hosted by this test process). The real binary plays every role: `produce`
// replays a recorded capture into the topic, two `bronze` consumers of one
// group land it (one is SIGKILLed mid-stream and restarted), `batch --every 1`
// runs alongside and `serve` answers from the bucket, following bronze for its live
// view. Meanwhile the proxy drops, resets, truncates, answers 503/500 and
// loses answers, and PostgreSQL is restarted. Afterwards every pipeline
// table equals what one machine's `run --once` makes of the same capture.
// A second test kills `run` on the bucket four times at random moments.
// Label `scaleout` (ctest -L scaleout); the tests run serially.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "testing/bronze_log.h"
#include "testing/child_processes.h"
#include "testing/fault_proxy.h"
#include "testing/kafka_mock_cluster.h"
#include "testing/postgres_server.h"
#include "testing/probe_client.h"
#include "testing/s3_server.h"
#include "testing/table_rows.h"
#include "testing/test_util.h"
#include "wikistream/runtime/config.h"

namespace ws::app {
namespace {

using namespace std::chrono_literals;
using ws::testing::Children;
using ws::testing::CommittedRowsInLog;
using ws::testing::FaultProxy;
using ws::testing::Get;
using ws::testing::HoldsPartitions;
using ws::testing::MockKafkaCluster;
using ws::testing::PipelineTables;
using ws::testing::PostgresServer;
using ws::testing::ReadLog;
using ws::testing::RunCommand;
using ws::testing::S3Server;
using ws::testing::Scrape;
using ws::testing::SharedDataDir;
using ws::testing::SortedTableRows;
using ws::testing::TempDir;
using ws::testing::WaitFor;
using ws::testing::WaitForProbeUrl;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

// Progress with the seconds since the first mark (the test's time budget is ~40 s).
void Mark(const char* what) {
  static const auto start = std::chrono::steady_clock::now();
  std::printf("[%6.2f s] %s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), what);
  std::fflush(stdout);
}

// 1950 events (783 in the default domains) over 66 s of meta.dt.
const char* kCapture = "sse/kirajano-2021-08-27.sse";

// One s3rver, its proxy, one PostgreSQL and the single-machine reference
// for every test of the suite (starting them is a third of a test's time).
class ScaleOutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::Available()) return;
    Mark("suite set-up");
    s3_ = new S3Server();
    proxy_ = new FaultProxy(s3_->port());
    pg_ = new PostgresServer();
    dir_ = new TempDir();
    std::string err;
    pg_ok_ = pg_->Start(&err);
    pg_error_ = err;
    // Every child inherits the store's address (the proxy) and keys.
    setenv("AWS_ACCESS_KEY_ID", S3Server::kAccessKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL_S3", proxy_->endpoint().c_str(), 1);
    std::string out;
    ref_ok_ = RunCommand(Bin() + " run --once --log-level warn --source replay:" +
                             (SharedDataDir() / kCapture).string() + " --warehouse " + dir_->str() + "/ref",
                         &out) == 0;
    ref_error_ = out;
    Mark("S3, PostgreSQL and the reference run ready");
  }
  static void TearDownTestSuite() {
    delete proxy_;
    delete s3_;
    delete pg_;
    delete dir_;
  }

  void SetUp() override {
    if (!PostgresServer::Available()) {
      GTEST_SKIP() << "PostgreSQL binaries are not installed (Debian's postgresql; scripts/setup installs it)";
    }
    ASSERT_TRUE(s3_->ok()) << s3_->error();
    ASSERT_TRUE(pg_ok_) << pg_error_;
    ASSERT_TRUE(ref_ok_) << ref_error_;
    proxy_->Clear();
  }

  static runtime::Config ConfigOf(const std::string& warehouse, const std::string& catalog) {
    runtime::Config c;
    c.warehouse = warehouse;
    c.catalog = catalog;
    return c;
  }

  // Every pipeline table of `warehouse` (+ `catalog`) equals the reference's
  // (bronze's `source` column names the source kind, which differs by design).
  static void ExpectReferenceTables(const std::string& warehouse, const std::string& catalog) {
    auto ref = runtime::OpenWarehouse(ConfigOf(dir_->str() + "/ref", ""), false);
    auto got = runtime::OpenWarehouse(ConfigOf(warehouse, catalog), false);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const std::string& table : PipelineTables()) {
      int64_t n = 0;
      auto expected = SortedTableRows(ref->get(), table, {"source"}, &n);
      auto actual = SortedTableRows(got->get(), table, {"source"});
      if (table != "bronze.dlq_events") {
        EXPECT_GT(n, 0) << table;
      }
      ASSERT_EQ(actual.size(), expected.size()) << table;
      EXPECT_TRUE(actual == expected) << table << " differs from the single-machine run";
    }
  }

  static int64_t BronzeRows(const std::string& warehouse, const std::string& catalog) {
    auto wh = runtime::OpenWarehouse(ConfigOf(warehouse, catalog), false);
    if (!wh.ok()) return -1;
    auto t = (*wh)->table("bronze.raw_events");
    if (!t.ok() || !(*t)->Refresh().ok()) return -1;
    auto snap = (*t)->current_snapshot();
    if (!snap) return 0;
    auto it = snap->summary.find("total-records");
    return it == snap->summary.end() ? -1 : std::stoll(it->second);
  }

  static S3Server* s3_;
  static FaultProxy* proxy_;
  static PostgresServer* pg_;
  static TempDir* dir_;
  static bool pg_ok_, ref_ok_;
  static std::string pg_error_, ref_error_;
};

S3Server* ScaleOutTest::s3_ = nullptr;
FaultProxy* ScaleOutTest::proxy_ = nullptr;
PostgresServer* ScaleOutTest::pg_ = nullptr;
TempDir* ScaleOutTest::dir_ = nullptr;
bool ScaleOutTest::pg_ok_ = false;
bool ScaleOutTest::ref_ok_ = false;
std::string ScaleOutTest::pg_error_, ScaleOutTest::ref_error_;

TEST_F(ScaleOutTest, TwoBronzeConsumersOnS3AndPostgresUnderFaultsGiveTheSingleMachineTables) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.brokers().empty());
  const std::string brokers = cluster.brokers();
  const std::string catalog = pg_->NewDatabase("scaleout");
  const std::string wh = "s3://" + s3_->bucket() + "/scaleout";
  TempDir logs;
  const std::string dir = logs.str();
  int64_t expected_rows = 0;
  {
    auto ref = runtime::OpenWarehouse(ConfigOf(dir_->str() + "/ref", ""), false);
    ASSERT_TRUE(ref.ok());
    SortedTableRows(ref->get(), "bronze.raw_events", {}, &expected_rows);
    ASSERT_EQ(expected_rows, 783);  // data README
  }

  Mark("test start");
  Children children;
  auto bronze = [&](const std::string& log) {
    return children.Start({"bronze", "--source", "kafka://" + brokers, "--warehouse", wh, "--catalog", catalog,
                           "--kafka-group", "g", "--commit-interval", "0.3", "--kafka-property",
                           "session.timeout.ms=3000", "--kafka-property", "heartbeat.interval.ms=300",
                           "--kafka-property", "log_level=3", "--log-level", "debug", "--http", "127.0.0.1:0"},
                          log);
  };
  const std::string log1 = dir + "/bronze-1.log", log2 = dir + "/bronze-2.log", log1b = dir + "/bronze-1b.log";
  pid_t c1 = bronze(log1);
  pid_t c2 = bronze(log2);
  ASSERT_TRUE(WaitFor([&] { return HoldsPartitions(log1) && HoldsPartitions(log2); }, 30s))
      << ReadLog(log1) << ReadLog(log2);

  Mark("consumers hold partitions");
  // serve on the bucket (its tables exist now), and a batch loop.
  const std::string serve_log = dir + "/serve.log";
  pid_t serve = children.Start({"serve", "--warehouse", wh, "--catalog", catalog, "--http", "127.0.0.1:0",
                                "--log-level", "info"},
                               serve_log);
  std::smatch port;
  const std::regex serving("serving on http://127\\.0\\.0\\.1:([0-9]+)");
  std::string serve_text;
  ASSERT_TRUE(WaitFor([&] {
    serve_text = ReadLog(serve_log);
    return std::regex_search(serve_text, port, serving);
  }, 20s)) << serve_text;
  httplib::Client http("127.0.0.1", std::stoi(port[1].str()));
  http.set_read_timeout(30, 0);
  const std::string batch_log = dir + "/batch.log";
  pid_t batch = children.Start({"batch", "--every", "1", "--warehouse", wh, "--catalog", catalog, "--http",
                                "127.0.0.1:0", "--log-level", "info"},
                               batch_log);
  const std::string batch_url = WaitForProbeUrl(batch_log, 20s);
  ASSERT_FALSE(batch_url.empty()) << ReadLog(batch_log);
  EXPECT_TRUE(WaitFor([&] { return Get(batch_url, "/readyz").status == 200; }, 20s))
      << Get(batch_url, "/readyz").body << ReadLog(batch_log);
  const std::string cycles_ok = R"(wikistream_batch_cycles_total{result="ok"})";

  // The capture at 10x its pace: ~7 s of records. The store misbehaves from
  // the first record on (each rule takes the next matching requests of any
  // process: the consumers' commits, batch cycles, serve's reads).
  proxy_->Inject(FaultProxy::Fault::kSlowDown, 3, "PUT");
  proxy_->Inject(FaultProxy::Fault::kLoseAnswer, 2, "PUT");
  proxy_->Inject(FaultProxy::Fault::kTruncateBody, 2, "GET");
  proxy_->Inject(FaultProxy::Fault::kDrop, 2, "GET");
  proxy_->Inject(FaultProxy::Fault::kReset, 1, "HEAD");
  proxy_->Inject(FaultProxy::Fault::kInternalError, 2);
  pid_t producer = children.Start({"produce", "--kafka", brokers, "--source",
                                   "replay:" + (SharedDataDir() / kCapture).string(), "--speed", "10", "--once",
                                   "--position-file", dir + "/produce.position", "--kafka-property", "log_level=3",
                                   "--log-level", "warn", "--http", "127.0.0.1:0"},
                                  dir + "/produce.log");

  // kill -9 consumer 1 once it has committed, restart it at once; then
  // restart PostgreSQL under everyone (an immediate stop: sessions are cut).
  ASSERT_TRUE(WaitFor([&] { return CommittedRowsInLog(log1) > 0; }, 20s, 50ms)) << ReadLog(log1);
  EXPECT_TRUE(children.Kill(c1)) << "consumer 1 ended by itself: " << ReadLog(log1);
  Mark("consumer 1 killed");
  const int64_t rows_at_kill = BronzeRows(wh, catalog);
  EXPECT_LT(rows_at_kill, expected_rows) << "the kill should land while the capture is still arriving";
  proxy_->Inject(FaultProxy::Fault::kSlowDown, 2, "GET");
  proxy_->Inject(FaultProxy::Fault::kLoseAnswer, 1, "PUT");
  std::string err;
  ASSERT_TRUE(pg_->Restart(&err)) << err;
  Mark("PostgreSQL restarted");
  // (Restarted after PostgreSQL is back: a process whose first catalog
  // connection fails exits 1 at once, for its supervisor to start again.)
  pid_t c1b = bronze(log1b);

  EXPECT_EQ(children.Wait(producer, 40s), 0) << ReadLog(dir + "/produce.log");
  EXPECT_TRUE(WaitFor([&] { return BronzeRows(wh, catalog) >= expected_rows; }, 30s))
      << "bronze rows: " << BronzeRows(wh, catalog) << "\n" << ReadLog(log2) << ReadLog(log1b);

  Mark("bronze complete");
  // serve's live view followed the consumers' commits: its day is the
  // capture's, with every event of it.
  nlohmann::json live;
  EXPECT_TRUE(WaitFor([&] {
    auto res = http.Get("/api/live/snapshot");
    if (!res || res->status != 200) return false;
    live = nlohmann::json::parse(res->body, nullptr, false);
    return !live.is_discarded() && live["today"]["total_events"] == expected_rows;
  }, 10s)) << live.dump().substr(0, 2000) << ReadLog(serve_log);
  EXPECT_EQ(live["today"]["date"], "2021-08-27") << live["today"].dump();

  Mark("live view complete");
  int rc = 0;
  EXPECT_FALSE(children.Exited(c2, &rc)) << "consumer 2 exited (" << rc << "): " << ReadLog(log2);
  EXPECT_TRUE(HoldsPartitions(log1b)) << "the restarted consumer rejoined the group: " << ReadLog(log1b);
  EXPECT_EQ(children.Stop(c1b, 20s), 0) << ReadLog(log1b);
  EXPECT_EQ(children.Stop(c2, 20s), 0) << ReadLog(log2);
  const double ok_while_ingesting = Scrape(batch_url, cycles_ok);
  EXPECT_GT(ok_while_ingesting, 0) << "no batch cycle succeeded alongside ingest: " << ReadLog(batch_log);
  EXPECT_GT(proxy_->faults(), 10) << "the injected faults were not all hit";

  Mark("consumers stopped");
  // The batch loop's next full cycle sees all of bronze: then SIGTERM ends it
  // cleanly, and a one-shot `batch` finds nothing left to do.
  proxy_->Clear();
  EXPECT_TRUE(WaitFor([&] { return Scrape(batch_url, cycles_ok) >= ok_while_ingesting + 2; }, 30s))
      << Get(batch_url, "/metrics").body << ReadLog(batch_log);
  EXPECT_EQ(Get(batch_url, "/healthz").status, 200);
  EXPECT_EQ(Get(batch_url, "/readyz").status, 200) << Get(batch_url, "/readyz").body;
  EXPECT_EQ(children.Stop(batch, 20s), 0) << ReadLog(batch_log);
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " batch --log-level warn --warehouse " + wh + " --catalog " + catalog, &out), 0) << out;
  EXPECT_NE(out.find("silver +0 rows"), std::string::npos) << "the batch loop left work behind: " << out;
  ExpectReferenceTables(wh, catalog);

  Mark("tables compared");
  // serve answers from the bucket: the day's gold summary is the capture's.
  auto summary = http.Get("/api/summary?date=2021-08-27");
  ASSERT_TRUE(summary);
  ASSERT_EQ(summary->status, 200) << summary->body;
  auto doc = nlohmann::json::parse(summary->body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << summary->body;
  EXPECT_EQ(doc["summary"]["total_events"], expected_rows) << summary->body;
  EXPECT_EQ(children.Stop(serve, 20s), 0) << ReadLog(serve_log);
}

TEST_F(ScaleOutTest, KillNineLoopOnTheBucketLosesNothing) {
  const std::string catalog = pg_->NewDatabase("crashloop");
  const std::string wh = "s3://" + s3_->bucket() + "/crashloop";
  TempDir logs;
  Children children;
  // `run` (batch cycles every 0.2 s, commits every 0.2 s) at 16x the
  // capture's pace (~4 s of records), killed at seeded random moments so
  // kills land in bronze commits and in cycles alike; a request now and then
  // answered 503 keeps the S3 client's retries in the picture.
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> delay_ms(600, 2200);
  int killed_running = 0;
  for (int round = 0; round < 4; ++round) {
    proxy_->Inject(FaultProxy::Fault::kSlowDown, 2, "PUT");
    pid_t pid = children.Start({"run", "--source", "replay:" + (SharedDataDir() / kCapture).string(), "--warehouse",
                                wh, "--catalog", catalog, "--batch-interval", "0.2", "--commit-interval", "0.2",
                                "--speed", "16", "--http", "off", "--log-level", "error"},
                               logs.str() + "/run.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (children.Kill(pid)) ++killed_running;
  }
  EXPECT_GE(killed_running, 3) << "the kills should land while the process works: " << ReadLog(logs.str() + "/run.log");
  const int64_t before = BronzeRows(wh, catalog);
  std::printf("after the kills: bronze %lld of 783 rows\n", static_cast<long long>(before));

  proxy_->Clear();
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level warn --source replay:" + (SharedDataDir() / kCapture).string() +
                           " --warehouse " + wh + " --catalog " + catalog,
                       &out),
            0)
      << out;
  ASSERT_EQ(RunCommand(Bin() + " batch --log-level warn --warehouse " + wh + " --catalog " + catalog, &out), 0) << out;
  ExpectReferenceTables(wh, catalog);
}

}  // namespace
}  // namespace ws::app
