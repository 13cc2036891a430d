// FaultProxy: an HTTP/1.1 proxy on a free 127.0.0.1 port in front of one
// upstream server (an S3 server), which fails requests on command so tests
// can prove a client's retries: it drops connections, resets them, answers
// 503 SlowDown or 500 InternalError itself, truncates response bodies,
// stalls, lets the upstream apply a request and then loses the answer, and
// delays every request. Without rules it forwards faithfully, keeping the
// client's connection open between requests (one upstream connection per
// request). Runs on its own threads inside the test process; stops when
// the object dies. Bodies must be framed by Content-Length (requests) and
// Content-Length or chunked encoding (responses).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ws::testing {

class FaultProxy {
 public:
  enum class Fault {
    kPass,             // forward faithfully (a rule that only uses up a match, for sequencing)
    kDrop,             // read the request, close the connection without an answer
    kReset,            // read the request, reset the connection (RST)
    kSlowDown,         // answer 503 SlowDown without forwarding
    kInternalError,    // answer 500 InternalError without forwarding
    kTruncateBody,     // forward; send the headers and half the body, then close
    kStall,            // read the request, then say nothing for stall_time() and close
    kLoseAnswer,       // forward (the upstream applies it), then close without an answer
    kPreconditionFailed,  // answer 412 PreconditionFailed (a store honouring If-None-Match)
  };

  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `count` requests whose method equals `method` (empty = any) and
  // whose target contains `target_contains` get `fault`; count < 0: all of them.
  // Rules apply in the order given; a request matches at most one.
  void Inject(Fault fault, int count, std::string method = "", std::string target_contains = "");
  void Clear();
  void SetDelay(std::chrono::milliseconds delay);  // before forwarding every request
  void SetStallTime(std::chrono::milliseconds t);

  int64_t requests() const { return requests_.load(); }
  int64_t faults() const { return faults_.load(); }
  int64_t connections() const { return connections_.load(); }
  // "METHOD target" of every request seen, in order, with " range=bytes=a-b"
  // appended when the request has a Range header.
  std::vector<std::string> request_log() const;

 private:
  struct Rule {
    Fault fault;
    int remaining;
    std::string method;
    std::string target_contains;
  };

  void AcceptLoop();
  void Serve(int client);
  bool NextFault(const std::string& method, const std::string& target, Fault* fault);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<Rule> rules_;
  std::vector<std::thread> workers_;
  std::set<int> open_fds_;
  std::vector<std::string> log_;
  std::chrono::milliseconds delay_{0};
  std::chrono::milliseconds stall_{5000};
  std::atomic<int64_t> requests_{0}, faults_{0}, connections_{0};
};

}  // namespace ws::testing
