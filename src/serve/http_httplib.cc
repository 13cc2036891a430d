// The cpp-httplib transport: a thread per connection (ConnectionPool,
// http_connections.cc). Every GET and POST goes to HttpCore::Handle; the
// error handler keeps httplib's own errors JSON.
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http_internal.h"
#include "wikistream/common/logging.h"

namespace ws::serve {

namespace {

class HttplibTransport : public Transport {
 public:
  explicit HttplibTransport(HttpCore* core) : core_(core), opts_(core->options()) {}
  ~HttplibTransport() override { Stop(); }

  Status Start() override;
  void Stop() override;
  int port() const override { return port_.load(); }

 private:
  void Routes();
  void Dispatch(const httplib::Request& req, httplib::Response& res);
  void Stream(const std::shared_ptr<LiveStream>& live, httplib::Response& res);

  HttpCore* core_;
  const ServerOptions& opts_;
  httplib::Server svr_;
  std::thread listen_thread_;
  std::atomic<int> port_{-1};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

void Apply(const ApiResponse& out, httplib::Response& res) {
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k, v);
  if (out.body.empty()) {
    if (!out.content_type.empty()) res.set_header("Content-Type", out.content_type);
    return;
  }
  if (out.status >= 400) {
    // Errors are never compressed by the API; httplib's error handler only
    // fills in bodies that are empty.
    res.set_content(out.body, out.content_type);
    return;
  }
  // The API chose the encoding: a sized provider keeps httplib from
  // compressing the body again.
  auto body = std::make_shared<std::string>(out.body);
  res.set_content_provider(body->size(), out.content_type,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(body->data() + offset, length);
                           });
}

void HttplibTransport::Routes() {
  svr_.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    for (const auto& [k, v] : kCommonHeaders) res.set_header(k, v);
    if (OnRejectingWorker()) {
      Apply(BusyResponse(), res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res); };
  svr_.Get(R"(/.*)", dispatch);
  svr_.Post(R"(/.*)", dispatch);

  // Every error leaves as JSON: fill in bodies httplib produced itself (404
  // for unrouted paths/methods, 413, 400 for malformed requests).
  svr_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    res.set_content(ErrorResponse(res.status, TransportErrorMessage(res.status)).body, "application/json");
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
    Apply(ErrorResponse(500, "internal error"), res);
  });
  // Counted before the response is written, not in the logger (which runs after
  // the bytes are sent): a client that has its response must find it counted.
  svr_.set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { core_->Count(req.path, res.status); });
  svr_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log::Debug("http", "{} {} {}", req.method, req.path, res.status);
  });
}

void HttplibTransport::Dispatch(const httplib::Request& req, httplib::Response& res) {
  ApiRequest in;
  in.method = req.method;
  in.path = req.path;
  for (const auto& [k, v] : req.params) in.query.emplace_back(k, v);
  in.if_none_match = req.get_header_value("If-None-Match");
  in.accept_encoding = req.get_header_value("Accept-Encoding");
  in.authorization = req.get_header_value("Authorization");
  in.body = req.body;
  Reply reply = core_->Handle(std::move(in), RequestInfo{req.target, req.remote_addr});
  if (reply.live) {
    for (const auto& [k, v] : reply.response.headers) res.set_header(k, v);
    Stream(reply.live, res);
    return;
  }
  Apply(reply.response, res);
}

// The stream holds this connection's worker thread, which waits for the
// next message in LiveStream::Next.
void HttplibTransport::Stream(const std::shared_ptr<LiveStream>& live, httplib::Response& res) {
  auto first = std::make_shared<bool>(true);
  res.set_chunked_content_provider(
      "text/event-stream",
      [live, first](size_t, httplib::DataSink& sink) {
        auto send = [&sink](std::string_view text) { return sink.write(text.data(), text.size()); };
        std::optional<LiveStream::Chunk> chunk;
        if (*first) {
          *first = false;
          chunk = live->First();
        } else {
          chunk = live->Next(live->keepalive());
        }
        if (!chunk) return send(LiveStream::Keepalive());
        const bool ok = send(chunk->Text());
        if (chunk->last) sink.done();
        return ok;
      },
      // The provider (and with it the last reference to the stream, which
      // frees its slot) goes with the response; closing here ends it early.
      [live](bool) { live->Close(); });
}

Status HttplibTransport::Start() {
  if (started_.exchange(true)) return Status::InvalidArgument("server already started");
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
    return new ConnectionPool(threads, opts_.max_queued_connections, [this] { core_->CountRejected(); });
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
  return Status::OK();
}

void HttplibTransport::Stop() {
  if (!started_ || stopped_.exchange(true)) return;
  svr_.stop();
  if (listen_thread_.joinable()) listen_thread_.join();
}

}  // namespace

std::unique_ptr<Transport> MakeHttplibTransport(HttpCore* core) { return std::make_unique<HttplibTransport>(core); }

}  // namespace ws::serve
