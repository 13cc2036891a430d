// What both HTTP transports (cpp-httplib: http_internal.h, Boost.Beast:
// http_beast.cc) share, so a route behaves the same whichever carries it:
// the request-target check, ops_only, the admin rate limit, the Api, the
// dashboard's files, error bodies, the security headers, request counting
// and the /api/live streams' text and bounds. A transport only parses
// requests, writes HttpCore's answers and bounds its connections.
// Private to src/serve.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wikistream/serve/api.h"
#include "wikistream/serve/http_server.h"

namespace ws::live {
class LiveSubscription;
}  // namespace ws::live

namespace ws::serve {

// Security headers every response carries (both transports add them to
// every response, their own errors included).
inline constexpr std::pair<const char*, const char*> kCommonHeaders[] = {
    {"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}, {"X-Frame-Options", "DENY"}};

// A JSON body, never cached; bad UTF-8 echoed from the request is replaced.
ApiResponse JsonResponse(int status, const std::string& json_text);
// {"error": message}
ApiResponse ErrorResponse(int status, const std::string& message);
// The message of an error the transport itself produced (400, 404, 413...).
std::string TransportErrorMessage(int status);
// 503 with Retry-After and Connection: close: the connection bound is reached.
ApiResponse BusyResponse();

// Percent-decoding as cpp-httplib does it (the path: plus_as_space false;
// query keys and values: true), so both transports hand the Api the same
// request.
std::string DecodeUrl(std::string_view text, bool plus_as_space);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

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

class HttpCore;

// One open /api/live stream (http_sse.cc). Holds its slot of
// max_sse_streams until destroyed. Thread-safe as LiveSubscription is.
class LiveStream {
 public:
  LiveStream(HttpCore* core, std::shared_ptr<live::LiveSubscription> sub);
  ~LiveStream();
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  // Whole SSE messages: head, then *data, then tail. The data (a summary is
  // the whole live snapshot) is shared by every stream it goes to; a
  // transport that can write a buffer sequence sends it without a copy.
  struct Chunk {
    std::string head;
    std::shared_ptr<const std::string> data;  // null: head alone
    std::string_view tail;                    // static text
    bool last = false;                        // the stream ends after this chunk
    std::string Text() const { return data ? head + *data + std::string(tail) : head + std::string(tail); }
  };
  // The first chunk: the current state at once, so a new client does not wait a tick.
  Chunk First() const;
  // The next chunk, waiting up to `wait`; nullopt when nothing came (the
  // transport then sends Keepalive() if it has been silent for keepalive()).
  std::optional<Chunk> Next(std::chrono::milliseconds wait);
  static std::string_view Keepalive() { return ": keepalive\n\n"; }
  std::chrono::milliseconds keepalive() const;
  // Called whenever Next() may have something (see LiveSubscription::set_on_ready).
  void set_on_ready(std::function<void()> on_ready);
  // Ends the stream: Next() answers the last chunk.
  void Close();

 private:
  HttpCore* core_;
  std::shared_ptr<live::LiveSubscription> sub_;
};

// What the transport saw besides the ApiRequest.
struct RequestInfo {
  std::string_view target;  // the raw request-target
  std::string remote_addr;
};

struct Reply {
  Reply() = default;
  Reply(ApiResponse r) : response(std::move(r)) {}  // implicit: most replies are just a response
  ApiResponse response;
  // Set for an accepted GET /api/live: send response's status and headers,
  // then the stream's chunks (chunked transfer coding) until one is last.
  std::shared_ptr<LiveStream> live;
};

class HttpCore {
 public:
  HttpCore(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, alerts::AlertSink* alerts,
           prometheus::Registry* registry, ServerCallbacks callbacks);
  ~HttpCore();

  // Answers one request (GET, HEAD or POST). Thread-safe; never throws (an
  // exception becomes a 500 and a log line).
  Reply Handle(ApiRequest request, const RequestInfo& info);
  // Counts a response in wikistream_http_requests_total; the transport calls
  // it before writing, so a client that has its response finds it counted.
  void Count(std::string_view path, int status);
  void CountRejected();

  // Resolves web_root and starts the live ticker (PublishSummary every sse_interval_ms).
  void Start();
  // Ends every live stream (each answers its last chunk) and stops the ticker. Idempotent.
  void StopLive();

  const ServerOptions& options() const { return opts_; }
  const Api& api() const { return api_; }

 private:
  friend class LiveStream;
  Reply OpenLive();
  void CloseLive(LiveStream* stream, const std::shared_ptr<live::LiveSubscription>& sub);
  // http_admin.cc: a 429 when the client calls the admin endpoints too often.
  std::optional<ApiResponse> AdminLimited(const ApiRequest& req, const std::string& remote_addr);
  // http_static.cc
  void ResolveWebRoot();
  ApiResponse Static(const ApiRequest& req);
  // The copy compiled into the binary (web_assets.h).
  ApiResponse Embedded(const ApiRequest& req);

  ServerOptions opts_;
  live::LiveAggregator* live_;
  Api api_;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Gauge* sse_gauge_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  AdminRateLimiter admin_limiter_{opts_.admin_burst, opts_.admin_refill_ms};

  std::thread ticker_thread_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  std::atomic<size_t> sse_active_{0};
  std::mutex subs_mu_;
  std::vector<std::shared_ptr<live::LiveSubscription>> subs_;

  std::filesystem::path web_root_;  // canonical, empty if unusable
  std::filesystem::path chart_js_;
};

// A transport: listens, parses requests, hands them to HttpCore and writes
// its answers.
class Transport {
 public:
  virtual ~Transport() = default;
  // Binds and starts serving; returns once the socket is bound.
  virtual Status Start() = 0;
  // Stops accepting, ends every connection and joins every thread. Idempotent.
  virtual void Stop() = 0;
  virtual int port() const = 0;
};

std::unique_ptr<Transport> MakeHttplibTransport(HttpCore* core);
std::unique_ptr<Transport> MakeBeastTransport(HttpCore* core);

}  // namespace ws::serve
