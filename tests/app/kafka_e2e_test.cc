// Exactly-once through Kafka with a consumer group of two bronze processes.
// The test process hosts librdkafka's mock cluster (real TCP on 127.0.0.1,
// topic raw-events with 3 partitions); the real binary does the rest:
// `wikistream produce` replays recorded captures into the topic (one paced,
// so records are still arriving while a consumer dies), two
// `wikistream bronze` processes share the partitions, one is SIGKILLed after
// it has committed rows, the survivor takes over its partitions (starting at
// the positions committed in the table's snapshot summaries), the killed one
// is restarted and takes partitions back. At the end bronze.raw_events, read
// by DuckDB, holds every target-domain event of the captures exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/bronze_log.h"
#include "testing/child_processes.h"
#include "testing/duckdb_reader.h"
#include "testing/kafka_mock_cluster.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using namespace std::chrono_literals;
using ws::testing::AssignedAllPartitions;
using ws::testing::Children;
using ws::testing::CommittedRowsInLog;
using ws::testing::ReadFile;
using ws::testing::ReadLog;
using ws::testing::RunCommand;
using ws::testing::SharedDataDir;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WaitFor;
using ws::testing::WarehouseRows;
using ws::testing::WikistreamBinary;

using MockCluster = ws::testing::MockKafkaCluster;

// meta.id of every target-domain event of a recorded capture (SSE `data:`
// lines or NDJSON), counted here independently of the ingest code.
std::set<std::string> TargetIds(const std::string& relative_path) {
  static const std::set<std::string> kDefault = {
      "zh.wikipedia.org", "ja.wikipedia.org", "ko.wikipedia.org", "vi.wikipedia.org", "id.wikipedia.org",
      "th.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org", "it.wikipedia.org", "es.wikipedia.org",
      "pl.wikipedia.org", "nl.wikipedia.org", "ru.wikipedia.org", "en.wikipedia.org", "pt.wikipedia.org",
      "ar.wikipedia.org", "fa.wikipedia.org", "he.wikipedia.org"};
  const bool sse = relative_path.size() > 4 && relative_path.substr(relative_path.size() - 4) == ".sse";
  std::set<std::string> ids;
  std::istringstream in(ReadFile(SharedDataDir() / relative_path));
  std::string line;
  while (std::getline(in, line)) {
    if (sse) {
      if (line.rfind("data: ", 0) != 0) continue;
      line = line.substr(6);
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line);
    if (kDefault.count(j["meta"]["domain"].get<std::string>())) ids.insert(j["meta"]["id"].get<std::string>());
  }
  return ids;
}

// Rows of bronze.raw_events in the current snapshot (`wikistream tables`).
int64_t BronzeRows(const std::string& wh) {
  std::string out;
  if (RunCommand(WikistreamBinary().string() + " tables --log-level off --warehouse " + wh, &out) != 0) return -1;
  std::istringstream in(out);
  std::string name;
  int64_t rows = -1;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (fields >> name && name == "bronze.raw_events") fields >> rows;
  }
  return rows;
}

TEST(KafkaEndToEndTest, TwoConsumersOneKilledNothingLostNothingDoubled) {
  MockCluster cluster(3);
  ASSERT_FALSE(cluster.brokers().empty());
  TempDir dir;
  const std::string wh = dir.str() + "/wh";
  const std::string brokers = cluster.brokers();
  ASSERT_EQ(brokers.rfind("127.0.0.1:", 0), 0u) << brokers;

  const std::string paced_file = "sse/kirajano-2021-08-27.sse";  // 1950 events over 66 s of meta.dt
  const std::string burst_file = "ndjson/yearfunla-2024-08-22.ndjson";
  std::set<std::string> expected = TargetIds(paced_file);
  ASSERT_EQ(expected.size(), 783u);  // data README
  std::set<std::string> burst_ids = TargetIds(burst_file);
  ASSERT_EQ(burst_ids.size(), 335u);
  expected.insert(burst_ids.begin(), burst_ids.end());
  ASSERT_EQ(expected.size(), 783u + 335u);  // no meta.id occurs in two files

  Children children;
  auto produce = [&](const std::string& file, const std::string& speed, const std::string& name) {
    return children.Start({"produce", "--kafka", brokers, "--source", "replay:" + (SharedDataDir() / file).string(),
                  "--speed", speed, "--once", "--position-file", dir.str() + "/" + name + ".position",
                  "--kafka-property", "log_level=3", "--log-level", "warn", "--http", "127.0.0.1:0"},
                 dir.str() + "/" + name + ".log");
  };
  auto bronze = [&](const std::string& log) {
    return children.Start({"bronze", "--source", "kafka://" + brokers, "--warehouse", wh, "--kafka-group", "g",
                  "--commit-interval", "0.3", "--kafka-property", "session.timeout.ms=6000", "--kafka-property",
                  "heartbeat.interval.ms=500", "--kafka-property", "log_level=3", "--log-level", "debug", "--http",
                  "127.0.0.1:0"},
                 log);
  };

  // The records start once both consumers hold partitions: on a loaded
  // machine (CI runs tests in parallel) the group join alone has taken longer
  // than the whole paced stream, and the kill then landed after its end.
  // ~22 s of records at 3x the capture's pace leaves time for the first commit.
  const std::string log1 = dir.str() + "/bronze-1.log", log2 = dir.str() + "/bronze-2.log";
  pid_t c1 = bronze(log1);
  pid_t c2 = bronze(log2);
  const auto holds_partitions = ws::testing::HoldsPartitions;
  ASSERT_TRUE(WaitFor([&] { return holds_partitions(log1) && holds_partitions(log2); }, 60s))
      << ReadLog(log1) << ReadLog(log2);
  pid_t producer = produce(paced_file, "3", "produce-paced");

  // Kill consumer 1 only once it has rows in the table.
  ASSERT_TRUE(WaitFor([&] { return CommittedRowsInLog(log1) > 0; }, 60s)) << ReadLog(log1);
  kill(c1, SIGKILL);
  EXPECT_EQ(children.Wait(c1, 5s), -1);  // killed, not exited
  const int64_t rows_at_kill = BronzeRows(wh);
  EXPECT_GT(rows_at_kill, 0);
  EXPECT_LT(rows_at_kill, 783) << "the kill should land while the paced capture is still arriving";

  // The survivor is given every partition once the dead member's session
  // times out, and continues from the committed positions.
  EXPECT_TRUE(WaitFor([&] { return AssignedAllPartitions(log2); }, 45s)) << ReadLog(log2);
  const std::string log1b = dir.str() + "/bronze-1-restarted.log";
  pid_t c1b = bronze(log1b);

  EXPECT_EQ(children.Wait(producer, 90s), 0) << ReadLog(dir.str() + "/produce-paced.log");
  // The restarted consumer rejoins and is given partitions back (another
  // rebalance, this time with a live previous owner) before the last burst.
  EXPECT_TRUE(WaitFor([&] { return holds_partitions(log1b); }, 45s))
      << ReadLog(log1b);
  pid_t burst = produce(burst_file, "0", "produce-burst");
  EXPECT_EQ(children.Wait(burst, 40s), 0) << ReadLog(dir.str() + "/produce-burst.log");

  const int64_t want = static_cast<int64_t>(expected.size());
  EXPECT_TRUE(WaitFor([&] { return BronzeRows(wh) >= want; }, 90s)) << "bronze rows: " << BronzeRows(wh);

  EXPECT_EQ(children.Stop(c1b, 20s), 0) << ReadLog(log1b);
  EXPECT_EQ(children.Stop(c2, 20s), 0) << ReadLog(log2);

  EXPECT_GT(CommittedRowsInLog(log1b), 0) << "the restarted consumer should have committed rows of the burst";

  std::multiset<std::string> got;
  for (const auto& r : WarehouseRows(wh, "bronze.raw_events")) got.insert(r["event_id"].get<std::string>());
  EXPECT_EQ(got.size(), expected.size()) << "rows (duplicates count twice) vs distinct target events";
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);
  EXPECT_EQ(WarehouseRows(wh, "bronze.dlq_events").size(), 0u);
}

}  // namespace
}  // namespace ws::app
