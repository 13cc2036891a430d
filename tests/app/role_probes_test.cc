// Every long-running role is observable: `produce`, `bronze` and
// `batch --every` are started for real on 127.0.0.1 (Kafka: librdkafka's mock
// cluster in this process) and their /metrics, /healthz and /readyz are
// fetched over HTTP: the metrics count the work each did, /readyz is 503
// while a role cannot work yet, and malformed payloads travel produce ->
// dlq-events -> bronze.dlq_events.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <sstream>
#include <string>

#include "testing/child_processes.h"
#include "testing/kafka_mock_cluster.h"
#include "testing/postgres_server.h"
#include "testing/probe_client.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using namespace std::chrono_literals;
using ws::testing::Children;
using ws::testing::Get;
using ws::testing::ReadLog;
using ws::testing::Scrape;
using ws::testing::TempDir;
using ws::testing::WaitFor;
using ws::testing::WaitForProbeUrl;
using ws::testing::WriteFile;

std::string Event(const std::string& id, const std::string& dt) {
  return R"({"meta":{"id":")" + id + R"(","domain":"en.wikipedia.org","dt":")" + dt +
         R"("},"type":"edit","namespace":0,"title":"Page )" + id +
         R"(","user":"Alice","bot":false,"length":{"old":10,"new":20}})";
}

const std::vector<std::string> kKafkaQuick = {"--kafka-property", "session.timeout.ms=6000", "--kafka-property",
                                              "heartbeat.interval.ms=500", "--kafka-property", "log_level=3"};

std::vector<std::string> With(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(RoleProbesTest, ProduceBronzeAndTheBatchLoopServeProbesAndCountTheirWork) {
  ws::testing::MockKafkaCluster cluster(2);
  ASSERT_FALSE(cluster.brokers().empty());
  const std::string brokers = cluster.brokers();
  TempDir dir;
  const std::string wh = dir.str() + "/wh";
  // Five good events at once, two malformed payloads, and a last event 3 s
  // later (at --speed 1) that keeps `produce` running while it is scraped.
  std::string replay;
  for (int i = 0; i < 5; ++i) replay += Event("e" + std::to_string(i), "2026-03-01T10:00:00Z") + "\n";
  replay += "{not json\n";
  replay += R"({"meta":{"domain":"en.wikipedia.org"}})" "\n";
  replay += Event("last", "2026-03-01T10:00:03Z") + "\n";
  WriteFile(dir.path() / "events.ndjson", replay);

  Children children;
  const std::string bronze_log = dir.str() + "/bronze.log", produce_log = dir.str() + "/produce.log",
                    batch_log = dir.str() + "/batch.log";
  pid_t bronze = children.Start(With({"bronze", "--source", "kafka://" + brokers, "--warehouse", wh, "--kafka-group",
                                      "g", "--commit-interval", "0.3", "--http", "127.0.0.1:0"},
                                     kKafkaQuick),
                                bronze_log);
  const std::string bronze_url = WaitForProbeUrl(bronze_log, 20s);
  ASSERT_FALSE(bronze_url.empty()) << ReadLog(bronze_log);
  EXPECT_EQ(Get(bronze_url, "/healthz").status, 200);
  ASSERT_TRUE(WaitFor([&] { return Get(bronze_url, "/readyz").status == 200; }, 30s))
      << Get(bronze_url, "/readyz").body << ReadLog(bronze_log);
  EXPECT_EQ(Get(bronze_url, "/api/summary").status, 404) << "a role that is not the dashboard serves no API";

  pid_t produce = children.Start(With({"produce", "--kafka", brokers, "--source", "replay:" + dir.str() + "/events.ndjson",
                                       "--speed", "1", "--position-file", dir.str() + "/produce.position", "--http",
                                       "127.0.0.1:0"},
                                      {"--kafka-property", "log_level=3"}),
                                 produce_log);
  const std::string produce_url = WaitForProbeUrl(produce_log, 20s);
  ASSERT_FALSE(produce_url.empty()) << ReadLog(produce_log);
  ASSERT_TRUE(WaitFor([&] { return Scrape(produce_url, R"(wikistream_produce_records_total{topic="dlq-events"})") == 2; },
                      20s))
      << Get(produce_url, "/metrics").body << ReadLog(produce_log);
  EXPECT_EQ(Scrape(produce_url, R"(wikistream_produce_records_total{topic="raw-events"})"), 5);
  EXPECT_EQ(Scrape(produce_url, R"(wikistream_produce_dlq_total{error_code="invalid_json"})"), 1);
  EXPECT_EQ(Scrape(produce_url, R"(wikistream_produce_dlq_total{error_code="missing_field:meta.id"})"), 1);
  EXPECT_EQ(Get(produce_url, "/healthz").status, 200);
  EXPECT_EQ(Get(produce_url, "/readyz").status, 200) << Get(produce_url, "/readyz").body;
  EXPECT_EQ(children.Wait(produce, 30s), 0) << ReadLog(produce_log);

  // Bronze took the good events from raw-events and the malformed ones from dlq-events.
  ASSERT_TRUE(WaitFor([&] { return Scrape(bronze_url, "wikistream_bronze_rows_total") == 6; }, 30s))
      << Get(bronze_url, "/metrics").body << ReadLog(bronze_log);
  EXPECT_TRUE(WaitFor([&] { return Scrape(bronze_url, R"(wikistream_ingest_events_total{outcome="dlq"})") == 2; }, 10s))
      << Get(bronze_url, "/metrics").body;
  EXPECT_GE(Scrape(bronze_url, "wikistream_bronze_commits_total"), 1);

  pid_t batch = children.Start({"batch", "--warehouse", wh, "--every", "1", "--http", "127.0.0.1:0"}, batch_log);
  const std::string batch_url = WaitForProbeUrl(batch_log, 20s);
  ASSERT_FALSE(batch_url.empty()) << ReadLog(batch_log);
  ASSERT_TRUE(WaitFor([&] { return Scrape(batch_url, "wikistream_batch_silver_rows_total") == 6; }, 30s))
      << Get(batch_url, "/metrics").body << ReadLog(batch_log);
  EXPECT_TRUE(WaitFor([&] { return Scrape(batch_url, R"(wikistream_batch_cycles_total{result="ok"})") >= 2; }, 10s))
      << Get(batch_url, "/metrics").body << ReadLog(batch_log);
  EXPECT_EQ(Get(batch_url, "/healthz").status, 200);
  EXPECT_EQ(Get(batch_url, "/readyz").status, 200) << Get(batch_url, "/readyz").body;

  EXPECT_EQ(children.Stop(batch, 20s), 0) << ReadLog(batch_log);
  EXPECT_EQ(children.Stop(bronze, 20s), 0) << ReadLog(bronze_log);
}

// Before a role can work, /readyz says why with 503 while /healthz is 200:
// here Kafka does not answer, so bronze and produce are still connecting.
TEST(RoleProbesTest, ReadyzIs503WhileARoleCannotWorkYet) {
  const int dead = ws::testing::PostgresServer::FreePort();
  const std::string nobody = "127.0.0.1:" + std::to_string(dead);
  TempDir dir;
  WriteFile(dir.path() / "events.ndjson", Event("e1", "2026-03-01T10:00:00Z") + "\n");
  Children children;
  const std::string bronze_log = dir.str() + "/bronze.log", produce_log = dir.str() + "/produce.log";
  pid_t bronze = children.Start({"bronze", "--source", "kafka://" + nobody, "--warehouse", dir.str() + "/wh", "--http",
                                 "127.0.0.1:0", "--kafka-property", "log_level=0"},
                                bronze_log);
  pid_t produce = children.Start({"produce", "--kafka", nobody, "--source", "replay:" + dir.str() + "/events.ndjson",
                                  "--position-file", dir.str() + "/p", "--http", "127.0.0.1:0", "--kafka-property",
                                  "log_level=0"},
                                 produce_log);
  for (const auto& [log, reason] : {std::pair{bronze_log, "connecting to Kafka"},
                                    std::pair{produce_log, "connecting to the source and Kafka"}}) {
    const std::string url = WaitForProbeUrl(log, 20s);
    ASSERT_FALSE(url.empty()) << ReadLog(log);
    ws::testing::ProbeAnswer ready;
    EXPECT_TRUE(WaitFor([&] { return (ready = Get(url, "/readyz")).body.find(reason) != std::string::npos; }, 5s))
        << ready.body;
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_EQ(Get(url, "/healthz").status, 200);
  }
  // (Left alone, each gives up after Kafka's connect timeout, 10 s.)
  kill(bronze, SIGKILL);
  kill(produce, SIGKILL);
}

// A role whose catalog is unreachable at start exits 1 with one line naming
// it (the supervisor's restart is the retry; docs/operations.md).
TEST(RoleProbesTest, RolesExitOneInOneLineWhenTheCatalogIsUnreachableAtStart) {
  const std::string dead = "127.0.0.1:" + std::to_string(ws::testing::PostgresServer::FreePort());
  const std::string catalog = "postgresql://wikistream:secret@" + dead + "/lake";
  TempDir dir;
  Children children;
  const std::string bronze_log = dir.str() + "/bronze.log", batch_log = dir.str() + "/batch.log";
  pid_t bronze = children.Start({"bronze", "--source", "kafka://" + dead, "--warehouse", dir.str() + "/wh", "--catalog",
                                 catalog, "--http", "127.0.0.1:0", "--kafka-property", "log_level=0"},
                                bronze_log);
  pid_t batch = children.Start(
      {"batch", "--every", "5", "--warehouse", dir.str() + "/wh", "--catalog", catalog, "--http", "127.0.0.1:0"},
      batch_log);
  for (const auto& [pid, log] : {std::pair{bronze, bronze_log}, std::pair{batch, batch_log}}) {
    EXPECT_EQ(children.Wait(pid, 15s), 1) << ReadLog(log);
    std::istringstream lines(ReadLog(log));
    std::vector<std::string> errors;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("wikistream: ", 0) == 0) errors.push_back(line);
    }
    ASSERT_EQ(errors.size(), 1u) << ReadLog(log);
    EXPECT_EQ(errors[0].rfind("wikistream: cannot open warehouse: cannot connect to catalog postgresql://", 0), 0u)
        << errors[0];
    EXPECT_NE(errors[0].find(dead), std::string::npos) << errors[0];
    EXPECT_EQ(errors[0].find("secret"), std::string::npos) << "the password is printed: " << errors[0];
  }
}

}  // namespace
}  // namespace ws::app
