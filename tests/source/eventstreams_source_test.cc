// The EventStreams client against a real SSE server on 127.0.0.1.
#include "wikistream/source/eventstreams_source.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "testing/test_util.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"

namespace ws::source {
namespace {

using namespace std::chrono_literals;

struct SeenRequest {
  std::string user_agent, accept, last_event_id, since;
  bool has_last_event_id = false;
  int64_t at_us = 0;      // monotonic, when the request arrived
  int64_t ended_us = 0;   // monotonic, when the server finished the response
};

// One SSE server whose k-th request (0-based) is answered by `script(k, res)`.
class SseServer {
 public:
  enum class End { kDone, kDrop, kStall };
  using Script = std::function<void(int k, httplib::Response& res)>;

  explicit SseServer(Script script) : script_(std::move(script)) {
    // One request per connection: teardown never waits on idle keep-alives.
    svr_.set_keep_alive_max_count(1);
    svr_.Get("/stream", [this](const httplib::Request& req, httplib::Response& res) {
      int k;
      {
        std::lock_guard<std::mutex> lock(mu_);
        SeenRequest r;
        r.user_agent = req.get_header_value("User-Agent");
        r.accept = req.get_header_value("Accept");
        r.has_last_event_id = req.has_header("Last-Event-ID");
        r.last_event_id = req.get_header_value("Last-Event-ID");
        r.since = req.get_param_value("since");
        r.at_us = MonotonicMicros();
        k = static_cast<int>(requests_.size());
        requests_.push_back(r);
      }
      script_(k, res);
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~SseServer() {
    release_.store(true);
    svr_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/stream"; }
  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  // Sends `chunks` (each written separately), then ends as `end` says.
  void Stream(int k, httplib::Response& res, std::vector<std::string> chunks, End end) {
    res.set_chunked_content_provider(
        "text/event-stream", [this, k, chunks, end](size_t, httplib::DataSink& sink) {
          for (const std::string& c : chunks) {
            if (!sink.write(c.data(), c.size())) return false;
          }
          if (end == End::kStall) {
            int64_t limit = MonotonicMicros() + 10 * kMicrosPerSecond;
            while (!release_.load() && MonotonicMicros() < limit) std::this_thread::sleep_for(5ms);
          }
          MarkEnded(k);
          if (end == End::kDone) {
            sink.done();
            return true;
          }
          return false;  // drops the connection without the final chunk
        });
  }

 private:
  void MarkEnded(int k) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_[k].ended_us = MonotonicMicros();
  }

  Script script_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> release_{false};
  std::mutex mu_;
  std::vector<SeenRequest> requests_;
};

std::string Event(const std::string& id, const std::string& data) { return "id: " + id + "\ndata: " + data + "\n\n"; }

EventStreamsOptions TestOptions(const std::string& url) {
  EventStreamsOptions o;
  o.url = url;
  o.user_agent = MakeEventStreamsUserAgent("9.9.9", "test@example.org");
  o.backoff_min = 10ms;
  o.backoff_max = 50ms;
  o.idle_timeout = 5s;
  o.jitter_seed = 7;
  return o;
}

std::unique_ptr<EventStreamsSource> Open(const EventStreamsOptions& o) {
  auto r = OpenEventStreamsSource(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// Polls until `n` records arrived or 5 s passed.
std::vector<SourceRecord> PollN(Source* src, size_t n, std::chrono::milliseconds limit = 5000ms) {
  std::vector<SourceRecord> out;
  int64_t deadline = MonotonicMicros() + limit.count() * 1000;
  while (out.size() < n && MonotonicMicros() < deadline) {
    Status st = src->Poll(&out, n - out.size(), 50ms);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) break;
  }
  return out;
}

std::vector<std::string> Payloads(const std::vector<SourceRecord>& recs) {
  std::vector<std::string> v;
  for (const auto& r : recs) v.push_back(r.payload);
  return v;
}

class EventStreamsTest : public ::testing::Test {
 protected:
  ws::testing::ScopedLogLevel quiet_{log::Level::kWarn};
};

TEST_F(EventStreamsTest, DeliversEventsSendsHeadersAndResumesAfterServerClose) {
  const std::string id3 = R"([{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1700000000003}])";
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      self.load()->Stream(k, res, {": hello\n\n", Event("1", R"({"n":1})"), Event("2", R"({"n":2})"), Event(id3, R"({"n":3})")},
                   SseServer::End::kDone);
    } else if (k == 1) {
      self.load()->Stream(k, res, {Event("4", R"({"n":4})"), "event: other\ndata: x\n\n", Event("5", R"({"n":5})")},
                   SseServer::End::kDone);
    } else {
      self.load()->Stream(k, res, {}, SseServer::End::kStall);
    }
  });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.since = "2024-08-22T10:00:00Z";
  // A routine server close must reconnect at once, not after a backoff.
  o.backoff_min = 3s;
  o.backoff_max = 3s;
  auto src = Open(o);
  EXPECT_EQ(src->name(), "eventstreams");
  EXPECT_EQ(src->ResumePosition(), "");
  int64_t start = MonotonicMicros();
  auto recs = PollN(src.get(), 5);
  EXPECT_LT(MonotonicMicros() - start, 2 * kMicrosPerSecond);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":4})",
                                                       R"({"n":5})"}));
  EXPECT_EQ(recs[0].position, "1");
  EXPECT_EQ(recs[2].position, id3);
  EXPECT_EQ(recs[4].position, "5");
  EXPECT_GT(recs[0].received_at_us, NowMicros() - 60 * kMicrosPerSecond);
  EXPECT_EQ(src->ResumePosition(), "5");

  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].user_agent, "wikistream/9.9.9 (test@example.org)");
  EXPECT_EQ(reqs[0].accept, "text/event-stream");
  EXPECT_FALSE(reqs[0].has_last_event_id);
  EXPECT_EQ(reqs[0].since, "2024-08-22T10:00:00Z");
  EXPECT_EQ(reqs[1].last_event_id, id3);
  EXPECT_EQ(reqs[1].since, "") << "since only applies while there is no Last-Event-ID";
  EXPECT_EQ(reqs[1].user_agent, reqs[0].user_agent);

  auto st = src->stats();
  EXPECT_GE(st.connects, 2);
  EXPECT_GE(st.reconnects, 1);
  EXPECT_EQ(st.events, 5);
  EXPECT_EQ(st.skipped_events, 1);
  EXPECT_GT(st.bytes, 100);
  src->Stop();
}

TEST_F(EventStreamsTest, ResumeSetsLastEventIdOfFirstConnection) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      self.load()->Stream(k, res, {Event("11", "a")}, SseServer::End::kStall);
    } else {
      self.load()->Stream(k, res, {}, SseServer::End::kStall);
    }
  });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.since = "2024-08-22T10:00:00Z";
  auto src = Open(o);
  ASSERT_TRUE(src->Resume(R"([{"partition":0,"offset":10}])").ok());
  EXPECT_EQ(src->ResumePosition(), R"([{"partition":0,"offset":10}])");
  auto recs = PollN(src.get(), 1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(src->ResumePosition(), "11");
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].last_event_id, R"([{"partition":0,"offset":10}])");
  EXPECT_EQ(reqs[0].since, "");
  EXPECT_FALSE(src->Resume("x").ok()) << "Resume after Poll is a caller bug";
}

TEST_F(EventStreamsTest, HonoursServerRetryAfterClose) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      self.load()->Stream(k, res, {"retry: 400\n\n", Event("1", "a")}, SseServer::End::kDone);
    } else {
      self.load()->Stream(k, res, {Event("2", "b")}, SseServer::End::kStall);
    }
  });
  self = &server;
  auto src = Open(TestOptions(server.url()));
  auto recs = PollN(src.get(), 2);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a", "b"}));
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  int64_t gap_ms = (reqs[1].at_us - reqs[0].ended_us) / 1000;
  EXPECT_GE(gap_ms, 350);
  EXPECT_LT(gap_ms, 3000);
  EXPECT_EQ(reqs[1].last_event_id, "1");
}

TEST_F(EventStreamsTest, TooManyRequestsWaitsRetryAfterThenStreams) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("slow down", "text/plain");
    } else {
      self.load()->Stream(k, res, {Event("1", "a")}, SseServer::End::kStall);
    }
  });
  self = &server;
  auto src = Open(TestOptions(server.url()));
  auto recs = PollN(src.get(), 1);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a"}));
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  int64_t gap_ms = (reqs[1].at_us - reqs[0].at_us) / 1000;
  EXPECT_GE(gap_ms, 950) << "Retry-After: 1 must be honoured";
  auto st = src->stats();
  EXPECT_EQ(st.http_errors, 1);
  EXPECT_NE(st.last_error.find("429"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.connects, 1);
}

TEST_F(EventStreamsTest, ServerErrorsBackOffAndRecover) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k < 3) {
      res.status = 503;
      res.set_content("unavailable", "text/plain");
    } else {
      self.load()->Stream(k, res, {Event("1", "a")}, SseServer::End::kStall);
    }
  });
  self = &server;
  auto src = Open(TestOptions(server.url()));
  auto recs = PollN(src.get(), 1);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a"}));
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 4u);
  for (int i = 1; i < 4; ++i) EXPECT_GE((reqs[i].at_us - reqs[i - 1].at_us) / 1000, 9) << i;
  EXPECT_EQ(src->stats().http_errors, 3);
}

TEST_F(EventStreamsTest, ForbiddenLogsUserAgentPolicyAndKeepsRetrying) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k < 2) {
      res.status = 403;
      res.set_content("Please set a user-agent and respect our robot policy", "text/plain");
    } else {
      self.load()->Stream(k, res, {Event("1", "a")}, SseServer::End::kStall);
    }
  });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.backoff_max = 300ms;
  ::testing::internal::CaptureStderr();
  auto src = Open(o);
  auto recs = PollN(src.get(), 1);
  src->Stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a"}));
  EXPECT_NE(err.find("403"), std::string::npos) << err;
  EXPECT_NE(err.find("User-Agent"), std::string::npos) << err;
  EXPECT_NE(err.find("contact"), std::string::npos) << err;
  size_t first = err.find("User-Agent_policy");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("User-Agent_policy", first + 1), std::string::npos) << "one line per 403 streak: " << err;
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_GE((reqs[1].at_us - reqs[0].at_us) / 1000, 280) << "403 retries at the maximum backoff";
  EXPECT_GE((reqs[2].at_us - reqs[1].at_us) / 1000, 280);
}

TEST_F(EventStreamsTest, IdleWatchdogReconnectsWithLastEventId) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      self.load()->Stream(k, res, {Event("1", "a"), "id: 2\ndata: half"}, SseServer::End::kStall);
    } else {
      self.load()->Stream(k, res, {Event("2", "b"), Event("3", "c")}, SseServer::End::kStall);
    }
  });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.idle_timeout = 300ms;
  auto src = Open(o);
  int64_t start = MonotonicMicros();
  auto recs = PollN(src.get(), 3);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_LT(MonotonicMicros() - start, 3 * kMicrosPerSecond);
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].last_event_id, "1");
  EXPECT_GE((reqs[1].at_us - reqs[0].at_us) / 1000, 290);
  EXPECT_EQ(src->stats().idle_timeouts, 1);
}

TEST_F(EventStreamsTest, PartialEventAtDroppedConnectionIsDeliveredOnce) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      // Event 2 is cut after its id line and half of its data.
      self.load()->Stream(k, res, {Event("1", "a"), "id: 2\ndata: {\"n\":"}, SseServer::End::kDrop);
    } else if (k == 1) {
      self.load()->Stream(k, res, {Event("2", "{\"n\":2}"), Event("3", "c")}, SseServer::End::kDone);
    } else {
      self.load()->Stream(k, res, {}, SseServer::End::kStall);
    }
  });
  self = &server;
  auto src = Open(TestOptions(server.url()));
  auto recs = PollN(src.get(), 3);
  ASSERT_EQ(Payloads(recs), (std::vector<std::string>{"a", "{\"n\":2}", "c"}));
  std::vector<SourceRecord> more;
  ASSERT_TRUE(src->Poll(&more, 10, 200ms).ok());
  EXPECT_TRUE(more.empty()) << more.front().payload;
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].last_event_id, "1") << "the cut-off event's id must not count as received";
  EXPECT_NE(src->stats().last_error, "");
}

// A real capture (real `id:` JSON arrays, UTF-8 payloads) served in random
// chunk sizes; the connection drops twice in the middle of an event and the
// server resumes after the Last-Event-ID it receives, like EventStreams.
TEST_F(EventStreamsTest, RealCaptureSurvivesDropsMidEvent) {
  std::string capture = testing::ReadFile(testing::SharedDataDir() / "sse/kirajano-2021-08-27.sse");
  ASSERT_FALSE(capture.empty());
  struct Block {
    std::string text, id, data;
  };
  std::vector<Block> blocks;
  std::vector<std::string> expected;
  size_t at = 0;
  while (at < capture.size()) {
    size_t end = capture.find("\n\n", at);
    end = end == std::string::npos ? capture.size() : end + 2;
    Block b;
    b.text = capture.substr(at, end - at);
    std::istringstream lines(b.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("id: ", 0) == 0) b.id = line.substr(4);
      if (line.rfind("data: ", 0) == 0) b.data = line.substr(6);
    }
    if (!b.data.empty()) expected.push_back(b.data);
    blocks.push_back(std::move(b));
    at = end;
  }
  ASSERT_EQ(expected.size(), 1950u);
  // The capture's last event lacks its blank line; a live server sends it.
  if (blocks.back().text.size() < 2 || blocks.back().text.substr(blocks.back().text.size() - 2) != "\n\n") {
    blocks.back().text += "\n";
  }
  const std::vector<size_t> cuts = {600, 1300};  // block indexes cut in half
  std::mutex mu;
  size_t resume_search_from = 0;  // where the previous connection was cut
  std::set<size_t> used_cuts;
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    size_t start = 0;
    if (k > 0) {
      std::string last = self.load()->requests()[k].last_event_id;
      std::lock_guard<std::mutex> lock(mu);
      // Ids repeat in real captures (they hold timestamps): resume after the
      // latest block with this id before the cut, as an offset-keeping server.
      start = blocks.size();
      for (size_t i = resume_search_from + 1; i-- > 0;) {
        if (blocks[i].id == last) {
          start = i + 1;
          break;
        }
      }
    }
    std::string body;
    SseServer::End end = SseServer::End::kStall;
    size_t stop = blocks.size();
    for (size_t c : cuts) {
      if (c >= start && !used_cuts.count(c)) {
        used_cuts.insert(c);
        stop = c;
        end = SseServer::End::kDrop;
        break;
      }
    }
    for (size_t i = start; i < stop; ++i) body += blocks[i].text;
    if (stop < blocks.size()) body += blocks[stop].text.substr(0, blocks[stop].text.size() / 2);
    {
      std::lock_guard<std::mutex> lock(mu);
      // The last block sent whole (the client cannot know the cut one's id).
      resume_search_from = stop - 1;
    }
    std::mt19937 rng(k + 1);
    std::vector<std::string> chunks;
    for (size_t p = 0; p < body.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 3000)(rng);
      chunks.push_back(body.substr(p, n));
      p += n;
    }
    self.load()->Stream(k, res, chunks, end);
  });
  self = &server;
  auto src = Open(TestOptions(server.url()));
  auto recs = PollN(src.get(), expected.size(), 5000ms);
  ASSERT_TRUE(src->Poll(&recs, 10, 100ms).ok());
  ASSERT_EQ(recs.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(recs[i].payload, expected[i]) << i;
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(src->ResumePosition(), blocks.back().id);
}

TEST_F(EventStreamsTest, FullQueueAppliesBackpressureWithoutLoss) {
  constexpr int kEvents = 300;
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) {
    if (k == 0) {
      std::vector<std::string> chunks;
      for (int i = 1; i <= kEvents; ++i) chunks.push_back(Event(std::to_string(i), std::string(200, 'x') + std::to_string(i)));
      self.load()->Stream(k, res, chunks, SseServer::End::kStall);
    } else {
      self.load()->Stream(k, res, {}, SseServer::End::kStall);
    }
  });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.queue_capacity = 4;
  auto src = Open(o);
  std::vector<SourceRecord> recs;
  int64_t deadline = MonotonicMicros() + 5 * kMicrosPerSecond;
  while (recs.size() < kEvents && MonotonicMicros() < deadline) {
    ASSERT_TRUE(src->Poll(&recs, 3, 50ms).ok());
    EXPECT_LE(src->stats().queued, 4u);
  }
  ASSERT_EQ(recs.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(recs[i].position, std::to_string(i + 1));
  EXPECT_EQ(server.requests().size(), 1u) << "backpressure must not cause reconnects";
}

TEST_F(EventStreamsTest, StopDuringStalledReadEndsPollPromptly) {
  std::atomic<SseServer*> self{nullptr};  // set after the server starts, read by its handler thread
  SseServer server([&](int k, httplib::Response& res) { self.load()->Stream(k, res, {": hi\n\n"}, SseServer::End::kStall); });
  self = &server;
  EventStreamsOptions o = TestOptions(server.url());
  o.idle_timeout = 60s;
  auto src = Open(o);
  std::vector<SourceRecord> out;
  ASSERT_TRUE(src->Poll(&out, 10, 200ms).ok());  // connected and stalled now
  EXPECT_TRUE(out.empty());
  Status result;
  int64_t returned_at = 0;
  std::thread poller([&] {
    result = src->Poll(&out, 10, 10s);
    returned_at = MonotonicMicros();
  });
  std::this_thread::sleep_for(200ms);
  int64_t stopped_at = MonotonicMicros();
  src->Stop();
  poller.join();
  EXPECT_EQ(result.code(), Status::Code::kCancelled);
  EXPECT_LT(returned_at - stopped_at, kMicrosPerSecond);
  int64_t before_destroy = MonotonicMicros();
  src.reset();
  EXPECT_LT(MonotonicMicros() - before_destroy, kMicrosPerSecond) << "the network thread must exit promptly";
}

TEST_F(EventStreamsTest, UnreachableServerIsRetriedNotFatal) {
  // Port 1 is privileged and unused here: connections are refused at once.
  std::string url = "http://127.0.0.1:1/stream";
  auto src = Open(TestOptions(url));
  std::vector<SourceRecord> out;
  ASSERT_TRUE(src->Poll(&out, 10, 300ms).ok());
  auto st = src->stats();
  EXPECT_GE(st.connect_attempts, 2);
  EXPECT_NE(st.last_error.find("connection"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.connects, 0);
}

TEST_F(EventStreamsTest, OpenValidatesOptions) {
  EventStreamsOptions o = TestOptions("http://127.0.0.1:1/stream");
  o.user_agent = "";
  EXPECT_EQ(OpenEventStreamsSource(o).status().code(), Status::Code::kInvalidArgument);
  o = TestOptions("ftp://x");
  EXPECT_EQ(OpenEventStreamsSource(o).status().code(), Status::Code::kInvalidArgument);
  o = TestOptions("http://127.0.0.1:1/stream");
  o.since = "yesterday";
  EXPECT_EQ(OpenEventStreamsSource(o).status().code(), Status::Code::kInvalidArgument);
  o.since = "2024-08-22T10:00:00+02:00";
  EXPECT_TRUE(OpenEventStreamsSource(o).ok());
  EXPECT_EQ(MakeEventStreamsUserAgent("1.0", "https://x.org"), "wikistream/1.0 (https://x.org)");
}

}  // namespace
}  // namespace ws::source
