// Operations: /healthz, /readyz, /metrics, the live snapshot (and the
// description of the /api/live stream, which the transport carries), and
// the two admin tasks.
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "api_internal.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve::api {
namespace {

ApiResponse Probe(const std::function<Status()>& fn) {
  Status st = fn ? fn() : Status::OK();
  if (st.ok()) return JsonResponse(200, json{{"status", "ok"}});
  return JsonResponse(503, json{{"status", "unavailable"}, {"error", st.message()}});
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
  }
  return diff == 0;
}

ApiResponse Admin(Context& ctx, const ApiRequest& req, const std::function<Result<std::string>()>& fn) {
  auto respond = [](ApiResponse res) {
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"wikistream\"");
    return res;
  };
  if (ctx.options.admin_token.empty()) {
    return respond(ErrorResponse(401, "admin endpoints are disabled: no admin token is configured"));
  }
  const std::string& auth = req.authorization;
  const std::string prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0 ||
      !ConstantTimeEquals(auth.substr(prefix.size()), ctx.options.admin_token)) {
    return respond(ErrorResponse(401, auth.empty() ? "missing bearer token" : "wrong bearer token"));
  }
  if (!fn) return respond(ErrorResponse(503, "this process does not run that task"));
  Result<std::string> r = fn();
  if (!r.ok()) return respond(ErrorResponse(500, r.status().ToString()));
  json body = json::parse(*r, nullptr, false);
  if (body.is_discarded() || !body.is_object()) body = json{{"result", *r}};
  return respond(JsonResponse(200, body));
}

// The live path's series, caught up at scrape time (the aggregator has no
// Prometheus dependency).
struct LiveMetrics {
  std::mutex mu;
  prometheus::Counter* rows = nullptr;
  prometheus::Family<prometheus::Counter>* alerts = nullptr;
  uint64_t rows_reported = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> alerts_reported;
};

ApiResponse Metrics(Context& ctx, LiveMetrics& m) {
  if (ctx.registry && ctx.live) {
    std::lock_guard<std::mutex> lock(m.mu);
    if (!m.rows) {
      m.rows = &prometheus::BuildCounter()
                    .Name("wikistream_live_observed_rows_total")
                    .Help("Accepted rows fed to the live aggregator")
                    .Register(*ctx.registry)
                    .Add({});
      m.alerts = &prometheus::BuildCounter()
                      .Name("wikistream_alerts_raised_total")
                      .Help("Alerts raised (risk, dq, pipeline, ingest) by kind and severity")
                      .Register(*ctx.registry);
    }
    const uint64_t observed = ctx.live->observed_rows();
    m.rows->Increment(static_cast<double>(observed - m.rows_reported));
    m.rows_reported = observed;
    // Every alert reaches the aggregator (the app wires AlertSink's listener
    // to OnAlert), so it counts them for this series.
    for (const auto& [key, n] : ctx.live->AlertCounts()) {
      uint64_t& reported = m.alerts_reported[key];
      m.alerts->Add({{"kind", key.first}, {"severity", key.second}}).Increment(static_cast<double>(n - reported));
      reported = n;
    }
  }
  ApiResponse res;
  if (ctx.registry) res.body = prometheus::TextSerializer().Serialize(ctx.registry->Collect());
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return res;
}

json StatusSchema() {
  return ObjectSchema({{"status", {{"type", "string"}, {"enum", {"ok", "unavailable"}}}}, {"error", {{"type", "string"}}}},
                      {"status"});
}

}  // namespace

void AddSystemRoutes(std::vector<RouteDef>* routes) {
  RouteDef live;
  live.path = "/api/live";
  live.summary = "Server-Sent Events: a live `summary` every second and each `alert` as it is raised";
  live.description =
      "On connect: `retry: 3000` and one summary at once; `: keepalive` after 15 s of silence; `event: bye` when "
      "the server stops. Each data line is one JSON document (the live state, or an alert). 503 with "
      "Retry-After beyond the stream limit.";
  live.stream = true;
  routes->push_back(live);

  RouteDef snapshot;
  snapshot.path = "/api/live/snapshot";
  snapshot.summary = "The live state as one JSON document";
  snapshot.response = ObjectSchema({{"now", {{"type", "string"}}},
                                    {"events_per_second", {{"type", "number"}}},
                                    {"last_minute", {{"type", "object"}}},
                                    {"last_hour", {{"type", "object"}}},
                                    {"trending", {{"type", "array"}}},
                                    {"today", {{"type", "object"}}},
                                    {"risk", {{"type", "array"}}},
                                    {"alerts", {{"type", "array"}}}},
                                   {"now", "events_per_second", "last_minute", "last_hour", "trending", "today"});
  snapshot.handler = [](Context& ctx, const ApiRequest&) {
    if (!ctx.live) return ErrorResponse(503, "the live path is not running");
    ApiResponse res;
    res.body = *ctx.live->RecentSnapshotJson(kLiveSnapshotMaxAge);
    return res;
  };
  routes->push_back(snapshot);

  auto metrics_state = std::make_shared<LiveMetrics>();
  RouteDef metrics;
  metrics.path = "/metrics";
  metrics.summary = "Prometheus text format 0.0.4";
  metrics.content_type = "text/plain; version=0.0.4";
  metrics.handler = [metrics_state](Context& ctx, const ApiRequest&) { return Metrics(ctx, *metrics_state); };
  routes->push_back(metrics);

  RouteDef health;
  health.path = "/healthz";
  health.summary = "Liveness: the process runs and its supervisor has not given up";
  health.response = StatusSchema();
  health.handler = [](Context& ctx, const ApiRequest&) { return Probe(ctx.callbacks.health); };
  routes->push_back(health);

  RouteDef ready;
  ready.path = "/readyz";
  ready.summary = "Readiness: the warehouse is open and ingest runs";
  ready.response = StatusSchema();
  ready.handler = [](Context& ctx, const ApiRequest&) { return Probe(ctx.callbacks.ready); };
  routes->push_back(ready);

  RouteDef batch;
  batch.method = "POST";
  batch.path = "/api/admin/batch";
  batch.summary = "Run one batch cycle (bearer token)";
  batch.admin = true;
  batch.response = {{"type", "object"}};
  batch.handler = [](Context& ctx, const ApiRequest& req) { return Admin(ctx, req, ctx.callbacks.run_batch); };
  routes->push_back(batch);

  RouteDef maintain = batch;
  maintain.path = "/api/admin/maintain";
  maintain.summary = "Run table maintenance (bearer token)";
  maintain.handler = [](Context& ctx, const ApiRequest& req) { return Admin(ctx, req, ctx.callbacks.run_maintain); };
  routes->push_back(maintain);
}

}  // namespace ws::serve::api
