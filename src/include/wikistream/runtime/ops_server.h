// The HTTP server options every role takes from the configuration, and the
// small /metrics, /healthz and /readyz server of the roles that are not the
// dashboard (bronze, produce, the `batch --every` loop; docs/operations.md,
// "Health, readiness and metrics").
//
// Contract:
// - ServerOptionsFor(): --http, --admin-token and --web-root as the server's
//   options; a bad address is InvalidArgument naming --http.
// - StartOpsServer(): started on --http, null with --http off; a server
//   that cannot start is Unavailable naming the address. A role starts it
//   before it opens anything, so /readyz can say what it still waits for.
//   `registry` and `probes` must outlive the server.
#pragma once

#include <memory>

#include "wikistream/common/result.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/serve/http_server.h"

namespace ws::runtime {

Result<serve::ServerOptions> ServerOptionsFor(const Config& config);

Result<std::unique_ptr<serve::HttpServer>> StartOpsServer(const Config& config, const char* role,
                                                          prometheus::Registry* registry, const Probes& probes);

}  // namespace ws::runtime
