#include "wiring.h"

#include <cstdio>

#include "wikistream/common/logging.h"

namespace ws::app {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "wikistream: %s\n", message.c_str());
  return code;
}

int ExitCodeFor(const Status& s) { return s.code() == Status::Code::kInvalidArgument ? 2 : 1; }

Result<serve::ServerOptions> ServerOptionsFor(const runtime::Config& config) {
  serve::ServerOptions so;
  if (Status s = serve::ParseHttpAddress(config.http, &so); !s.ok()) {
    return Status::InvalidArgument("--http: " + s.message());
  }
  so.admin_token = config.admin_token;
  so.web_root = runtime::DefaultWebRoot(config);
  return so;
}

Result<std::unique_ptr<serve::HttpServer>> StartOpsServer(const runtime::Config& config, const char* role,
                                                          prometheus::Registry* registry,
                                                          const runtime::Probes& probes) {
  if (config.http == "off") return std::unique_ptr<serve::HttpServer>();
  WS_ASSIGN_OR_RETURN(serve::ServerOptions so, ServerOptionsFor(config));
  so.ops_only = true;
  so.worker_threads = 2;  // scrapes and probes only
  so.max_sse_streams = 0;
  auto server = std::make_unique<serve::HttpServer>(so, nullptr, nullptr, nullptr, registry, probes.Callbacks());
  if (Status s = server->Start(); !s.ok()) {
    return Status::Unavailable("cannot start HTTP server on " + config.http + ": " + s.message());
  }
  log::Info(role, "/metrics, /healthz and /readyz at {}", server->url());
  return server;
}

EverySecond::EverySecond(std::function<void()> fn) : fn_(std::move(fn)) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
      lock.unlock();
      fn_();
      lock.lock();
    }
  });
}

EverySecond::~EverySecond() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  fn_();
}

}  // namespace ws::app
