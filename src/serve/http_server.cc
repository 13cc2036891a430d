// HttpServer's lifecycle: options, listening, the live ticker and an
// orderly stop. The other concerns live beside it (http_internal.h).
#include "wikistream/serve/http_server.h"

#include <prometheus/registry.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve {

using alerts::AlertSink;

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

HttpServer::Impl::Impl(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
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
                     .Help("Connections answered 503 because every worker was busy")
                     .Register(*registry)
                     .Add({});
  }
}

Status HttpServer::Impl::Start() {
  if (started_.exchange(true)) return Status::InvalidArgument("server already started");
  ResolveWebRoot();

  // Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, which would let
  // a second server share (and silently split) a port already in use.
  int listen_fd = -1;
  svr_.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  // Without TCP_NODELAY every response on a keep-alive connection waits
  // for the client's delayed ACK (~40 ms): 23 requests/s on one connection.
  svr_.set_tcp_nodelay(true);
  // SSE streams hold a worker each; size the pool so they cannot starve the API.
  const size_t threads = std::max<size_t>(2, opts_.worker_threads) + opts_.max_sse_streams;
  svr_.new_task_queue = [this, threads] {
    return new ConnectionPool(threads, opts_.max_queued_connections, [this] {
      if (rejected_) rejected_->Increment();
    });
  };
  svr_.set_payload_max_length(opts_.max_body_bytes);
  const int idle_ms = std::max(1, opts_.idle_timeout_ms);
  svr_.set_read_timeout(idle_ms / 1000, (idle_ms % 1000) * 1000);
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
  // cpp-httplib listens with a backlog of 5: a burst of clients (a page's
  // assets, a reconnect wave of live viewers) overflows it and each
  // overflowing client waits a 1 s SYN retransmit. listen() again sets the
  // backlog of the same socket.
  if (listen_fd >= 0 && ::listen(listen_fd, SOMAXCONN) != 0) {
    log::Warn("http", "cannot raise the listen backlog: {}", std::strerror(errno));
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
