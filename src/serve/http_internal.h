// The cpp-httplib transport's pieces, shared by the files that carry one
// concern each: http_server.cc (lifecycle, listening), http_routing.cc (the
// adapter from httplib to the Api), http_sse.cc (the /api/live stream) and
// http_static.cc (the dashboard's files). Private to src/serve.
#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
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
  // http_sse.cc
  void Live(const httplib::Request& req, httplib::Response& res);
  // http_static.cc
  void ResolveWebRoot();
  void Static(const httplib::Request& req, httplib::Response& res);

  ServerOptions opts_;
  live::LiveAggregator* live_;
  Api api_;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Gauge* sse_gauge_ = nullptr;

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
