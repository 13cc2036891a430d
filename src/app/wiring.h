// Helpers the subcommands share (private to app/).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "wikistream/common/result.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/serve/http_server.h"

namespace ws::app {

// Prints "wikistream: MESSAGE" (one line) to stderr and returns `code`.
int Fail(const std::string& message, int code = 1);
// 2 for a usage error (InvalidArgument), else 1.
int ExitCodeFor(const Status& s);
// --http, --admin-token and --web-root as the server's options; a bad
// address is InvalidArgument naming --http.
Result<serve::ServerOptions> ServerOptionsFor(const runtime::Config& config);

// The /metrics, /healthz and /readyz server of a role that is not the
// dashboard (bronze, produce, the batch loop), started on --http; null with
// --http off. Started before the role opens anything, so /readyz can say
// what it is still waiting for. `registry` and `probes` outlive it.
Result<std::unique_ptr<serve::HttpServer>> StartOpsServer(const runtime::Config& config, const char* role,
                                                          prometheus::Registry* registry,
                                                          const runtime::Probes& probes);

// Runs `fn` every second on a thread of its own until destroyed (then once
// more, so the last numbers are published).
class EverySecond {
 public:
  explicit EverySecond(std::function<void()> fn);
  ~EverySecond();
  EverySecond(const EverySecond&) = delete;
  EverySecond& operator=(const EverySecond&) = delete;

 private:
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace ws::app
