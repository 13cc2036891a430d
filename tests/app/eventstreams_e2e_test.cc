// Exactly-once from a live SSE stream: a test-only EventStreams server on
// 127.0.0.1 replays a recorded capture (plus a few malformed payloads),
// resumes from Last-Event-ID with some overlap, and cuts connections at
// random points (sometimes mid-event); `wikistream run` is killed with
// SIGKILL ten times and restarted. At the end bronze holds exactly the
// target-domain events of the capture and the DLQ exactly the malformed ones.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "testing/duckdb_reader.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using ws::testing::ReadFile;
using ws::testing::RunCommand;
using ws::testing::SharedDataDir;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WarehouseRows;
using ws::testing::WikistreamBinary;

struct Capture {
  std::vector<std::string> payloads;  // data: of each event, in order
  std::set<std::string> expected_ids;  // event ids of the default target domains
  size_t malformed = 0;
};

Capture LoadCapture() {
  static const std::set<std::string> kDefault = {
      "zh.wikipedia.org", "ja.wikipedia.org", "ko.wikipedia.org", "vi.wikipedia.org", "id.wikipedia.org",
      "th.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org", "it.wikipedia.org", "es.wikipedia.org",
      "pl.wikipedia.org", "nl.wikipedia.org", "ru.wikipedia.org", "en.wikipedia.org", "pt.wikipedia.org",
      "ar.wikipedia.org", "fa.wikipedia.org", "he.wikipedia.org"};
  Capture c;
  std::istringstream in(ReadFile(SharedDataDir() / "sse/kirajano-2021-08-27.sse"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    std::string data = line.substr(6);
    auto j = nlohmann::json::parse(data);
    if (kDefault.count(j["meta"]["domain"].get<std::string>())) c.expected_ids.insert(j["meta"]["id"]);
    c.payloads.push_back(data);
    if (c.payloads.size() % 500 == 250) {  // a malformed payload now and then
      c.payloads.push_back("{\"meta\": {\"id\": \"broken-" + std::to_string(c.payloads.size()) + "\"");
      ++c.malformed;
    }
  }
  return c;
}

// Ids in the form Wikimedia uses for a Kafka-offset position.
std::string IdFor(size_t index) {
  return R"([{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":)" + std::to_string(index) + "}]";
}

class FakeEventStreams {
 public:
  explicit FakeEventStreams(const Capture& capture) : capture_(capture) {
    server_.Get("/v2/stream/recentchange", [this](const httplib::Request& req, httplib::Response& res) {
      size_t start = 0;
      if (req.has_header("Last-Event-ID")) {
        auto j = nlohmann::json::parse(req.get_header_value("Last-Event-ID"), nullptr, false);
        if (!j.is_discarded() && j.is_array() && !j.empty()) {
          size_t offset = j[0]["offset"].get<size_t>();
          start = offset + 1 > 3 ? offset + 1 - 3 : 0;  // re-send a little overlap
        }
      }
      if (req.get_header_value("User-Agent").find("wikistream/") == std::string::npos) bad_agent_ = true;
      size_t cut;
      bool mid_event;
      {
        std::lock_guard<std::mutex> lock(mu_);
        cut = start + 40 + rng_() % 300;
        mid_event = rng_() % 3 == 0;
      }
      res.set_chunked_content_provider(
          "text/event-stream", [this, start, cut, mid_event](size_t, httplib::DataSink& sink) {
            std::string out = ":ok\n\n";
            size_t end = std::min(cut, capture_.payloads.size());
            for (size_t i = start; i < end; ++i) {
              out += "event: message\nid: " + IdFor(i) + "\ndata: " + capture_.payloads[i] + "\n\n";
            }
            if (end < capture_.payloads.size() && mid_event) {
              out += "event: message\nid: " + IdFor(end) + "\ndata: " + capture_.payloads[end].substr(0, 50);
            }
            sink.write(out.data(), out.size());
            if (end >= capture_.payloads.size()) reached_end_ = true;
            // A cut connection, like Wikimedia's every ~15 minutes.
            sink.done();
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeEventStreams() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  bool reached_end() const { return reached_end_.load(); }
  void reset_end() { reached_end_ = false; }
  bool bad_agent() const { return bad_agent_.load(); }

 private:
  const Capture& capture_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::mt19937 rng_{42};
  std::atomic<bool> reached_end_{false};
  std::atomic<bool> bad_agent_{false};
};

pid_t StartRun(const std::string& url, const std::string& wh) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(WikistreamBinary().c_str(), "wikistream", "run", "--eventstreams-url", url.c_str(), "--warehouse", wh.c_str(),
          "--http", "off", "--commit-interval", "0.3", "--batch-interval", "1000", "--log-level", "error",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(EventStreamsEndToEndTest, TenKillsNothingLostNothingDoubled) {
  Capture capture = LoadCapture();
  ASSERT_EQ(capture.expected_ids.size(), 783u);  // data README, checked independently
  FakeEventStreams server(capture);
  ASSERT_GT(server.port(), 0);
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v2/stream/recentchange";

  std::mt19937 rng(7);
  for (int kill_round = 0; kill_round < 10; ++kill_round) {
    pid_t pid = StartRun(url, wh);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 900));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  // A last, undisturbed run: wait until the server has sent the end of the
  // capture, give it a few commit intervals, then stop it cleanly.
  server.reset_end();
  pid_t pid = StartRun(url, wh);
  for (int i = 0; i < 600 && !server.reached_end(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(server.reached_end());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(server.bad_agent());

  std::multiset<std::string> got;
  for (const auto& r : WarehouseRows(wh, "bronze.raw_events")) got.insert(r["event_id"].get<std::string>());
  EXPECT_EQ(got.size(), capture.expected_ids.size());
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), capture.expected_ids);
  auto dlq = WarehouseRows(wh, "bronze.dlq_events");
  EXPECT_EQ(dlq.size(), capture.malformed);
  std::set<std::string> dlq_ids;
  for (const auto& r : dlq) dlq_ids.insert(r["dlq_id"].get<std::string>());
  EXPECT_EQ(dlq_ids.size(), capture.malformed);
}

}  // namespace
}  // namespace ws::app
