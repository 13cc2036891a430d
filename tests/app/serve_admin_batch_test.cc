// `serve`'s POST /api/admin/batch builds its cycle from the configuration as
// `run` and `batch` do (runtime::BatchRunner): over a warehouse where
// `run --once` already raised alerts for part of a capture and the rest was
// landed in bronze, two admin cycles post every new alert to --alert-webhook
// exactly once, raise none of the earlier ones again, and ops.alerts holds
// one row per (kind, entity, date).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "testing/test_util.h"
#include "testing/webhook_receiver.h"
#include "wikistream/common/file_system.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::app {
namespace {

using ws::testing::ReadFile;
using ws::testing::RunCommand;
using ws::testing::TempDir;
using ws::testing::WebhookReceiver;
using ws::testing::WikistreamBinary;

using AlertId = std::tuple<std::string, std::string, std::string>;  // kind, entity, date

std::string Bin() { return WikistreamBinary().string(); }

// Every ops.alerts row as (kind, entity, alert_date), as often as it is there.
std::multiset<AlertId> AlertRows(const std::string& wh) {
  auto warehouse = warehouse::Warehouse::Open(DefaultFileSystem(), wh, false);
  EXPECT_TRUE(warehouse.ok()) << warehouse.status().ToString();
  std::multiset<AlertId> out;
  if (!warehouse.ok()) return out;
  auto t = (*warehouse)->table("ops.alerts");
  EXPECT_TRUE(t.ok());
  if (!t.ok()) return out;
  auto rows = (*warehouse)->ReadTable(**t, warehouse::ProjectSchema(*(*t)->schema(), {"kind", "entity", "alert_date"}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) {
    out.emplace(rows->column(0).ValueToString(i), rows->column(1).ValueToString(i), rows->column(2).ValueToString(i));
  }
  return out;
}

// `wikistream ARGS` in the background, stderr to `log`.
pid_t Start(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;  // a failed redirect only loses the log
    std::string bin = Bin();
    std::vector<std::string> copy = args;
    std::vector<char*> argv = {bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Waits (up to 120 s, however busy the machine) until `log` matches `re`;
// returns the first group (or the whole match), nothing on a timeout.
std::optional<std::string> WaitForLog(const std::string& log, const std::regex& re) {
  for (int i = 0; i < 1200; ++i) {
    const std::string text = std::filesystem::exists(log) ? ReadFile(log) : "";
    std::smatch m;
    if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

int StopAndWait(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ServeAdminBatchTest, AdminCyclesPostEachNewAlertOnceAndRaiseNoneAgain) {
  TempDir dir;
  const std::string wh = dir.str() + "/wh";
  std::string out;
  // The generator's risky users reach HIGH on 2026-01-01, some in each half.
  ASSERT_EQ(RunCommand("cd " + dir.str() + " && " + Bin() + " generate 20000 --seed 7 > all.ndjson && split -n l/2 -d " +
                           "all.ndjson part",
                       &out),
            0)
      << out;

  // 1. The first half, with its batch cycle: its alerts are in ops.alerts.
  ASSERT_EQ(RunCommand(Bin() + " run --once --log-level error --source replay:" + dir.str() + "/part00 --warehouse " + wh,
                       &out),
            0)
      << out;
  const std::multiset<AlertId> before = AlertRows(wh);
  ASSERT_FALSE(before.empty());

  // 2. The second half lands in bronze only (no cycle before the stop).
  const std::string ingest_log = dir.str() + "/ingest.log";
  pid_t ingest = Start({"run", "--source", "replay:" + dir.str() + "/part01", "--warehouse", wh, "--http", "off",
                        "--batch-interval", "100000", "--log-level", "info"},
                       ingest_log);
  ASSERT_TRUE(WaitForLog(ingest_log, std::regex("is exhausted"))) << ReadFile(ingest_log);
  ASSERT_EQ(StopAndWait(ingest), 0) << ReadFile(ingest_log);
  ASSERT_EQ(AlertRows(wh), before);

  // 3. serve with a webhook; two admin cycles.
  WebhookReceiver hook;
  const std::string serve_log = dir.str() + "/serve.log";
  pid_t serve = Start({"serve", "--warehouse", wh, "--http", "127.0.0.1:0", "--admin-token", "s3cret",
                       "--alert-webhook", hook.url(), "--log-level", "info"},
                      serve_log);
  auto port = WaitForLog(serve_log, std::regex("serving on http://127\\.0\\.0\\.1:([0-9]+)"));
  ASSERT_TRUE(port) << ReadFile(serve_log);
  httplib::Client http("127.0.0.1", std::stoi(*port));
  http.set_read_timeout(300, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  for (int i = 0; i < 2; ++i) {
    auto res = http.Post("/api/admin/batch", auth, "", "application/json");
    ASSERT_TRUE(res) << ReadFile(serve_log);
    EXPECT_EQ(res->status, 200) << res->body << "\n" << ReadFile(serve_log);
  }
  // Deliveries run on the sink's thread; SIGTERM waits for them (bounded).
  EXPECT_EQ(StopAndWait(serve), 0) << ReadFile(serve_log);

  const std::multiset<AlertId> after = AlertRows(wh);
  EXPECT_EQ(std::set<AlertId>(after.begin(), after.end()).size(), after.size()) << "a duplicate in ops.alerts";
  std::multiset<AlertId> added;
  for (const AlertId& a : after) {
    if (!before.count(a)) added.insert(a);
  }
  for (const AlertId& a : before) EXPECT_EQ(after.count(a), 1u) << std::get<1>(a);
  EXPECT_FALSE(added.empty()) << "the second half raises no new alert: the test proves nothing";
  // Exactly the new alerts were posted, each once.
  std::multiset<AlertId> posted;
  for (const std::string& body : hook.bodies()) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << body;
    posted.emplace(j.value("kind", ""), j.value("entity", ""), j.value("alert_date", ""));
  }
  EXPECT_EQ(posted, added);
}

}  // namespace
}  // namespace ws::app
