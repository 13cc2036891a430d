// The Boost.Beast/Asio transport: a few io threads serve every connection,
// so idle, half-sent and trickling clients cost a socket and a little memory
// instead of a thread. Each connection is a Session on its own strand:
//   wait for the first bytes of a request (keep-alive wait, 1 s) ->
//   read the head, then the body, each within idle_timeout_ms (a deadline
//   for the whole head, so a client sending a byte now and then is cut) ->
//   HttpCore::Handle on the handler pool (worker_threads; admin callbacks and
//   cold warehouse reads may block, the io threads never do) ->
//   write (5 s deadline) -> again, or close.
// /api/live streams are Sessions too: the subscription wakes the session
// (LiveStream::set_on_ready), which pulls at most two chunks ahead of the
// socket; a reader that stops reading overflows its subscription and gets
// its last chunk, or is cut by the write deadline. Never a thread per stream.
#include <fmt/format.h>

#include <array>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <optional>
#include <unordered_map>

#include "http_core.h"
#include "wikistream/common/logging.h"

namespace ws::serve {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kKeepAliveWait{1000};  // between requests (as cpp-httplib's keep-alive timeout)
constexpr milliseconds kWriteTimeout{5000};
constexpr milliseconds kLingerTimeout{1000};  // reading what a client still sends after our last response
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kMaxRejecting = 64;  // connections being answered 503 at once; beyond, closed at once

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

class BeastTransport;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, BeastTransport* transport, bool reject);
  ~Session();
  void Run();
  // On the strand: finish the current exchange, then close.
  void Shutdown();
  // On the strand: close now.
  void Close();
  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kWaiting, kReading, kHandling, kWriting, kLive, kLingering, kClosed };

  void WaitForRequest();
  void ReadHead();
  void OnHead(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void FailRead(beast::error_code ec);
  void Dispatch();
  void Respond(Reply reply, bool head);
  template <class Body>
  void Write(std::shared_ptr<http::response<Body>> res);
  void Linger();

  void StartLive(Reply reply);
  void Pump();
  void Queue(LiveStream::Chunk chunk);
  void WriteNext();
  void ArmKeepalive();
  void WatchPeer();

  beast::tcp_stream stream_;
  BeastTransport* t_;
  const bool reject_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kWaiting;
  bool shutdown_ = false;
  // The request's HTTP version, answered in kind: an HTTP/1.0 client gets
  // "Connection: keep-alive" when it asked for it, and a live stream without
  // the chunked coding it does not know (ended by closing instead).
  unsigned version_ = 11;

  // One piece of the live response on its way out: head, *data (shared
  // between streams, never copied), tail.
  struct Out {
    std::string head;
    std::shared_ptr<const std::string> data;
    std::string tail;
    std::array<net::const_buffer, 3> buffers() const {
      return {net::buffer(head), data ? net::buffer(*data) : net::const_buffer(), net::buffer(tail)};
    }
  };
  std::shared_ptr<LiveStream> live_;
  // Set while a Pump is posted and not yet run: a burst of messages wakes
  // the strand once.
  std::atomic<bool> pump_posted_{false};
  std::deque<Out> out_;
  bool writing_ = false;
  bool last_queued_ = false;
  net::steady_timer keepalive_;
  std::array<char, 512> discard_{};
};

class BeastTransport : public Transport {
 public:
  explicit BeastTransport(HttpCore* core) : core_(core), opts_(core->options()) {}
  ~BeastTransport() override { Stop(); }

  Status Start() override;
  void Stop() override;
  int port() const override { return port_.load(); }

  HttpCore* core() { return core_; }
  const ServerOptions& opts() const { return opts_; }
  net::thread_pool& handlers() { return *handlers_; }
  bool stopping() const { return stopping_.load(); }
  void Register(const std::shared_ptr<Session>& s) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_[s.get()] = s;
  }
  void Unregister(Session* s, bool rejecting) {
    (rejecting ? rejecting_ : open_).fetch_sub(1);
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.erase(s);
    sessions_cv_.notify_all();
  }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Posts fn to every open session's strand.
  void ForEachSession(const std::function<void(Session&)>& fn);
  bool WaitSessionsGone(milliseconds limit);

  HttpCore* core_;
  const ServerOptions& opts_;
  // Declared before the io_context: sessions it still holds when destroyed
  // unregister themselves.
  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::atomic<size_t> open_{0};
  std::atomic<size_t> rejecting_{0};

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::strand<net::io_context::executor_type> accept_strand_{ioc_.get_executor()};
  tcp::acceptor acceptor_{accept_strand_};
  net::steady_timer accept_retry_{accept_strand_};
  std::optional<net::thread_pool> handlers_;
  std::vector<std::thread> io_threads_;
  std::atomic<int> port_{-1};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
};

// ---------------------------------------------------------------------------
// Session

Session::Session(tcp::socket&& socket, BeastTransport* transport, bool reject)
    : stream_(std::move(socket)), t_(transport), reject_(reject), keepalive_(stream_.get_executor()) {
  beast::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string();
}

Session::~Session() {
  // The stream's slot goes back before the transport forgets the session.
  live_.reset();
  t_->Unregister(this, reject_);
}

void Session::Run() {
  t_->Register(shared_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->reject_) {
      self->t_->core()->CountRejected();
      self->Respond(Reply{BusyResponse()}, false);
    } else if (self->t_->stopping()) {
      self->Close();
    } else {
      self->WaitForRequest();
    }
  });
}

void Session::Shutdown() {
  shutdown_ = true;
  if (state_ == State::kWaiting || state_ == State::kReading || state_ == State::kLingering) Close();
  // kHandling/kWriting: closes after the response; kLive: the stream's last
  // chunk (StopLive) closes it.
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  keepalive_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  // The live slot is free as soon as the connection is.
  live_.reset();
}

void Session::WaitForRequest() {
  if (shutdown_) return Close();
  state_ = State::kWaiting;
  if (buffer_.size() > 0) return ReadHead();  // pipelined: the next request is here
  // The first bytes may take the keep-alive wait; the rest of the head then
  // has idle_timeout_ms (ReadHead).
  stream_.expires_after(std::min(kKeepAliveWait, milliseconds(std::max(1, t_->opts().idle_timeout_ms))));
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
    if (ec) return self->Close();
    self->buffer_.commit(n);
    self->ReadHead();
  });
}

void Session::ReadHead() {
  state_ = State::kReading;
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(t_->opts().max_body_bytes);
  stream_.expires_after(milliseconds(std::max(1, t_->opts().idle_timeout_ms)));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
}

void Session::OnHead(beast::error_code ec) {
  if (ec) return FailRead(ec);
  if (parser_->is_done()) return Dispatch();
  if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    // The client (curl, for bodies over 1 KiB) waits for this before it
    // sends the body.
    auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *go_on, [self = shared_from_this(), go_on](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->ReadBody();
    });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  // The body has a deadline of its own.
  stream_.expires_after(milliseconds(std::max(1, t_->opts().idle_timeout_ms)));
  http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) return FailRead(ec);
  Dispatch();
}

void Session::FailRead(beast::error_code ec) {
  // Timeouts, resets and a peer that left mid-request end the connection
  // silently; a malformed or oversized request gets a JSON error.
  const bool parse_error = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                           ec != http::error::end_of_stream && ec != http::error::partial_message;
  if (!parse_error || shutdown_) return Close();
  const int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
  shutdown_ = true;  // the stream's framing is lost: answer and close
  Respond(Reply{ErrorResponse(status, TransportErrorMessage(status))}, false);
}

void Session::Dispatch() {
  state_ = State::kHandling;
  stream_.expires_never();
  auto& msg = parser_->get();
  const bool head = msg.method() == http::verb::head;
  const std::string_view target(msg.target().data(), msg.target().size());
  const size_t q = target.find('?');
  ApiRequest in;
  in.method = Str(msg.method_string());
  in.path = DecodeUrl(target.substr(0, q), false);
  if (q != std::string_view::npos) in.query = ParseQuery(target.substr(q + 1));
  in.if_none_match = Str(msg[http::field::if_none_match]);
  in.accept_encoding = Str(msg[http::field::accept_encoding]);
  in.authorization = Str(msg[http::field::authorization]);
  in.body = std::move(msg.body());
  if (!msg.keep_alive()) shutdown_ = true;
  version_ = msg.version() < 11 ? 10 : 11;
  const bool known = msg.method() == http::verb::get || head || msg.method() == http::verb::post;
  // Handlers may block (admin callbacks, a cold warehouse read): they run on
  // the handler pool and the answer comes back to this strand. Running them
  // on the io threads was ~25% faster on cached answers (docs/measurements.md)
  // but would let one slow read hold back every connection of that thread.
  auto task = [self = shared_from_this(), in = std::move(in), target = std::string(target), head, known]() mutable {
    const std::string path = in.path;
    Reply reply = known ? self->t_->core()->Handle(std::move(in), RequestInfo{target, self->remote_})
                        : Reply{ErrorResponse(404, TransportErrorMessage(404))};
    if (known) self->t_->core()->Count(path, reply.response.status);
    net::post(self->executor(), [self, reply = std::move(reply), head]() mutable { self->Respond(std::move(reply), head); });
  };
  net::post(t_->handlers(), std::move(task));
}

void Session::Respond(Reply reply, bool head) {
  if (state_ == State::kClosed) return;
  if (reply.live) return StartLive(std::move(reply));
  ApiResponse& out = reply.response;
  bool keep_alive = !shutdown_ && !reject_ && !t_->stopping();
  auto fill = [&](auto& res) {
    for (const auto& [k, v] : kCommonHeaders) res.set(k, v);
    for (const auto& [k, v] : out.headers) {
      if (beast::iequals(k, "Connection")) {
        if (beast::iequals(v, "close")) keep_alive = false;
        continue;
      }
      res.insert(k, v);
    }
    if (!out.content_type.empty()) res.set(http::field::content_type, out.content_type);
    res.keep_alive(keep_alive);
  };
  const auto status = static_cast<http::status>(out.status);
  if (head) {
    auto res = std::make_shared<http::response<http::empty_body>>(status, version_);
    fill(*res);
    res->content_length(out.body.size());
    return Write(std::move(res));
  }
  auto res = std::make_shared<http::response<http::string_body>>(status, version_);
  fill(*res);
  res->body() = std::move(out.body);
  res->prepare_payload();
  Write(std::move(res));
}

template <class Body>
void Session::Write(std::shared_ptr<http::response<Body>> res) {
  state_ = State::kWriting;
  stream_.expires_after(kWriteTimeout);
  http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    if (!res->keep_alive()) return self->Linger();
    self->WaitForRequest();
  });
}

// After the last response: stop sending and read (and drop) what the client
// still sends until it closes, so closing never resets the connection under
// a response the client has not read yet.
void Session::Linger() {
  if (state_ == State::kClosed) return;
  if (state_ != State::kLingering) {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTimeout);
  }
  stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    self->Linger();
  });
}

// --- /api/live

void Session::StartLive(Reply reply) {
  state_ = State::kLive;
  live_ = std::move(reply.live);
  std::string head = version_ == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  for (const auto& [k, v] : kCommonHeaders) head += fmt::format("{}: {}\r\n", k, v);
  for (const auto& [k, v] : reply.response.headers) head += fmt::format("{}: {}\r\n", k, v);
  head += fmt::format("Content-Type: {}\r\n{}\r\n", reply.response.content_type,
                      version_ == 10 ? "Connection: close\r\n" : "Transfer-Encoding: chunked\r\n");
  out_.push_back(Out{std::move(head), nullptr, {}});
  Queue(live_->First());
  std::weak_ptr<Session> weak = shared_from_this();
  live_->set_on_ready([weak] {
    auto self = weak.lock();
    if (!self || self->pump_posted_.exchange(true)) return;
    net::post(self->executor(), [self] { self->Pump(); });
  });
  WatchPeer();
  WriteNext();
  Pump();  // a message may have come before the wake-up was set
}

void Session::Pump() {
  pump_posted_ = false;  // before reading: a message pushed from now on posts again
  if (state_ != State::kLive || !live_) return;
  // At most two chunks ahead of the socket: the rest waits in the bounded
  // subscription, which ends the stream of a reader that stopped reading.
  while (!last_queued_ && out_.size() < 2) {
    std::optional<LiveStream::Chunk> chunk = live_->Next(milliseconds(0));
    if (!chunk) break;
    Queue(std::move(*chunk));
  }
  WriteNext();
}

// Frames one chunk of the chunked transfer coding around the SSE text
// (HTTP/1.0: the text as is).
void Session::Queue(LiveStream::Chunk chunk) {
  if (version_ == 10) {
    last_queued_ = last_queued_ || chunk.last;
    out_.push_back(Out{std::move(chunk.head), std::move(chunk.data), std::string(chunk.tail)});
    return;
  }
  const size_t size = chunk.head.size() + (chunk.data ? chunk.data->size() : 0) + chunk.tail.size();
  Out out{fmt::format("{:x}\r\n{}", size, chunk.head), std::move(chunk.data), fmt::format("{}\r\n", chunk.tail)};
  if (chunk.last) {
    out.tail += "0\r\n\r\n";
    last_queued_ = true;
  }
  out_.push_back(std::move(out));
}

void Session::WriteNext() {
  if (writing_ || out_.empty() || state_ != State::kLive) return;
  writing_ = true;
  stream_.expires_after(kWriteTimeout);
  net::async_write(stream_, out_.front().buffers(), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    if (ec) return self->Close();
    self->out_.pop_front();
    if (self->out_.empty() && self->last_queued_) return self->Close();
    self->ArmKeepalive();
    self->Pump();
  });
}

void Session::ArmKeepalive() {
  if (last_queued_ || !live_) return;
  keepalive_.expires_after(live_->keepalive());
  keepalive_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->state_ != State::kLive || self->writing_ || !self->out_.empty()) return;
    self->Queue(LiveStream::Chunk{std::string(LiveStream::Keepalive())});
    self->WriteNext();
  });
}

// A live client sends nothing after its request: a read that completes
// means it left (or broke the protocol), and its slot is freed at once.
// On the socket itself, outside the stream's write deadline.
void Session::WatchPeer() {
  stream_.socket().async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    self->WatchPeer();
  });
}

// ---------------------------------------------------------------------------
// BeastTransport

Status BeastTransport::Start() {
  if (started_.exchange(true)) return Status::InvalidArgument("server already started");
  const auto fail = [this](const std::string& why) {
    return Status::IOError(fmt::format("cannot listen on {}:{} (address in use or not local): {}", opts_.address,
                                       opts_.port, why));
  };
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(opts_.address, std::to_string(opts_.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) return fail(ec ? ec.message() : "no address");
  const tcp::endpoint ep = endpoints.begin()->endpoint();
  acceptor_.open(ep.protocol(), ec);
  // Only SO_REUSEADDR (not SO_REUSEPORT): a second server must fail to
  // bind a port in use, not silently split its connections.
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(SOMAXCONN, ec);
  if (ec) return fail(ec.message());
  port_ = acceptor_.local_endpoint().port();

  handlers_.emplace(std::max<size_t>(1, opts_.worker_threads));
  work_.emplace(ioc_.get_executor());
  size_t n = opts_.io_threads ? opts_.io_threads : std::thread::hardware_concurrency();
  n = std::max<size_t>(1, n);
  for (size_t i = 0; i < n; ++i) io_threads_.emplace_back([this] { ioc_.run(); });
  net::dispatch(accept_strand_, [this] { Accept(); });
  return Status::OK();
}

void BeastTransport::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void BeastTransport::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping_ || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors (EMFILE) or an aborted handshake: try again shortly
    // rather than spin.
    log::Warn("http", "accept failed: {}", ec.message());
    accept_retry_.expires_after(milliseconds(50));
    accept_retry_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping_) Accept();
    });
    return;
  }
  // The bound is enforced here: beyond it the connection is answered 503
  // with Retry-After and closed (by a few rejecting sessions; past those,
  // closed at once), never left to hang.
  if (open_.fetch_add(1) < opts_.max_connections) {
    std::make_shared<Session>(std::move(socket), this, false)->Run();
  } else {
    open_.fetch_sub(1);
    if (rejecting_.fetch_add(1) < kMaxRejecting) {
      std::make_shared<Session>(std::move(socket), this, true)->Run();
    } else {
      rejecting_.fetch_sub(1);
      core_->CountRejected();
      beast::error_code close_ec;
      socket.close(close_ec);
    }
  }
  Accept();
}

void BeastTransport::ForEachSession(const std::function<void(Session&)>& fn) {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    for (auto& [p, w] : sessions_) {
      if (auto s = w.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) net::post(s->executor(), [s, fn] { fn(*s); });
}

bool BeastTransport::WaitSessionsGone(milliseconds limit) {
  std::unique_lock<std::mutex> lock(sessions_mu_);
  return sessions_cv_.wait_for(lock, limit, [this] { return sessions_.empty(); });
}

void BeastTransport::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  net::post(accept_strand_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
  });
  // Idle connections close now; answers in progress are finished, live
  // streams send their last chunk (HttpCore::StopLive ran before this).
  ForEachSession([](Session& s) { s.Shutdown(); });
  if (!WaitSessionsGone(milliseconds(2000))) {
    // Readers that do not read (their last chunk stuck behind a full socket).
    ForEachSession([](Session& s) { s.Close(); });
    WaitSessionsGone(milliseconds(1000));
  }
  if (handlers_) handlers_->join();
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
}

}  // namespace

std::unique_ptr<Transport> MakeBeastTransport(HttpCore* core) { return std::make_unique<BeastTransport>(core); }

}  // namespace ws::serve
