// kill -9 loop: `wikistream run` (not --once: batch cycles run every 0.2 s
// while ingest commits every 0.2 s) is killed at seeded random moments, so
// kills land in bronze commits, silver/gold commits, dq_audit and ops
// commits alike. A final `run --once` and `batch` must leave bronze, silver
// and gold exactly as one clean `run --once` of the same file does.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testing/table_rows.h"
#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/warehouse/table_schemas.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::app {

using warehouse::ProjectSchema;
using warehouse::Warehouse;

namespace {

using ws::testing::RunCommand;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

std::string Bin() { return WikistreamBinary().string(); }

// Sorted text rows of a table, run-time columns left out.
std::vector<std::string> Rows(const std::string& warehouse, const std::string& table, int64_t* row_count = nullptr) {
  auto wh = Warehouse::Open(DefaultFileSystem(), warehouse, false);
  EXPECT_TRUE(wh.ok()) << wh.status().ToString();
  if (!wh.ok()) return {};
  return ws::testing::SortedTableRows(wh->get(), table, {}, row_count);
}

TEST(CrashLoopTest, KillNineDuringIngestAndCyclesThenRecoverEqualsCleanRun) {
  TempDir dir;
  const std::string input = dir.str() + "/events.ndjson";
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " generate 20000 --seed 11 > " + input, &out), 0) << out;

  const std::string ref = dir.str() + "/ref";
  ASSERT_EQ(RunCommand(Bin() + " run --once --source replay:" + input + " --warehouse " + ref + " 2>&1", &out), 0)
      << out;

  // The generator spaces 20000 events over ~100 s of event time: at --speed 10
  // ingest takes ~10 s, so every kill lands while the process works. The
  // scheduler starts a cycle at most once a second (it wakes every second),
  // so kills 0.7-2.8 s apart land in cycles as well as in bronze commits.
  const std::string wh = dir.str() + "/wh";
  const std::string src = "replay:" + input;
  std::mt19937 rng(20261125);
  std::uniform_int_distribution<int> delay_ms(700, 2800);
  int killed_running = 0;
  for (int round = 0; round < 5; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(Bin().c_str(), "wikistream", "run", "--source", src.c_str(), "--warehouse", wh.c_str(), "--batch-interval",
            "0.2", "--commit-interval", "0.2", "--commit-max-events", "2000", "--speed", "10", "--http", "off",
            "--log-level", "error",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++killed_running;
    } else {
      // It reached the end of the file before the kill: a normal exit.
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << " status " << status;
    }
  }
  EXPECT_GE(killed_running, 3) << "the kills should land while the process works";
  // The killed runs got somewhere: bronze partly landed and cycles published silver.
  int64_t bronze_before = 0, silver_before = 0, bronze_ref = 0;
  Rows(wh, "bronze.raw_events", &bronze_before);
  Rows(wh, "silver.cleaned_events", &silver_before);
  Rows(ref, "bronze.raw_events", &bronze_ref);
  EXPECT_GT(silver_before, 0);
  EXPECT_GT(bronze_before, 0);
  EXPECT_LT(bronze_before, bronze_ref);
  std::printf("after the kills: bronze %lld of %lld rows, silver %lld\n", static_cast<long long>(bronze_before),
              static_cast<long long>(bronze_ref), static_cast<long long>(silver_before));

  ASSERT_EQ(RunCommand(Bin() + " run --once --source replay:" + input + " --warehouse " + wh + " 2>&1", &out), 0)
      << out;
  ASSERT_EQ(RunCommand(Bin() + " batch --warehouse " + wh + " 2>&1", &out), 0) << out;

  for (const std::string& table : ws::testing::PipelineTables()) {
    int64_t n = 0;
    auto expected = Rows(ref, table, &n);
    auto got = Rows(wh, table);
    if (table != "bronze.dlq_events") {
      EXPECT_GT(n, 0) << table;
    }
    ASSERT_EQ(got.size(), expected.size()) << table;
    EXPECT_TRUE(got == expected) << table << " differs from the clean run";
  }
  // Exactly once: no event id twice in bronze or silver.
  for (const char* table : {"bronze.raw_events", "silver.cleaned_events"}) {
    auto w = Warehouse::Open(DefaultFileSystem(), wh, false);
    ASSERT_TRUE(w.ok());
    auto t = (*w)->table(table);
    ASSERT_TRUE(t.ok());
    auto ids = (*w)->ReadTable(**t, ProjectSchema(*(*t)->schema(), {"event_id"}));
    ASSERT_TRUE(ids.ok());
    std::vector<std::string> v;
    for (size_t i = 0; i < ids->num_rows(); ++i) v.emplace_back(ids->column(0).GetString(i));
    std::sort(v.begin(), v.end());
    EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end()) << table << " holds a duplicate event_id";
  }
}

}  // namespace
}  // namespace ws::app
