#include "testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace ws::testing {
namespace {

constexpr int kPollMs = 50;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads into *buf until it holds `n` bytes. False on EOF, error or stop.
bool FillTo(int fd, std::string* buf, size_t n, const std::atomic<bool>& stop) {
  char chunk[65536];
  while (buf->size() < n) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, kPollMs);
    if (stop.load()) return false;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) continue;
    ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    buf->append(chunk, static_cast<size_t>(got));
  }
  return true;
}

// Reads until *buf contains `marker`; returns the end of the marker or npos.
size_t FillUntil(int fd, std::string* buf, const char* marker, const std::atomic<bool>& stop) {
  size_t at;
  while ((at = buf->find(marker)) == std::string::npos) {
    if (!FillTo(fd, buf, buf->size() + 1, stop)) return std::string::npos;
  }
  return at + std::strlen(marker);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The value of header `name` (lower-case) in an HTTP head, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower = Lower(head);
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 2 + name.size() + 1;
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::string ErrorResponse(int status, const char* reason, const char* code, const char* message) {
  std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") + code +
                     "</Code><Message>" + message + "</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Reads one full response from the upstream: head and body, raw bytes.
// *body_start is where the body begins in the returned string.
bool ReadResponse(int fd, const std::string& method, std::string* out, size_t* body_start,
                  const std::atomic<bool>& stop) {
  size_t head_end = FillUntil(fd, out, "\r\n\r\n", stop);
  if (head_end == std::string::npos) return false;
  *body_start = head_end;
  std::string head = out->substr(0, head_end);
  int status = std::atoi(head.c_str() + head.find(' ') + 1);
  if (method == "HEAD" || status == 204 || status == 304 || status / 100 == 1) {
    out->resize(head_end);
    return true;
  }
  std::string length = HeaderValue(head, "content-length");
  if (!length.empty()) return FillTo(fd, out, head_end + std::stoull(length), stop);
  if (Lower(HeaderValue(head, "transfer-encoding")).find("chunked") != std::string::npos) {
    size_t pos = head_end;
    for (;;) {
      size_t line_end;
      while ((line_end = out->find("\r\n", pos)) == std::string::npos) {
        if (!FillTo(fd, out, out->size() + 1, stop)) return false;
      }
      size_t chunk = std::stoull(out->substr(pos, line_end - pos), nullptr, 16);
      size_t next = line_end + 2 + chunk + 2;
      if (!FillTo(fd, out, next, stop)) return false;
      pos = next;
      if (chunk == 0) return true;  // (trailers are not used by s3rver)
    }
  }
  // No framing: the body runs to the end of the connection.
  while (FillTo(fd, out, out->size() + 1, stop)) {
  }
  return true;
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
  ::close(listen_fd_);
}

void FaultProxy::Inject(Fault fault, int count, std::string method, std::string target_contains) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({fault, count, std::move(method), std::move(target_contains)});
}

void FaultProxy::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

void FaultProxy::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

void FaultProxy::SetStallTime(std::chrono::milliseconds t) {
  std::lock_guard<std::mutex> lock(mu_);
  stall_ = t;
}

std::vector<std::string> FaultProxy::request_log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

bool FaultProxy::NextFault(const std::string& method, const std::string& target, Fault* fault) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back(method + " " + target);
  for (Rule& r : rules_) {
    if (r.remaining == 0) continue;
    if (!r.method.empty() && r.method != method) continue;
    if (target.find(r.target_contains) == std::string::npos) continue;
    if (r.remaining > 0) r.remaining--;
    *fault = r.fault;
    return true;
  }
  return false;
}

void FaultProxy::AcceptLoop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connections_++;
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.insert(client);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void FaultProxy::Serve(int client) {
  std::string in;
  for (;;) {
    // One request: head, then a Content-Length body.
    size_t head_end = FillUntil(client, &in, "\r\n\r\n", stop_);
    if (head_end == std::string::npos) break;
    std::string head = in.substr(0, head_end);
    std::string length = HeaderValue(head, "content-length");
    size_t total = head_end + (length.empty() ? 0 : std::stoull(length));
    if (!FillTo(client, &in, total, stop_)) break;
    std::string request = in.substr(0, total);
    in.erase(0, total);
    size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    std::string method = head.substr(0, sp1);
    std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    requests_++;

    std::string range = HeaderValue(head, "range");
    Fault fault{};
    bool faulty = NextFault(method, target + (range.empty() ? "" : " range=" + range), &fault);
    std::chrono::milliseconds delay, stall;
    {
      std::lock_guard<std::mutex> lock(mu_);
      delay = delay_;
      stall = stall_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (faulty && fault == Fault::kPass) faulty = false;
    if (faulty) faults_++;
    bool keep_open = true;
    if (faulty && fault == Fault::kDrop) break;
    if (faulty && fault == Fault::kReset) {
      linger l{1, 0};
      ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      break;
    }
    if (faulty && fault == Fault::kSlowDown) {
      keep_open = WriteAll(client, ErrorResponse(503, "Slow Down", "SlowDown", "Please reduce your request rate."));
    } else if (faulty && fault == Fault::kPreconditionFailed) {
      keep_open = WriteAll(client, ErrorResponse(412, "Precondition Failed", "PreconditionFailed",
                                                 "At least one of the pre-conditions you specified did not hold"));
    } else if (faulty && fault == Fault::kInternalError) {
      keep_open = WriteAll(client, ErrorResponse(500, "Internal Server Error", "InternalError",
                                                 "We encountered an internal error. Please try again."));
    } else if (faulty && fault == Fault::kStall) {
      auto until = std::chrono::steady_clock::now() + stall;
      while (!stop_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      }
      break;
    } else {
      int up = ConnectLoopback(upstream_port_);
      if (up < 0) break;
      std::string response;
      size_t body_start = 0;
      bool got = WriteAll(up, request) && ReadResponse(up, method, &response, &body_start, stop_);
      ::close(up);
      if (!got) break;
      if (faulty && fault == Fault::kLoseAnswer) break;
      if (faulty && fault == Fault::kTruncateBody) {
        size_t body = response.size() - body_start;
        WriteAll(client, std::string_view(response).substr(0, body_start + body / 2));
        break;
      }
      keep_open = WriteAll(client, response) &&
                  Lower(HeaderValue(response.substr(0, body_start), "connection")) != "close";
    }
    if (!keep_open) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(client);
  }
  ::close(client);
}

}  // namespace ws::testing
