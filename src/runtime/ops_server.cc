#include "wikistream/runtime/ops_server.h"

#include "wikistream/common/logging.h"

namespace ws::runtime {

Result<serve::ServerOptions> ServerOptionsFor(const Config& config) {
  serve::ServerOptions so;
  if (Status s = serve::ParseHttpAddress(config.http, &so); !s.ok()) {
    return Status::InvalidArgument("--http: " + s.message());
  }
  Result<serve::HttpTransport> transport = serve::ParseHttpTransport(config.http_transport);
  if (!transport.ok()) return transport.status();
  so.transport = *transport;
  so.admin_token = config.admin_token;
  so.web_root = DefaultWebRoot(config);
  return so;
}

Result<std::unique_ptr<serve::HttpServer>> StartOpsServer(const Config& config, const char* role,
                                                          prometheus::Registry* registry, const Probes& probes) {
  if (config.http == "off") return std::unique_ptr<serve::HttpServer>();
  WS_ASSIGN_OR_RETURN(serve::ServerOptions so, ServerOptionsFor(config));
  so.ops_only = true;
  so.worker_threads = 2;  // scrapes and probes only
  so.io_threads = 1;      // a few requests a second; the role's own work has the cores
  so.max_sse_streams = 0;
  auto server = std::make_unique<serve::HttpServer>(so, nullptr, nullptr, nullptr, registry, probes.Callbacks());
  if (Status s = server->Start(); !s.ok()) {
    return Status::Unavailable("cannot start HTTP server on " + config.http + ": " + s.message());
  }
  log::Info(role, "/metrics, /healthz and /readyz at {}", server->url());
  return server;
}

}  // namespace ws::runtime
