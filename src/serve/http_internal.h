// The cpp-httplib transport's pieces, shared by the files that carry one
// concern each: http_server.cc (lifecycle, listening), http_routing.cc (the
// adapter from httplib to the Api), http_connections.cc (how many
// connections are served at once), http_admin.cc (the admin endpoints' rate
// limit), http_sse.cc (the /api/live stream) and http_static.cc (the
// dashboard's files). Private to src/serve.
#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wikistream/serve/api.h"
#include "wikistream/serve/http_server.h"

namespace ws::live {
class LiveSubscription;
}  // namespace ws::live

namespace ws::serve {

// Security headers every response carries.
void SetCommonHeaders(httplib::Response& res);
// A JSON body, never cached; bad UTF-8 echoed from the request is replaced.
void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": message}
void SendError(httplib::Response& res, int status, const std::string& message);

// True on the workers of ConnectionPool's rejecting lane: the request is
// answered 503 with Retry-After without reaching the API.
bool OnRejectingWorker();

// cpp-httplib's TaskQueue, bounded: at most max_threads connections are
// served at once (workers start on demand), max_queued more wait, and the
// rest go to a small rejecting lane (on_reject is called for each).
class ConnectionPool : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t max_threads, size_t max_queued, std::function<void()> on_reject);
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued (each job closes its socket) and joins every worker.
  void shutdown() override;

 private:
  static constexpr size_t kRejectingThreads = 4;

  class Lane {
   public:
    Lane(size_t max_threads, size_t max_queued, bool rejecting);
    // Takes fn (moves from it) unless the lane is full (force: never full)
    // or stopped.
    bool Push(std::function<void()>& fn, bool force);
    void Shutdown();

   private:
    void Work();

    const size_t max_threads_;
    const size_t max_queued_;
    const bool rejecting_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    size_t idle_ = 0;    // workers waiting for a job
    size_t active_ = 0;  // jobs accepted and not finished
    bool stop_ = false;
  };

  Lane serve_;
  Lane reject_;
  std::function<void()> on_reject_;
};

// A token bucket per client address: `burst` requests at once, then one
// every refill_ms. Thread-safe; forgets full buckets when it tracks many.
class AdminRateLimiter {
 public:
  AdminRateLimiter(int burst, int refill_ms);
  // 0 when the request may go ahead, else the whole seconds until it may.
  int Acquire(const std::string& client, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  static constexpr size_t kMaxClients = 4096;
  double Refill(Bucket& b, std::chrono::steady_clock::time_point now) const;

  const int burst_;
  const int refill_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, alerts::AlertSink* alerts,
       prometheus::Registry* registry, ServerCallbacks callbacks);
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_.load(); }
  std::string address() const { return opts_.address; }
  const Api& api() const { return api_; }

 private:
  // http_routing.cc
  void Routes();
  void Count(const httplib::Request& req, const httplib::Response& res);
  // Adapts a request to the API; static files when the API does not own the path.
  void Dispatch(const httplib::Request& req, httplib::Response& res);
  // http_admin.cc: false (and a 429 in res) when the client calls the
  // admin endpoints too often.
  bool AdminAllowed(const httplib::Request& req, httplib::Response& res);
  // http_sse.cc
  void Live(const httplib::Request& req, httplib::Response& res);
  // http_static.cc
  void ResolveWebRoot();
  void Static(const httplib::Request& req, httplib::Response& res);
  // The copy compiled into the binary (web_assets.h).
  void Embedded(const httplib::Request& req, httplib::Response& res);

  ServerOptions opts_;
  live::LiveAggregator* live_;
  Api api_;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Gauge* sse_gauge_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  AdminRateLimiter admin_limiter_{opts_.admin_burst, opts_.admin_refill_ms};

  httplib::Server svr_;
  std::thread listen_thread_;
  std::thread ticker_thread_;
  std::atomic<int> port_{-1};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  std::atomic<size_t> sse_active_{0};
  std::mutex subs_mu_;
  std::vector<std::shared_ptr<live::LiveSubscription>> subs_;

  std::filesystem::path web_root_;  // canonical, empty if unusable
  std::filesystem::path chart_js_;
};

}  // namespace ws::serve
