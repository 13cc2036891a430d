// Api: the HTTP API as plain functions from a request value to a response
// value, independent of the transport that carries them (reference:
// docs/serving.md "API reference").
//
// Contract:
// - Handle(request) answers every API route of routes() (JSON, or CSV with
//   format=csv) and returns nullopt for a path it does not own (the
//   transport then serves static files or 404). Streaming routes
//   (routes()[i].stream, i.e. GET /api/live) are described here but carried
//   by the transport.
// - Handle is thread-safe and never throws for bad input: a parameter that
//   breaks its rule is 400 {"error": "..."} (one line); an unknown method on
//   a known path, or an unknown /api/ path, is 404.
// - Responses of routes that read only warehouse tables carry an ETag
//   derived from the snapshot ids of the tables they read and the request;
//   If-None-Match with that tag answers 304 with no body. They are kept in a
//   bounded cache keyed by that tag, so a repeated request reads nothing.
// - With "gzip" in Accept-Encoding, bodies of at least kGzipMinBytes are
//   gzip-compressed (Content-Encoding: gzip, Vary: Accept-Encoding). The
//   transport must send the body as is (not compress it again).
// - The live snapshot (/api/live/snapshot, and the first message of each
//   /api/live stream) may be up to kLiveSnapshotMaxAge old: one snapshot
//   build serves every client asking within that time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"

namespace prometheus {
class Registry;
}

namespace ws {
namespace alerts {
class AlertSink;
}
namespace live {
class LiveAggregator;
}
}  // namespace ws

namespace ws::serve {

class AnalyticsStore;

struct ApiRequest {
  std::string method = "GET";
  std::string path;  // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in request order
  // The headers the API looks at (empty = absent).
  std::string if_none_match;
  std::string accept_encoding;
  std::string authorization;
  std::string body;

  // The first value of `name`, nullopt when absent. An empty value counts
  // as absent, so HTML forms can send every field.
  std::optional<std::string> Param(std::string_view name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;

  std::string Header(std::string_view name) const;  // "" when absent
};

// The server's callbacks into the app (health, admin tasks, pipeline state).
struct ServerCallbacks {
  // POST /api/admin/batch and /api/admin/maintain: run (or trigger) the work
  // and return a JSON object text describing the outcome. May block.
  std::function<Result<std::string>()> run_batch;
  std::function<Result<std::string>()> run_maintain;
  // /healthz and /readyz: not OK -> 503 with the message. Unset = OK.
  std::function<Status()> health;
  std::function<Status()> ready;
  // Extra JSON object merged into /api/pipeline as "status" (ingest loop,
  // supervisor, scheduler state). Unset = null.
  std::function<std::string()> pipeline_status;
};

struct ApiOptions {
  std::string admin_token;  // "" = admin endpoints always 401
  size_t cache_bytes = 32 << 20;  // response cache bound
  size_t max_sse_streams = 16;    // documented in /api/pipeline's live section
};

inline constexpr size_t kGzipMinBytes = 1024;
inline constexpr std::chrono::milliseconds kLiveSnapshotMaxAge{100};

class Api {
 public:
  struct Route {
    std::string method;  // GET or POST
    std::string path;    // exact path
    bool stream = false;  // carried by the transport (SSE)
  };

  // Any pointer may be null: the related routes answer with empty data (or 503).
  Api(ApiOptions options, AnalyticsStore* store, live::LiveAggregator* live, alerts::AlertSink* alerts,
      prometheus::Registry* registry, ServerCallbacks callbacks);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  std::optional<ApiResponse> Handle(const ApiRequest& request);

  const std::vector<Route>& routes() const;
  // The route label of a path for metrics: the route's path, "/api/other"
  // for other /api/ paths, "static" otherwise.
  std::string RouteLabel(std::string_view path) const;
  // The OpenAPI 3.1 document (also served at /api/openapi.json).
  const std::string& OpenApiJson() const;

  // Open live streams (the transport counts them; /api/pipeline reports it).
  void set_sse_stream_counter(std::function<size_t()> counter);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::serve
