// The API's front door: routing, ETag/If-None-Match, the response cache and
// gzip. Resources live in api_<resource>.cc.
#include "wikistream/serve/api.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>

#include "api_internal.h"
#include "wikistream/common/logging.h"

namespace ws::serve {
namespace {

using api::json;

// A list of entity tags matches `etag` (weak comparison, RFC 9110 13.1.2).
bool TagMatches(std::string_view header, std::string_view etag) {
  auto strip = [](std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.rfind("W/", 0) == 0) t.remove_prefix(2);
    return t;
  };
  const std::string_view want = strip(etag);
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = strip(header.substr(start, end - start));
    if (tag == "*" || tag == want) return true;
    start = end + 1;
  }
  return false;
}

// gzip is acceptable unless absent or given q=0.
bool AcceptsGzip(std::string_view header) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding == "gzip" || coding == "x-gzip" || coding == "*") {
      if (semi == std::string_view::npos) return true;
      std::string_view q = item.substr(semi + 1);
      const size_t eq = q.find("q=");
      if (eq == std::string_view::npos) return true;
      q.remove_prefix(eq + 2);
      return !(q.rfind("0", 0) == 0 && q.find_first_not_of("0.", 0) == std::string_view::npos);
    }
    start = end + 1;
  }
  return false;
}

bool Compressible(const std::string& content_type) {
  return content_type.rfind("application/json", 0) == 0 || content_type.rfind("text/", 0) == 0;
}

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// A bounded LRU of finished responses, keyed by ETag and encoding.
class ResponseCache {
 public:
  explicit ResponseCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const ApiResponse> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  void Put(const std::string& key, std::shared_ptr<const ApiResponse> res) {
    const size_t size = Size(key, *res);
    if (size > max_bytes_ / 4) return;  // one response never takes most of the cache
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      bytes_ -= Size(key, *it->second->second);
      lru_.erase(it->second);
      index_.erase(it);
    }
    lru_.emplace_front(key, std::move(res));
    index_[key] = lru_.begin();
    bytes_ += size;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      auto& last = lru_.back();
      bytes_ -= Size(last.first, *last.second);
      index_.erase(last.first);
      lru_.pop_back();
    }
  }

 private:
  static size_t Size(const std::string& key, const ApiResponse& r) { return key.size() + r.body.size() + 256; }

  std::mutex mu_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::list<std::pair<std::string, std::shared_ptr<const ApiResponse>>> lru_;
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;
};

}  // namespace

struct Api::Impl {
  api::Context ctx;
  std::vector<api::RouteDef> defs;
  std::vector<Route> routes;
  std::unordered_map<std::string, size_t> by_path;  // path -> first def index
  std::string openapi;
  ResponseCache cache;

  explicit Impl(api::Context c) : ctx(std::move(c)), cache(ctx.options.cache_bytes) {}

  // The ETag of a request to an ETag route, from the tables' snapshot ids
  // and the request's parameters; nullopt when a snapshot id is unreadable.
  std::optional<std::string> ETag(const api::RouteDef& def, const ApiRequest& req) {
    if (!ctx.store) return std::nullopt;
    std::string key = def.path;
    std::vector<std::pair<std::string, std::string>> q;
    for (const auto& kv : req.query) {
      if (!kv.second.empty()) q.push_back(kv);
    }
    std::sort(q.begin(), q.end());
    for (const auto& [k, v] : q) key += "&" + k + "=" + v;
    for (const auto& table : def.tables) {
      auto id = ctx.store->SnapshotId(table);
      if (!id.ok()) return std::nullopt;
      key += fmt::format("|{}", *id);
    }
    if (def.etag_extra) key += "|" + def.etag_extra(ctx, req);
    return fmt::format("W/\"{:016x}{:08x}\"", Fnv1a(key), static_cast<uint32_t>(Fnv1a(key, 0x9e3779b97f4a7c15ULL)));
  }

  ApiResponse Finish(ApiResponse res, const api::RouteDef& def, bool gzip) {
    if (res.content_type.rfind("text/csv", 0) == 0) {
      std::string name = def.path.substr(def.path.rfind("/api/") == 0 ? 5 : 1);
      std::replace(name.begin(), name.end(), '/', '-');
      for (auto& [k, v] : res.headers) {
        if (k == "Content-Disposition") v = "attachment; filename=\"" + name + ".csv\"";
      }
    }
    if (Compressible(res.content_type)) res.headers.emplace_back("Vary", "Accept-Encoding");
    if (gzip && res.status == 200 && res.body.size() >= kGzipMinBytes && Compressible(res.content_type)) {
      std::string z = api::Gzip(res.body);
      if (!z.empty()) {
        res.body = std::move(z);
        res.headers.emplace_back("Content-Encoding", "gzip");
      }
    }
    return res;
  }
};

Api::Api(ApiOptions options, AnalyticsStore* store, live::LiveAggregator* live, alerts::AlertSink* alerts,
         prometheus::Registry* registry, ServerCallbacks callbacks) {
  api::Context ctx;
  ctx.options = std::move(options);
  ctx.store = store;
  ctx.live = live;
  ctx.alerts = alerts;
  ctx.registry = registry;
  ctx.callbacks = std::move(callbacks);
  impl_ = std::make_unique<Impl>(std::move(ctx));
  auto& defs = impl_->defs;
  api::AddSummaryRoutes(&defs);
  api::AddWikisRoutes(&defs);
  api::AddTrendingRoutes(&defs);
  api::AddContributorsRoutes(&defs);
  api::AddRiskRoutes(&defs);
  api::AddAlertsRoutes(&defs);
  api::AddQualityRoutes(&defs);
  api::AddPipelineRoutes(&defs);
  api::AddSystemRoutes(&defs);
  Impl* impl = impl_.get();
  api::RouteDef openapi;
  openapi.path = "/api/openapi.json";
  openapi.summary = "This document (OpenAPI 3.1)";
  openapi.response = {{"type", "object"}, {"required", json::array({"openapi", "info", "paths"})}};
  openapi.handler = [impl](api::Context&, const ApiRequest&) {
    ApiResponse res;
    res.body = impl->openapi;
    return res;
  };
  defs.push_back(openapi);
  for (size_t i = 0; i < defs.size(); ++i) {
    impl_->routes.push_back(Route{defs[i].method, defs[i].path, defs[i].stream});
    impl_->by_path.emplace(defs[i].path, i);
  }
  impl_->openapi = api::OpenApiDocument(defs).dump(1);
}

Api::~Api() = default;

const std::vector<Api::Route>& Api::routes() const { return impl_->routes; }

const std::string& Api::OpenApiJson() const { return impl_->openapi; }

void Api::set_sse_stream_counter(std::function<size_t()> counter) { impl_->ctx.sse_streams = std::move(counter); }

std::string Api::RouteLabel(std::string_view path) const {
  if (impl_->by_path.count(std::string(path))) return std::string(path);
  if (path.rfind("/api/", 0) == 0) return "/api/other";
  return "static";
}

std::optional<ApiResponse> Api::Handle(const ApiRequest& req) {
  auto it = impl_->by_path.find(req.path);
  if (it == impl_->by_path.end()) {
    if (req.path.rfind("/api/", 0) == 0 || req.path == "/api") {
      return api::ErrorResponse(404, "unknown API path " + req.path);
    }
    return std::nullopt;
  }
  const api::RouteDef* def = nullptr;
  for (size_t i = it->second; i < impl_->defs.size(); ++i) {
    if (impl_->defs[i].path == req.path && impl_->defs[i].method == req.method) {
      def = &impl_->defs[i];
      break;
    }
  }
  if (!def) return api::ErrorResponse(404, "not found");
  if (def->stream) return std::nullopt;
  const bool gzip = AcceptsGzip(req.accept_encoding);

  std::optional<std::string> etag;
  if (def->etag) etag = impl_->ETag(*def, req);
  if (etag) {
    if (!req.if_none_match.empty() && TagMatches(req.if_none_match, *etag)) {
      ApiResponse res;
      res.status = 304;
      res.content_type.clear();
      res.headers = {{"ETag", *etag}, {"Cache-Control", "no-cache"}, {"Vary", "Accept-Encoding"}};
      return res;
    }
    if (auto hit = impl_->cache.Get(*etag + (gzip ? "|gz" : ""))) return *hit;
  }

  ApiResponse res = def->handler(impl_->ctx, req);
  if (etag && res.status == 200) {
    res.headers.emplace_back("ETag", *etag);
    res.headers.emplace_back("Cache-Control", "no-cache");
  } else if (res.Header("Cache-Control").empty()) {
    res.headers.emplace_back("Cache-Control", "no-store");
  }
  res = impl_->Finish(std::move(res), *def, gzip);
  if (etag && res.status == 200) {
    impl_->cache.Put(*etag + (gzip ? "|gz" : ""), std::make_shared<const ApiResponse>(res));
  }
  return res;
}

}  // namespace ws::serve
