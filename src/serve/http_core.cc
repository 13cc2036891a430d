// HttpCore: every request of either transport goes through Handle, which
// checks the request-target, applies ops_only and the admin rate limit,
// hands the request to the Api and falls back to the dashboard's files.
#include "http_core.h"

#include <fmt/format.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve {

using nlohmann::json;

ApiResponse JsonResponse(int status, const std::string& json_text) {
  ApiResponse res;
  res.status = status;
  res.headers.emplace_back("Cache-Control", "no-store");
  res.body = json_text;
  return res;
}

ApiResponse ErrorResponse(int status, const std::string& message) {
  // Messages can echo request bytes (the path of an unknown route), which
  // need not be UTF-8: replace bad sequences (U+FFFD) instead of letting
  // dump() throw, which turned a 404 into a 500.
  return JsonResponse(status, json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string TransportErrorMessage(int status) {
  return status == 404   ? "not found"
         : status == 413 ? "request body too large"
         : status == 414 ? "request URI too long"
         : status == 431 ? "request header fields too large"
         : status == 405 ? "method not allowed"
         : status == 400 ? "bad request"
                         : fmt::format("HTTP {}", status);
}

ApiResponse BusyResponse() {
  ApiResponse res = ErrorResponse(503, "server busy: too many connections; retry shortly");
  res.headers.emplace_back("Retry-After", "1");
  res.headers.emplace_back("Connection", "close");
  return res;
}

namespace {

// The byte of two hex digits at text[at], if they are two hex digits.
std::optional<char> HexByte(std::string_view text, size_t at) {
  if (at + 2 > text.size() || text[at] == '+' || text[at] == '-') return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 2, value, 16);
  if (ec != std::errc() || end != text.data() + at + 2) return std::nullopt;
  return static_cast<char>(value);
}

}  // namespace

std::string DecodeUrl(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::optional<char> byte;
    if (c == '%' && (byte = HexByte(text, i + 1))) {
      out += *byte;
      i += 2;
    } else if (plus_as_space && c == '+') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view kv = query.substr(start, end - start);
    const size_t eq = kv.find('=');
    const std::string_view key = kv.substr(0, eq);
    if (!key.empty()) {
      out.emplace_back(DecodeUrl(key, true), eq == std::string_view::npos ? "" : DecodeUrl(kv.substr(eq + 1), true));
    }
    start = end + 1;
  }
  return out;
}

HttpCore::HttpCore(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, alerts::AlertSink* alerts,
                   prometheus::Registry* registry, ServerCallbacks callbacks)
    : opts_(std::move(options)),
      live_(live),
      api_(ApiOptions{opts_.admin_token, ApiOptions().cache_bytes, opts_.max_sse_streams}, store, live, alerts, registry,
           std::move(callbacks)) {
  api_.set_sse_stream_counter([this] { return sse_active_.load(); });
  if (registry) {
    requests_ = &prometheus::BuildCounter()
                     .Name("wikistream_http_requests_total")
                     .Help("HTTP requests served, by route and status code")
                     .Register(*registry);
    sse_gauge_ = &prometheus::BuildGauge()
                      .Name("wikistream_http_sse_streams")
                      .Help("Open /api/live Server-Sent Events streams")
                      .Register(*registry)
                      .Add({});
    rejected_ = &prometheus::BuildCounter()
                     .Name("wikistream_http_rejected_connections_total")
                     .Help("Connections answered 503 because the server held as many as it may")
                     .Register(*registry)
                     .Add({});
  }
}

HttpCore::~HttpCore() { StopLive(); }

void HttpCore::Count(std::string_view path, int status) {
  if (!requests_) return;
  requests_->Add({{"route", api_.RouteLabel(path)}, {"code", std::to_string(status)}}).Increment();
}

void HttpCore::CountRejected() {
  if (rejected_) rejected_->Increment();
}

void HttpCore::Start() {
  ResolveWebRoot();
  if (!live_) return;
  ticker_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::milliseconds(std::max(10, opts_.sse_interval_ms)));
      if (stopping_) break;
      lock.unlock();
      live_->PublishSummary();
      lock.lock();
    }
  });
}

void HttpCore::StopLive() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_.exchange(true)) return;
  }
  stop_cv_.notify_all();
  if (ticker_thread_.joinable()) ticker_thread_.join();
  // Ends every stream: each answers its last chunk and the transport closes it.
  std::vector<std::shared_ptr<live::LiveSubscription>> subs;
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subs = subs_;
  }
  for (auto& s : subs) s->Close();
}

Reply HttpCore::Handle(ApiRequest req, const RequestInfo& info) {
  try {
    // A request-target is ASCII (RFC 9112 3.2, RFC 3986): clients send
    // other bytes percent-encoded; cpp-httplib accepts raw bytes >= 0x80 and
    // would route them. Answer a clear 400 instead of guessing an encoding.
    // Percent-encoded bytes (decoded into the path) still route.
    for (unsigned char c : info.target) {
      if (c >= 0x80) return {ErrorResponse(400, "bad request: the request target must be ASCII (percent-encode other bytes)")};
    }
    // Only the origin form ("/path?query") names a resource here; the
    // others ("?x", "*", "http://host/x") reached the static files with an
    // empty path and failed there.
    if (req.path.empty() || req.path.front() != '/') {
      return {ErrorResponse(400, "bad request: the request target must be a path starting with '/'")};
    }
    if (opts_.ops_only && req.path != "/metrics" && req.path != "/healthz" && req.path != "/readyz") {
      return {ErrorResponse(404, "not found: this process serves only /metrics, /healthz and /readyz")};
    }
    if (req.path == "/api/live" && req.method == "GET") return OpenLive();
    if (auto limited = AdminLimited(req, info.remote_addr)) return {std::move(*limited)};
    std::optional<ApiResponse> out = api_.Handle(req);
    if (out) return {std::move(*out)};
    if (req.method == "GET" || req.method == "HEAD") return {Static(req)};
    return {ErrorResponse(404, "not found")};
  } catch (const std::exception& e) {
    log::Error("http", "{} {}: {}", req.method, req.path, e.what());
  } catch (...) {
    log::Error("http", "{} {}: unknown exception", req.method, req.path);
  }
  return {ErrorResponse(500, "internal error")};
}

}  // namespace ws::serve
