#include "wikistream/serve/http_server.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/serve/analytics_store.h"

namespace ws::serve {

using alerts::AlertSink;
using format::Column;
using format::Field;
using format::RecordBatch;
using format::TypeId;
using model::Alert;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxStaticFileBytes = 16 << 20;
constexpr int kMaxDatesScanned = 7;  // ops/dq tables: newest partitions read for "latest" rows

// ----------------------------------------------------------------------------
// Responses

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Bodies can echo request bytes (the path of an unknown API route), which
  // need not be UTF-8: replace bad sequences (U+FFFD) instead of letting
  // dump() throw, which turned a 404 into a 500.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

std::string MimeType(const fs::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool IsInside(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

}  // namespace

Status ParseHttpAddress(const std::string& text, ServerOptions* options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--http must be HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--http port must be 0..65535, got '" + port + "'");
  }
  options->address = host;
  options->port = std::stoi(port);
  return Status::OK();
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
       prometheus::Registry* registry, ServerCallbacks callbacks)
      : opts_(std::move(options)),
        live_(live),
        api_(ApiOptions{opts_.admin_token, ApiOptions().cache_bytes, opts_.max_sse_streams}, store, live, alerts,
             registry, std::move(callbacks)) {
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
    }
  }

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_.load(); }
  std::string address() const { return opts_.address; }
  const Api& api() const { return api_; }

 private:
  void Routes();
  void Count(const httplib::Request& req, const httplib::Response& res);
  // Adapts a request to the API; static files when the API does not own the path.
  void Dispatch(const httplib::Request& req, httplib::Response& res);
  void Live(const httplib::Request& req, httplib::Response& res);
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

  fs::path web_root_;   // canonical, empty if unusable
  fs::path chart_js_;
};

Status HttpServer::Impl::Start() {
  if (started_.exchange(true)) return Status::InvalidArgument("server already started");
  std::error_code ec;
  if (!opts_.web_root.empty()) {
    web_root_ = fs::canonical(opts_.web_root, ec);
    if (ec || !fs::is_directory(web_root_)) {
      log::Warn("http", "web root {} is not a directory; the dashboard is not served", opts_.web_root);
      web_root_.clear();
    }
  }
  if (!opts_.chart_js_path.empty()) {
    chart_js_ = opts_.chart_js_path;
  } else if (!web_root_.empty()) {
    chart_js_ = web_root_ / "vendor" / "chart.umd.js";
    if (!fs::exists(chart_js_, ec)) chart_js_ = web_root_.parent_path() / "node_modules" / "chart.js" / "dist" / "chart.umd.js";
  }

  // Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, which would let
  // a second server share (and silently split) a port already in use.
  svr_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // SSE streams hold a worker each; size the pool so they cannot starve the API.
  const size_t threads = std::max<size_t>(2, opts_.worker_threads) + opts_.max_sse_streams;
  svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_.set_payload_max_length(opts_.max_body_bytes);
  svr_.set_read_timeout(5, 0);
  svr_.set_write_timeout(5, 0);
  svr_.set_keep_alive_timeout(1);
  svr_.set_keep_alive_max_count(100);
  Routes();

  int port = -1;
  if (opts_.port == 0) {
    port = svr_.bind_to_any_port(opts_.address);
  } else if (svr_.bind_to_port(opts_.address, opts_.port)) {
    port = opts_.port;
  }
  if (port <= 0) {
    return Status::IOError(fmt::format("cannot listen on {}:{} (address in use or not local)", opts_.address, opts_.port));
  }
  port_ = port;
  listen_thread_ = std::thread([this] { svr_.listen_after_bind(); });
  // Stop() only works once the accept loop runs; wait for it (bounded).
  for (int i = 0; i < 500 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (live_) {
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
  log::Info("http", "serving on http://{}:{}", opts_.address, port);
  return Status::OK();
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
  }
  stop_cv_.notify_all();
  if (ticker_thread_.joinable()) ticker_thread_.join();
  {
    // Ends every SSE stream: their providers wake up and finish the response.
    std::lock_guard<std::mutex> lock(subs_mu_);
    for (auto& s : subs_) s->Close();
  }
  svr_.stop();
  if (listen_thread_.joinable()) listen_thread_.join();
}

void HttpServer::Impl::Count(const httplib::Request& req, const httplib::Response& res) {
  if (!requests_) return;
  requests_->Add({{"route", api_.RouteLabel(req.path)}, {"code", std::to_string(res.status)}}).Increment();
}

void HttpServer::Impl::Routes() {
  auto wrap = [this](void (Impl::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) { (this->*fn)(req, res); };
  };
  svr_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    SetCommonHeaders(res);
    // A request-target is ASCII (RFC 9112 3.2, RFC 3986): clients send
    // other bytes percent-encoded. cpp-httplib 0.11 accepts raw bytes >= 0x80
    // and would route them; answer a clear 400 instead of guessing an
    // encoding. Percent-encoded bytes (decoded into req.path) still route.
    for (unsigned char c : req.target) {
      if (c >= 0x80) {
        SendError(res, 400, "bad request: the request target must be ASCII (percent-encode other bytes)");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr_.Get(R"(/.*)", wrap(&Impl::Dispatch));
  svr_.Post(R"(/.*)", wrap(&Impl::Dispatch));

  // Every error leaves as JSON: fill in bodies httplib produced itself (404
  // for unrouted paths/methods, 413, 400 for malformed requests).
  svr_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = res.status == 404 ? "not found"
                          : res.status == 413 ? "request body too large"
                          : res.status == 414 ? "request URI too long"
                          : res.status == 405 ? "method not allowed"
                          : res.status == 400 ? "bad request"
                                              : fmt::format("HTTP {}", res.status);
    res.set_content(json{{"error", message}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("http", "{} {}: {}", req.method, req.path, what);
    SendError(res, 500, "internal error");
  });
  // Counted before the response is written, not in the logger (which runs after
  // the bytes are sent): a client that has its response must find it counted.
  svr_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) { Count(req, res); });
  svr_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log::Debug("http", "{} {} {}", req.method, req.path, res.status);
  });
}

void HttpServer::Impl::Dispatch(const httplib::Request& req, httplib::Response& res) {
  if (req.path == "/api/live" && req.method == "GET") {
    Live(req, res);
    return;
  }
  ApiRequest in;
  in.method = req.method;
  in.path = req.path;
  for (const auto& [k, v] : req.params) in.query.emplace_back(k, v);
  in.if_none_match = req.get_header_value("If-None-Match");
  in.accept_encoding = req.get_header_value("Accept-Encoding");
  in.authorization = req.get_header_value("Authorization");
  in.body = req.body;
  std::optional<ApiResponse> out = api_.Handle(in);
  if (!out) {
    if (req.method == "GET" || req.method == "HEAD") {
      Static(req, res);
    } else {
      SendError(res, 404, "not found");
    }
    return;
  }
  res.status = out->status;
  for (auto& [k, v] : out->headers) res.set_header(k, v);
  if (out->body.empty()) {
    if (!out->content_type.empty()) res.set_header("Content-Type", out->content_type);
    return;
  }
  if (out->status >= 400) {
    // Errors are never compressed by the API; httplib's error handler only
    // fills in bodies that are empty.
    res.set_content(out->body, out->content_type);
    return;
  }
  // The API chose the encoding: a sized provider keeps httplib from
  // compressing the body again.
  auto body = std::make_shared<std::string>(std::move(out->body));
  res.set_content_provider(body->size(), out->content_type,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(body->data() + offset, length);
                           });
}

void HttpServer::Impl::Live(const httplib::Request& req, httplib::Response& res) {
  if (!live_) {
    SendError(res, 503, "the live path is not running");
    return;
  }
  if (stopping_) {
    SendError(res, 503, "shutting down");
    return;
  }
  if (sse_active_.fetch_add(1) >= opts_.max_sse_streams) {
    sse_active_.fetch_sub(1);
    res.set_header("Retry-After", "5");
    SendError(res, 503, fmt::format("too many live streams (limit {})", opts_.max_sse_streams));
    return;
  }
  if (sse_gauge_) sse_gauge_->Increment();
  auto sub = live_->Subscribe();
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    if (stopping_) sub->Close();
    subs_.push_back(sub);
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  auto first = std::make_shared<bool>(true);
  const auto keepalive = std::chrono::milliseconds(std::max(100, opts_.sse_keepalive_ms));
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, sub, first, keepalive](size_t, httplib::DataSink& sink) {
        auto send = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
        if (*first) {
          *first = false;
          // The current state at once, so a new client does not wait a tick.
          return send("retry: 3000\n\nevent: summary\ndata: " + live_->SnapshotJson() + "\n\n");
        }
        auto msg = sub->Next(keepalive);
        if (!msg) {
          if (sub->closed()) {
            send("event: bye\ndata: {}\n\n");
            sink.done();
            return true;
          }
          return send(": keepalive\n\n");
        }
        return send("event: " + msg->event + "\ndata: " + msg->data + "\n\n");
      },
      [this, sub](bool) {
        sub->Close();
        {
          std::lock_guard<std::mutex> lock(subs_mu_);
          subs_.erase(std::remove(subs_.begin(), subs_.end(), sub), subs_.end());
        }
        sse_active_.fetch_sub(1);
        if (sse_gauge_) sse_gauge_->Decrement();
      });
}

void HttpServer::Impl::Static(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;  // already percent-decoded by httplib
  fs::path file;
  if (path == "/assets/chart.umd.js") {
    file = chart_js_;
  } else {
    if (web_root_.empty()) {
      SendError(res, 404, "not found");
      return;
    }
    std::string rel = path == "/" ? "index.html" : path.substr(1);
    // Reject traversal before touching the file system; canonical() below
    // also catches symlinks that lead out of the root.
    bool bad = rel.empty() || rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos ||
               rel.front() == '/';
    for (size_t start = 0; !bad && start <= rel.size();) {
      size_t end = rel.find('/', start);
      if (end == std::string::npos) end = rel.size();
      std::string_view seg(rel.data() + start, end - start);
      if (seg == ".." || seg == "." || (seg.empty() && end != rel.size())) bad = true;
      start = end + 1;
    }
    if (bad) {
      SendError(res, 404, "not found");
      return;
    }
    std::error_code ec;
    file = fs::canonical(web_root_ / rel, ec);
    if (ec || !IsInside(web_root_, file)) {
      SendError(res, 404, "not found");
      return;
    }
  }
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxStaticFileBytes) {
    SendError(res, 404, "not found");
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) {
    SendError(res, 500, "cannot read file");
    return;
  }
  const std::string mime = MimeType(file);
  if (mime.rfind("text/html", 0) == 0) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
                   "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_content(content.str(), mime);
}

// ----------------------------------------------------------------------------

HttpServer::HttpServer(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
                       prometheus::Registry* registry, ServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), store, live, alerts, registry, std::move(callbacks))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port(); }
const Api& HttpServer::api() const { return impl_->api(); }
std::string HttpServer::url() const {
  const std::string host = impl_->address();
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port());
}

}  // namespace ws::serve
