// HttpServer: carries the API (serve/api.h) over HTTP/1.1, plus what only a
// transport can do: the live SSE stream and the dashboard's static files
// (reference: docs/serving.md). Two transports answer every route the same
// way (ServerOptions::transport): Boost.Beast/Asio (event-driven: a few io
// threads serve every connection) and cpp-httplib (a thread per connection).
//
// Contract:
// - Start() binds (127.0.0.1:8080 by default; port 0 picks a free port,
//   reported by port()) and serves on its own threads; it returns once the
//   socket is bound, or an error (address in use, bad address). Stop() ends
//   every SSE stream, stops accepting and joins all threads; it is idempotent
//   and called by the destructor.
// - Read-only except POST /api/admin/{batch,maintain}, which need
//   "Authorization: Bearer <admin_token>" (401 otherwise, and always when no
//   token is configured) and call the injected callbacks.
// - Errors are JSON {"error": "..."}: 400 bad parameter, 401 auth, 404
//   unknown path, 413 body too large, 429 (with Retry-After) admin
//   endpoints called too often, 503 (with Retry-After) too many
//   connections or SSE streams, 503 a callback that is not wired.
// - Limits (ServerOptions): TCP_NODELAY on every connection; a connection
//   silent for idle_timeout_ms is closed (Beast: a request head and body
//   must each arrive whole within idle_timeout_ms, so a client trickling
//   bytes is cut too); a live stream whose reader falls behind its bounded
//   queue is ended (the browser reconnects) so it never holds back the
//   others.
// - The dashboard (web/ and /assets/chart.umd.js) is embedded in the binary
//   and served with its type and a strong ETag (If-None-Match: 304).
//   With web_root set (development), files come from that directory instead:
//   "..", ".", backslashes and NULs in the decoded path are rejected, and the
//   canonical (symlink-resolved) target must stay inside the canonical
//   web_root. /assets/chart.umd.js then comes from chart_js_path (default:
//   web_root/vendor/chart.umd.js, else
//   <web_root>/../node_modules/chart.js/dist/chart.umd.js, else the embedded
//   copy).
// - The data come from an AnalyticsStore (gold/ops/dq tables), the
//   LiveAggregator (live state, SSE) and the AlertSink (recent alerts); each
//   pointer may be null (the related endpoints then answer with empty data).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"
#include "wikistream/serve/api.h"

namespace prometheus {
class Registry;
}

namespace ws::alerts {
class AlertSink;
}  // namespace ws::alerts

namespace ws::live {
class LiveAggregator;
}  // namespace ws::live

namespace ws::serve {

class AnalyticsStore;

enum class HttpTransport { kBeast, kHttplib };

// "beast" | "httplib"
std::string_view HttpTransportName(HttpTransport transport);
Result<HttpTransport> ParseHttpTransport(std::string_view name);

struct ServerOptions {
  std::string address = "127.0.0.1";  // host to bind
  int port = 8080;                     // 0 = pick a free port
  std::string web_root;                // "" = the embedded dashboard; else its directory
  std::string chart_js_path;           // "" = see the contract above
  std::string admin_token;             // "" = admin endpoints always 401
  HttpTransport transport = HttpTransport::kBeast;  // faster, and slow clients hold no thread
  // cpp-httplib serves each connection on a thread of its own, for the
  // connection's life: worker_threads + max_sse_streams connections are
  // served at once, max_queued_connections more wait, and the rest are
  // answered 503 with Retry-After. Beast: worker_threads is the size of the
  // pool the handlers run on; max_sse_streams bounds live streams.
  size_t max_sse_streams = 256;
  size_t worker_threads = 32;
  size_t max_queued_connections = 64;
  // Beast only: io threads (0 = one per core) serve every connection; at
  // most max_connections are open at once (live streams included), further
  // ones are answered 503 with Retry-After and closed.
  size_t io_threads = 0;
  size_t max_connections = 4096;
  // A connection that sends nothing for this long (mid-request or between
  // requests) is closed. Keep-alive connections idle for 1 s are closed too.
  // Beast: also the deadline for a whole request head, and for its body.
  int idle_timeout_ms = 5000;
  // POST /api/admin/*: admin_burst calls at once per client address, then
  // one per admin_refill_ms; beyond that 429 with Retry-After.
  int admin_burst = 5;
  int admin_refill_ms = 10000;
  size_t max_body_bytes = 64 * 1024;
  int sse_interval_ms = 1000;          // summary push period
  int sse_keepalive_ms = 15000;        // comment line when nothing else was sent
  // Only the operations endpoints (/metrics, /healthz, /readyz); every other
  // path is 404. For the roles that are not the dashboard (bronze, produce,
  // the batch loop): no API, no static files, no SSE.
  bool ops_only = false;
};

// Parses "HOST:PORT" (as --http takes it) into options.address/port.
Status ParseHttpAddress(const std::string& text, ServerOptions* options);

class HttpServer {
 public:
  HttpServer(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live,
             alerts::AlertSink* alerts, prometheus::Registry* registry, ServerCallbacks callbacks);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status Start();
  void Stop();
  int port() const;
  // "http://127.0.0.1:PORT"
  std::string url() const;
  // The API the server carries (its routes are what the server answers).
  const Api& api() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::serve
