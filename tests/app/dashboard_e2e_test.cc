// The dashboard and API over the real binary: a warehouse filled by one
// replay of three days, then `wikistream run` with a paced replay of a
// fourth day and the HTTP server on a free port, checked in headless
// Chromium (tests/interop/dashboard_replay_check.mjs) and over HTTP.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "testing/test_util.h"
#include "wikistream/common/time.h"

namespace ws::app {
namespace {

using ws::testing::BuildDir;
using ws::testing::ReadFile;
using ws::testing::RunCommand;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

// Starts `wikistream run ...` with stderr to a file; returns the pid.
pid_t Start(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("WIKISTREAM_LOG_LEVEL", "info", 1);  // the port is logged at info
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    std::string bin = WikistreamBinary().string();
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The port the server logged ("dashboard at http://127.0.0.1:PORT").
int WaitForPort(const std::string& log) {
  std::regex re("dashboard at http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 300; ++i) {
    std::smatch m;
    std::string text = std::filesystem::exists(log) ? ReadFile(log) : "";
    if (std::regex_search(text, m, re)) return std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

// Moves every event of generator output by `seconds` (its `timestamp` and
// `meta.dt`; broken lines stay broken), so that several runs of the
// generator (which always starts at 2026-01-01T00:00Z) make several days.
std::string ShiftEvents(const std::string& ndjson, int64_t seconds) {
  std::string out;
  out.reserve(ndjson.size());
  size_t pos = 0;
  while (pos < ndjson.size()) {
    size_t end = ndjson.find('\n', pos);
    if (end == std::string::npos) end = ndjson.size();
    std::string line = ndjson.substr(pos, end - pos);
    const std::string ts_key = "\"timestamp\":";
    if (size_t at = line.find(ts_key); at != std::string::npos) {
      const size_t from = at + ts_key.size();
      size_t to = from;
      while (to < line.size() && std::isdigit(static_cast<unsigned char>(line[to]))) ++to;
      if (to > from) line.replace(from, to - from, std::to_string(std::stoll(line.substr(from, to - from)) + seconds));
    }
    const std::string dt_key = "\"dt\":\"";
    if (size_t at = line.find(dt_key); at != std::string::npos) {
      const size_t from = at + dt_key.size();
      const size_t to = line.find('"', from);
      auto micros = to == std::string::npos ? std::nullopt : ParseIso8601Micros(line.substr(from, to - from));
      if (micros) line.replace(from, to - from, FormatIso8601Millis(*micros + seconds * kMicrosPerSecond));
    }
    out += line;
    out += '\n';
    pos = end + 1;
  }
  return out;
}

// `generate count --seed seed`, moved by `seconds`, appended to `path`.
void Generate(int count, int seed, int64_t seconds, const std::string& path) {
  std::string out;
  ASSERT_EQ(RunCommand(WikistreamBinary().string() + " generate " + std::to_string(count) + " --seed " +
                           std::to_string(seed) + " 2>/dev/null",
                       &out),
            0);
  std::ofstream(path, std::ios::app) << ShiftEvents(out, seconds);
}

TEST(DashboardEndToEndTest, EveryViewOverARealRunOfSeveralDays) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  std::string history = dir.str() + "/history.ndjson", live = dir.str() + "/live.ndjson";
  std::string out;
  // Three days (2026-01-01..03, at 00:00, 05:00 and 10:00 UTC) and a fourth
  // for the paced run, each with enough events for the generator's heavy
  // users to reach HIGH. The fourth spans 200 s of event time: at --speed 4
  // its replay outlasts the browser's start on a loaded 2-core machine.
  constexpr int64_t kDay = 86400, kHour = 3600;
  for (int k = 0; k < 3; ++k) Generate(30000, 5 + k, k * kDay + k * 5 * kHour, history);
  Generate(40000, 9, 3 * kDay + 12 * kHour, live);
  ASSERT_EQ(RunCommand(WikistreamBinary().string() + " run --once --source replay:" + history + " --warehouse " + wh),
            0);

  std::string log = dir.str() + "/run.log";
  pid_t pid = Start({"run", "--source", "replay:" + live, "--speed", "4", "--warehouse", wh, "--http",
                     "127.0.0.1:0", "--batch-interval", "3", "--admin-token", "s3cret"},
                    log);
  int port = WaitForPort(log);
  ASSERT_GT(port, 0) << ReadFile(log);

  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(10, 0);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto summary = http.Get("/api/summary");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->status, 200) << summary->body;
  EXPECT_NE(summary->body.find("total_events"), std::string::npos) << summary->body;
  auto risk = http.Get("/api/risk?level=HIGH&limit=5");
  ASSERT_TRUE(risk);
  EXPECT_EQ(risk->status, 200);
  EXPECT_EQ(http.Get("/api/hourly?date=not-a-date")->status, 400);
  EXPECT_EQ(http.Post("/api/admin/batch", "", "application/json")->status, 401);
  httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  auto batch = http.Post("/api/admin/batch", auth, "", "application/json");
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->status, 200) << batch->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wikistream_ingest_events_total"), std::string::npos);
  EXPECT_EQ(http.Get("/../catalog.db")->status, 404);

  // The shipped Grafana dashboard parses, and every series the dashboard and
  // the Prometheus rules use is one this binary exports. Labelled series
  // appear with their first sample (the first batch cycle, the first alert),
  // so poll until all are there rather than sleeping a guessed time.
  std::string grafana = ReadFile(SourceDir() / "deploy/monitoring/grafana-dashboard.json");
  EXPECT_FALSE(nlohmann::json::parse(grafana, nullptr, false).is_discarded());
  std::string rules = ReadFile(SourceDir() / "deploy/monitoring/prometheus-rules.yml");
  std::regex metric_re("wikistream_[a-z_]+");
  std::set<std::string> used;
  for (const std::string* text : {&grafana, &rules}) {
    for (auto it = std::sregex_iterator(text->begin(), text->end(), metric_re); it != std::sregex_iterator(); ++it) {
      used.insert(it->str());
    }
  }
  EXPECT_GT(used.size(), 5u);
  std::set<std::string> missing = used;
  for (int attempt = 0; attempt < 120 && !missing.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    metrics = http.Get("/metrics");
    ASSERT_TRUE(metrics);
    std::erase_if(missing, [&](const std::string& name) { return metrics->body.find("\n" + name) != std::string::npos; });
  }
  for (const auto& name : missing) ADD_FAILURE() << name << " is not exported";

  // Screenshots of every view land in the build folder.
  const std::string screens = (BuildDir() / "dashboard-screens").string();
  int rc = RunCommand("timeout 400 node " + (SourceDir() / "tests/interop/dashboard_replay_check.mjs").string() +
                          " http://127.0.0.1:" + std::to_string(port) + " " + screens + " 2026-01-01 2026-01-03",
                      &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("dashboard over a real run ok"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(screens + "/overview.png"));

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(log);
}

}  // namespace
}  // namespace ws::app
