#include "wikistream/serve/http_server.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/serve/analytics_store.h"

namespace ws::serve {

using alerts::AlertSink;
using format::Column;
using format::Field;
using format::RecordBatch;
using format::TypeId;
using model::Alert;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxStaticFileBytes = 16 << 20;
constexpr int kMaxDatesScanned = 7;  // ops/dq tables: newest partitions read for "latest" rows

// ----------------------------------------------------------------------------
// Responses

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Bodies can echo request bytes (the path of an unknown API route), which
  // need not be UTF-8: replace bad sequences (U+FFFD) instead of letting
  // dump() throw, which turned a 404 into a 500.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

// ----------------------------------------------------------------------------
// Parameters. An empty value ("date=") counts as absent, so forms can send
// every field.

struct BadParam {
  std::string message;
};

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  std::string v = req.get_param_value(name);
  if (v.empty()) return std::nullopt;
  return v;
}

bool IsValidDate(const std::string& v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (v[i] < '0' || v[i] > '9') return false;
  }
  auto micros = ParseDateMicros(v);
  return micros && FormatDate(*micros) == v;
}

std::optional<std::string> DateParam(const httplib::Request& req, std::optional<BadParam>* bad) {
  auto v = Param(req, "date");
  if (v && !IsValidDate(*v)) *bad = BadParam{"date must be a valid YYYY-MM-DD date"};
  return v;
}

std::optional<int> IntParam(const httplib::Request& req, const char* name, int lo, int hi,
                            std::optional<BadParam>* bad) {
  auto v = Param(req, name);
  if (!v) return std::nullopt;
  bool digits = v->size() <= 6 && std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
  int n = digits ? std::stoi(*v) : -1;
  if (!digits || n < lo || n > hi) {
    *bad = BadParam{fmt::format("{} must be an integer {}..{}", name, lo, hi)};
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> DomainParam(const httplib::Request& req, std::optional<BadParam>* bad) {
  auto v = Param(req, "domain");
  if (!v) return v;
  bool ok = v->size() <= 253 && std::all_of(v->begin(), v->end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
            });
  if (!ok) *bad = BadParam{"domain must be a host name such as en.wikipedia.org"};
  return v;
}

std::optional<std::string> LevelParam(const httplib::Request& req, std::optional<BadParam>* bad) {
  auto v = Param(req, "level");
  if (!v) return v;
  std::string up = *v;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up != "LOW" && up != "MEDIUM" && up != "HIGH") *bad = BadParam{"level must be LOW, MEDIUM or HIGH"};
  return up;
}

// ----------------------------------------------------------------------------
// Rows

json CellJson(const Field& field, const Column& col, size_t r) {
  if (col.IsNull(r)) return nullptr;
  switch (col.type()) {
    case TypeId::kBoolean: return col.GetBool(r);
    case TypeId::kInt32: return col.GetInt32(r);
    case TypeId::kInt64: return col.GetInt64(r);
    case TypeId::kDouble: return col.GetDouble(r);
    case TypeId::kTimestampTz: return FormatIso8601(col.GetInt64(r));
    case TypeId::kBinary: return nullptr;  // payloads are not served
    case TypeId::kString: {
      std::string_view s = col.GetString(r);
      // JSON-text columns are served as objects for API consumers.
      if (field.name == "evidence" || field.name == "details") {
        json parsed = json::parse(s, nullptr, false);
        if (!parsed.is_discarded()) return parsed;
      }
      return std::string(s);
    }
  }
  return nullptr;
}

json RowJson(const RecordBatch& b, size_t r) {
  json o = json::object();
  for (size_t c = 0; c < b.num_columns(); ++c) {
    const Field& f = b.schema()->field(c);
    if (f.name == "schema_version") continue;
    o[f.name] = CellJson(f, b.column(c), r);
  }
  return o;
}

// Typed accessors by column name that tolerate a missing column (null).
struct RowView {
  const RecordBatch& b;
  int Index(std::string_view name) const { return b.schema() ? b.schema()->FieldIndex(name) : -1; }
  std::optional<std::string> Str(std::string_view name, size_t r) const {
    int i = Index(name);
    if (i < 0 || b.column(i).IsNull(r)) return std::nullopt;
    return std::string(b.column(i).GetString(r));
  }
  std::optional<double> Num(std::string_view name, size_t r) const {
    int i = Index(name);
    if (i < 0 || b.column(i).IsNull(r)) return std::nullopt;
    const Column& c = b.column(i);
    switch (c.type()) {
      case TypeId::kInt32: return c.GetInt32(r);
      case TypeId::kInt64: case TypeId::kTimestampTz: return static_cast<double>(c.GetInt64(r));
      case TypeId::kDouble: return c.GetDouble(r);
      case TypeId::kBoolean: return c.GetBool(r) ? 1 : 0;
      default: return std::nullopt;
    }
  }
};

std::string MimeType(const fs::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool IsInside(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
  return diff == 0;
}

std::string RouteLabel(const std::string& path) {
  static const std::set<std::string> kRoutes = {
      "/api/summary", "/api/hourly", "/api/trending", "/api/contributors", "/api/risk", "/api/alerts",
      "/api/dq", "/api/pipeline", "/api/live", "/api/live/snapshot", "/api/admin/batch", "/api/admin/maintain",
      "/metrics", "/healthz", "/readyz"};
  if (kRoutes.count(path)) return path;
  if (path.rfind("/api/", 0) == 0) return "/api/other";
  return "static";
}

}  // namespace

Status ParseHttpAddress(const std::string& text, ServerOptions* options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--http must be HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--http port must be 0..65535, got '" + port + "'");
  }
  options->address = host;
  options->port = std::stoi(port);
  return Status::OK();
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
       prometheus::Registry* registry, ServerCallbacks callbacks)
      : opts_(std::move(options)), store_(store), live_(live), alerts_(alerts), registry_(registry),
        cb_(std::move(callbacks)) {
    if (registry_) {
      requests_ = &prometheus::BuildCounter()
                       .Name("wikistream_http_requests_total")
                       .Help("HTTP requests served, by route and status code")
                       .Register(*registry_);
      sse_family_ = &prometheus::BuildGauge()
                         .Name("wikistream_http_sse_streams")
                         .Help("Open /api/live Server-Sent Events streams")
                         .Register(*registry_);
      sse_gauge_ = &sse_family_->Add({});
      if (live_) {
        live_rows_ = &prometheus::BuildCounter()
                          .Name("wikistream_live_observed_rows_total")
                          .Help("Accepted rows fed to the live aggregator")
                          .Register(*registry_)
                          .Add({});
        alerts_raised_ = &prometheus::BuildCounter()
                              .Name("wikistream_alerts_raised_total")
                              .Help("Alerts raised (risk, dq, pipeline, ingest) by kind and severity")
                              .Register(*registry_);
      }
    }
  }

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_.load(); }
  std::string address() const { return opts_.address; }

 private:
  void Routes();
  void Count(const httplib::Request& req, const httplib::Response& res);

  // Reads the rows of `table` for `date` (NotFound -> empty batch).
  Result<RecordBatch> Rows(const std::string& table, const std::optional<std::string>& date);
  // The requested date, else the newest date with data (nullopt if none).
  Result<std::optional<std::string>> ResolveDate(const std::string& table, const std::optional<std::string>& date,
                                                 std::vector<std::string>* all_dates = nullptr);
  // The newest rows of a date-partitioned log table (ops, dq): the newest
  // partitions until at least `limit` rows, at most kMaxDatesScanned.
  Result<RecordBatch> Latest(const std::string& table, size_t limit);

  void Summary(const httplib::Request& req, httplib::Response& res);
  void Hourly(const httplib::Request& req, httplib::Response& res);
  void Trending(const httplib::Request& req, httplib::Response& res);
  void Contributors(const httplib::Request& req, httplib::Response& res);
  void Risk(const httplib::Request& req, httplib::Response& res);
  void Alerts(const httplib::Request& req, httplib::Response& res);
  void Dq(const httplib::Request& req, httplib::Response& res);
  void Pipeline(const httplib::Request& req, httplib::Response& res);
  void Live(const httplib::Request& req, httplib::Response& res);
  void Metrics(const httplib::Request& req, httplib::Response& res);
  void Admin(const httplib::Request& req, httplib::Response& res, const std::function<Result<std::string>()>& fn);
  void Static(const httplib::Request& req, httplib::Response& res);

  ServerOptions opts_;
  AnalyticsStore* store_;
  live::LiveAggregator* live_;
  AlertSink* alerts_;
  prometheus::Registry* registry_;
  ServerCallbacks cb_;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Gauge>* sse_family_ = nullptr;
  prometheus::Gauge* sse_gauge_ = nullptr;
  prometheus::Counter* live_rows_ = nullptr;
  std::mutex live_rows_mu_;
  uint64_t live_rows_reported_ = 0;
  prometheus::Family<prometheus::Counter>* alerts_raised_ = nullptr;
  std::map<std::pair<std::string, std::string>, uint64_t> alerts_reported_;

  httplib::Server svr_;
  std::thread listen_thread_;
  std::thread ticker_thread_;
  std::atomic<int> port_{-1};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  std::atomic<size_t> sse_active_{0};
  std::mutex subs_mu_;
  std::vector<std::shared_ptr<live::LiveSubscription>> subs_;

  fs::path web_root_;   // canonical, empty if unusable
  fs::path chart_js_;
};

Status HttpServer::Impl::Start() {
  if (started_.exchange(true)) return Status::InvalidArgument("server already started");
  std::error_code ec;
  if (!opts_.web_root.empty()) {
    web_root_ = fs::canonical(opts_.web_root, ec);
    if (ec || !fs::is_directory(web_root_)) {
      log::Warn("http", "web root {} is not a directory; the dashboard is not served", opts_.web_root);
      web_root_.clear();
    }
  }
  if (!opts_.chart_js_path.empty()) {
    chart_js_ = opts_.chart_js_path;
  } else if (!web_root_.empty()) {
    chart_js_ = web_root_ / "vendor" / "chart.umd.js";
    if (!fs::exists(chart_js_, ec)) chart_js_ = web_root_.parent_path() / "node_modules" / "chart.js" / "dist" / "chart.umd.js";
  }

  // Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, which would let
  // a second server share (and silently split) a port already in use.
  svr_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // SSE streams hold a worker each; size the pool so they cannot starve the API.
  const size_t threads = std::max<size_t>(2, opts_.worker_threads) + opts_.max_sse_streams;
  svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_.set_payload_max_length(opts_.max_body_bytes);
  svr_.set_read_timeout(5, 0);
  svr_.set_write_timeout(5, 0);
  svr_.set_keep_alive_timeout(1);
  svr_.set_keep_alive_max_count(100);
  Routes();

  int port = -1;
  if (opts_.port == 0) {
    port = svr_.bind_to_any_port(opts_.address);
  } else if (svr_.bind_to_port(opts_.address, opts_.port)) {
    port = opts_.port;
  }
  if (port <= 0) {
    return Status::IOError(fmt::format("cannot listen on {}:{} (address in use or not local)", opts_.address, opts_.port));
  }
  port_ = port;
  listen_thread_ = std::thread([this] { svr_.listen_after_bind(); });
  // Stop() only works once the accept loop runs; wait for it (bounded).
  for (int i = 0; i < 500 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (live_) {
    ticker_thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(stop_mu_);
      while (!stopping_) {
        stop_cv_.wait_for(lock, std::chrono::milliseconds(std::max(10, opts_.sse_interval_ms)));
        if (stopping_) break;
        lock.unlock();
        live_->PublishSummary();
        lock.lock();
      }
    });
  }
  log::Info("http", "serving on http://{}:{}", opts_.address, port);
  return Status::OK();
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
  }
  stop_cv_.notify_all();
  if (ticker_thread_.joinable()) ticker_thread_.join();
  {
    // Ends every SSE stream: their providers wake up and finish the response.
    std::lock_guard<std::mutex> lock(subs_mu_);
    for (auto& s : subs_) s->Close();
  }
  svr_.stop();
  if (listen_thread_.joinable()) listen_thread_.join();
}

void HttpServer::Impl::Count(const httplib::Request& req, const httplib::Response& res) {
  if (!requests_) return;
  requests_->Add({{"route", RouteLabel(req.path)}, {"code", std::to_string(res.status)}}).Increment();
}

void HttpServer::Impl::Routes() {
  auto wrap = [this](void (Impl::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) { (this->*fn)(req, res); };
  };
  svr_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    SetCommonHeaders(res);
    // A request-target is ASCII (RFC 9112 3.2, RFC 3986): clients send
    // other bytes percent-encoded. cpp-httplib 0.11 accepts raw bytes >= 0x80
    // and would route them; answer a clear 400 instead of guessing an
    // encoding. Percent-encoded bytes (decoded into req.path) still route.
    for (unsigned char c : req.target) {
      if (c >= 0x80) {
        SendError(res, 400, "bad request: the request target must be ASCII (percent-encode other bytes)");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr_.Get("/api/summary", wrap(&Impl::Summary));
  svr_.Get("/api/hourly", wrap(&Impl::Hourly));
  svr_.Get("/api/trending", wrap(&Impl::Trending));
  svr_.Get("/api/contributors", wrap(&Impl::Contributors));
  svr_.Get("/api/risk", wrap(&Impl::Risk));
  svr_.Get("/api/alerts", wrap(&Impl::Alerts));
  svr_.Get("/api/dq", wrap(&Impl::Dq));
  svr_.Get("/api/pipeline", wrap(&Impl::Pipeline));
  svr_.Get("/api/live", wrap(&Impl::Live));
  svr_.Get("/api/live/snapshot", [this](const httplib::Request&, httplib::Response& res) {
    if (!live_) {
      SendError(res, 503, "the live path is not running");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(live_->SnapshotJson(), "application/json");
  });
  svr_.Get("/metrics", wrap(&Impl::Metrics));
  auto probe = [](const std::function<Status()>& fn, httplib::Response& res) {
    Status st = fn ? fn() : Status::OK();
    if (st.ok()) {
      SendJson(res, 200, json{{"status", "ok"}});
    } else {
      SendJson(res, 503, json{{"status", "unavailable"}, {"error", st.message()}});
    }
  };
  svr_.Get("/healthz", [this, probe](const httplib::Request&, httplib::Response& res) { probe(cb_.health, res); });
  svr_.Get("/readyz", [this, probe](const httplib::Request&, httplib::Response& res) { probe(cb_.ready, res); });
  svr_.Post("/api/admin/batch", [this](const httplib::Request& req, httplib::Response& res) { Admin(req, res, cb_.run_batch); });
  svr_.Post("/api/admin/maintain", [this](const httplib::Request& req, httplib::Response& res) { Admin(req, res, cb_.run_maintain); });
  svr_.Get(R"(/.*)", wrap(&Impl::Static));

  // Every error leaves as JSON: fill in bodies httplib produced itself (404
  // for unrouted paths/methods, 413, 400 for malformed requests).
  svr_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = res.status == 404 ? "not found"
                          : res.status == 413 ? "request body too large"
                          : res.status == 414 ? "request URI too long"
                          : res.status == 405 ? "method not allowed"
                          : res.status == 400 ? "bad request"
                                              : fmt::format("HTTP {}", res.status);
    res.set_content(json{{"error", message}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("http", "{} {}: {}", req.method, req.path, what);
    SendError(res, 500, "internal error");
  });
  // Counted before the response is written, not in the logger (which runs after
  // the bytes are sent): a client that has its response must find it counted.
  svr_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) { Count(req, res); });
  svr_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log::Debug("http", "{} {} {}", req.method, req.path, res.status);
  });
}

// ----------------------------------------------------------------------------
// Data access

Result<RecordBatch> HttpServer::Impl::Rows(const std::string& table, const std::optional<std::string>& date) {
  if (!store_) return RecordBatch();
  auto rows = store_->ReadTable(table, date);
  if (!rows.ok() && rows.status().IsNotFound()) return RecordBatch();
  return rows;
}

Result<std::optional<std::string>> HttpServer::Impl::ResolveDate(const std::string& table,
                                                                 const std::optional<std::string>& date,
                                                                 std::vector<std::string>* all_dates) {
  if (!store_) return std::optional<std::string>();
  if (date && !all_dates) return date;
  auto dates = store_->Dates(table);
  if (!dates.ok()) {
    if (dates.status().IsNotFound()) return date;
    return dates.status();
  }
  if (all_dates) *all_dates = *dates;
  if (date) return date;
  if (dates->empty()) return std::optional<std::string>();
  return std::optional<std::string>(dates->back());
}

Result<RecordBatch> HttpServer::Impl::Latest(const std::string& table, size_t limit) {
  if (!store_) return RecordBatch();
  auto dates = store_->Dates(table);
  if (!dates.ok()) {
    if (dates.status().IsNotFound()) return RecordBatch();
    return dates.status();
  }
  RecordBatch out;
  int scanned = 0;
  for (auto it = dates->rbegin(); it != dates->rend() && scanned < kMaxDatesScanned; ++it, ++scanned) {
    WS_ASSIGN_OR_RETURN(RecordBatch part, Rows(table, *it));
    if (!part.schema()) continue;
    if (!out.schema()) {
      out = std::move(part);
    } else if (out.schema()->Equals(*part.schema())) {
      out.Append(part);
    } else {
      break;  // an older schema: the newest partitions are enough
    }
    if (out.num_rows() >= limit) break;
  }
  return out;
}

// Sorted, filtered row indexes -> {"rows": [...]}.
template <typename Keep, typename Less>
json SelectRows(const RecordBatch& b, Keep keep, Less less, size_t limit) {
  std::vector<size_t> idx;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    if (keep(r)) idx.push_back(r);
  }
  std::stable_sort(idx.begin(), idx.end(), less);
  json rows = json::array();
  for (size_t i = 0; i < idx.size() && i < limit; ++i) rows.push_back(RowJson(b, idx[i]));
  return rows;
}

#define WS_HTTP_PARAMS_OK(bad)            \
  if (bad) {                              \
    SendError(res, 400, (bad)->message);  \
    return;                               \
  }

#define WS_HTTP_ASSIGN(lhs, expr)                                          \
  auto WS_CONCAT(_r_, __LINE__) = (expr);                                  \
  if (!WS_CONCAT(_r_, __LINE__).ok()) {                                    \
    log::Error("http", "{}: {}", req.path, WS_CONCAT(_r_, __LINE__).status().ToString()); \
    SendError(res, 500, WS_CONCAT(_r_, __LINE__).status().ToString());    \
    return;                                                                \
  }                                                                        \
  lhs = std::move(WS_CONCAT(_r_, __LINE__)).value()

json DateJson(const std::optional<std::string>& d) { return d ? json(*d) : json(nullptr); }

void HttpServer::Impl::Summary(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto date_param = DateParam(req, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const std::string table = "gold.daily_analytics_summary";
  std::vector<std::string> dates;
  WS_HTTP_ASSIGN(auto date, ResolveDate(table, date_param, &dates));
  json summary = nullptr;
  if (date) {
    WS_HTTP_ASSIGN(RecordBatch rows, Rows(table, date));
    if (rows.num_rows() > 0) summary = RowJson(rows, 0);
  }
  SendJson(res, 200, json{{"date", DateJson(date)}, {"dates", dates}, {"summary", summary}});
}

void HttpServer::Impl::Hourly(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto date_param = DateParam(req, &bad);
  auto domain = DomainParam(req, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const std::string table = "gold.hourly_stats";
  WS_HTTP_ASSIGN(auto date, ResolveDate(table, date_param));
  RecordBatch rows;
  if (date) {
    WS_HTTP_ASSIGN(rows, Rows(table, date));
  }
  RowView v{rows};
  std::set<std::string> domains;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (auto d = v.Str("domain", r)) domains.insert(*d);
  }
  json out_rows = SelectRows(
      rows, [&](size_t r) { return !domain || v.Str("domain", r) == domain; },
      [&](size_t a, size_t b) {
        auto ha = v.Num("stat_hour", a), hb = v.Num("stat_hour", b);
        if (ha != hb) return ha < hb;
        return v.Str("domain", a) < v.Str("domain", b);
      },
      SIZE_MAX);
  SendJson(res, 200, json{{"date", DateJson(date)}, {"domain", DateJson(domain)}, {"domains", domains}, {"rows", out_rows}});
}

void HttpServer::Impl::Trending(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto date_param = DateParam(req, &bad);
  auto hour_param = IntParam(req, "hour", 0, 23, &bad);
  auto domain = DomainParam(req, &bad);
  auto limit = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const std::string table = "gold.trending_pages";
  WS_HTTP_ASSIGN(auto date, ResolveDate(table, date_param));
  RecordBatch rows;
  if (date) {
    WS_HTTP_ASSIGN(rows, Rows(table, date));
  }
  RowView v{rows};
  auto in_domain = [&](size_t r) { return !domain || v.Str("domain", r) == domain; };
  // No hour: the newest hour with data.
  std::optional<int> hour = hour_param;
  if (!hour) {
    for (size_t r = 0; r < rows.num_rows(); ++r) {
      auto h = v.Num("stat_hour", r);
      if (h && in_domain(r) && (!hour || *h > *hour)) hour = static_cast<int>(*h);
    }
  }
  json out_rows = SelectRows(
      rows, [&](size_t r) { return in_domain(r) && hour && v.Num("stat_hour", r) == static_cast<double>(*hour); },
      [&](size_t a, size_t b) {
        auto sa = v.Num("trend_score", a), sb = v.Num("trend_score", b);
        if (sa != sb) return sa > sb;
        auto ea = v.Num("edits", a), eb = v.Num("edits", b);
        if (ea != eb) return ea > eb;
        auto ta = v.Str("title", a), tb = v.Str("title", b);
        if (ta != tb) return ta < tb;
        return v.Str("domain", a) < v.Str("domain", b);
      },
      static_cast<size_t>(limit.value_or(20)));
  SendJson(res, 200,
           json{{"date", DateJson(date)}, {"hour", hour ? json(*hour) : json(nullptr)}, {"domain", DateJson(domain)}, {"rows", out_rows}});
}

void HttpServer::Impl::Contributors(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto date_param = DateParam(req, &bad);
  auto domain = DomainParam(req, &bad);
  auto limit = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const std::string table = "gold.top_contributors";
  WS_HTTP_ASSIGN(auto date, ResolveDate(table, date_param));
  RecordBatch rows;
  if (date) {
    WS_HTTP_ASSIGN(rows, Rows(table, date));
  }
  RowView v{rows};
  json out_rows = SelectRows(
      rows, [&](size_t r) { return !domain || v.Str("domain", r) == domain; },
      [&](size_t a, size_t b) {
        auto ea = v.Num("edits", a), eb = v.Num("edits", b);
        if (ea != eb) return ea > eb;
        auto ba = v.Num("bytes_added", a), bb = v.Num("bytes_added", b);
        if (ba != bb) return ba > bb;
        auto ua = v.Str("user_normalized", a), ub = v.Str("user_normalized", b);
        if (ua != ub) return ua < ub;
        return v.Str("domain", a) < v.Str("domain", b);
      },
      static_cast<size_t>(limit.value_or(50)));
  SendJson(res, 200, json{{"date", DateJson(date)}, {"domain", DateJson(domain)}, {"rows", out_rows}});
}

void HttpServer::Impl::Risk(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto date_param = DateParam(req, &bad);
  auto level = LevelParam(req, &bad);
  auto limit = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const std::string table = "gold.risk_scores";
  WS_HTTP_ASSIGN(auto date, ResolveDate(table, date_param));
  RecordBatch rows;
  if (date) {
    WS_HTTP_ASSIGN(rows, Rows(table, date));
  }
  RowView v{rows};
  json counts = {{"HIGH", 0}, {"MEDIUM", 0}, {"LOW", 0}};
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    auto l = v.Str("risk_level", r);
    if (l && counts.contains(*l)) counts[*l] = counts[*l].get<int64_t>() + 1;
  }
  json out_rows = SelectRows(
      rows, [&](size_t r) { return !level || v.Str("risk_level", r) == level; },
      [&](size_t a, size_t b) {
        auto sa = v.Num("risk_score", a), sb = v.Num("risk_score", b);
        if (sa != sb) return sa > sb;
        auto ea = v.Num("total_edits", a), eb = v.Num("total_edits", b);
        if (ea != eb) return ea > eb;
        return v.Str("entity_id", a) < v.Str("entity_id", b);
      },
      static_cast<size_t>(limit.value_or(100)));
  SendJson(res, 200, json{{"date", DateJson(date)}, {"level", DateJson(level)}, {"counts", counts}, {"rows", out_rows}});
}

void HttpServer::Impl::Alerts(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto limit_param = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const size_t limit = static_cast<size_t>(limit_param.value_or(50));
  WS_HTTP_ASSIGN(RecordBatch rows, Latest("ops.alerts", limit));
  // Recorded alerts plus the ones raised since the last batch commit.
  std::vector<json> all;
  std::set<std::string> ids;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    json j = RowJson(rows, r);
    if (j.contains("alert_id") && j["alert_id"].is_string()) ids.insert(j["alert_id"].get<std::string>());
    all.push_back(std::move(j));
  }
  if (alerts_) {
    for (const Alert& a : alerts_->Recent(limit)) {
      if (ids.count(a.alert_id)) continue;
      json details = json::parse(a.details, nullptr, false);
      all.push_back(json{{"alert_id", a.alert_id}, {"raised_at", FormatIso8601(a.raised_at_us)},
                         {"alert_date", a.alert_date}, {"kind", a.kind}, {"severity", a.severity},
                         {"subject", a.subject}, {"entity", a.entity},
                         {"details", details.is_discarded() ? json(a.details) : details},
                         {"delivered", a.delivered}, {"delivery_error", a.delivery_error}});
    }
  }
  // ISO-8601 UTC text with a fixed format sorts chronologically.
  std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
    return a.value("raised_at", std::string()) > b.value("raised_at", std::string());
  });
  if (all.size() > limit) all.resize(limit);
  SendJson(res, 200, json{{"rows", all}});
}

void HttpServer::Impl::Dq(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto limit_param = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const size_t limit = static_cast<size_t>(limit_param.value_or(100));
  WS_HTTP_ASSIGN(RecordBatch rows, Latest("dq_audit.quality_results", limit));
  RowView v{rows};
  // The gate of each layer's latest run: passes iff no error check FAILED/ERROR.
  struct Gate { std::string run_id; double ts = -1; bool passed = true; int64_t checks = 0, failed = 0, warnings = 0; };
  std::map<std::string, Gate> gates;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    auto layer = v.Str("layer", r);
    auto run = v.Str("run_id", r);
    double ts = v.Num("run_timestamp", r).value_or(0);
    if (!layer || !run) continue;
    Gate& g = gates[*layer];
    if (ts > g.ts || (ts == g.ts && *run > g.run_id)) g = Gate{*run, ts};
  }
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    auto layer = v.Str("layer", r);
    auto run = v.Str("run_id", r);
    if (!layer || !run || gates[*layer].run_id != *run) continue;
    Gate& g = gates[*layer];
    ++g.checks;
    auto status = v.Str("status", r).value_or("");
    auto severity = v.Str("severity", r).value_or("");
    if (status == "WARNING") ++g.warnings;
    if (status == "FAILED" || status == "ERROR") {
      ++g.failed;
      if (severity == "error") g.passed = false;
    }
  }
  json gates_json = json::array();
  for (const auto& [layer, g] : gates) {
    gates_json.push_back({{"layer", layer}, {"run_id", g.run_id}, {"run_timestamp", FormatIso8601(static_cast<int64_t>(g.ts))},
                          {"passed", g.passed}, {"checks", g.checks}, {"failed", g.failed}, {"warnings", g.warnings}});
  }
  json out_rows = SelectRows(
      rows, [](size_t) { return true; },
      [&](size_t a, size_t b) {
        auto ta = v.Num("run_timestamp", a), tb = v.Num("run_timestamp", b);
        if (ta != tb) return ta > tb;
        auto la = v.Str("layer", a), lb = v.Str("layer", b);
        if (la != lb) return la < lb;
        return v.Str("check_name", a) < v.Str("check_name", b);
      },
      limit);
  SendJson(res, 200, json{{"gates", gates_json}, {"rows", out_rows}});
}

void HttpServer::Impl::Pipeline(const httplib::Request& req, httplib::Response& res) {
  std::optional<BadParam> bad;
  auto limit_param = IntParam(req, "limit", 1, 1000, &bad);
  WS_HTTP_PARAMS_OK(bad);
  const size_t limit = static_cast<size_t>(limit_param.value_or(50));
  WS_HTTP_ASSIGN(RecordBatch rows, Latest("ops.pipeline_runs", limit));
  RowView v{rows};
  json out_rows = SelectRows(
      rows, [](size_t) { return true; },
      [&](size_t a, size_t b) {
        auto ta = v.Num("started_at", a), tb = v.Num("started_at", b);
        if (ta != tb) return ta > tb;
        return v.Str("run_id", a) > v.Str("run_id", b);
      },
      limit);
  json status = nullptr;
  if (cb_.pipeline_status) {
    status = json::parse(cb_.pipeline_status(), nullptr, false);
    if (status.is_discarded()) status = nullptr;
  }
  json live = nullptr;
  if (live_) live = {{"observed_rows", live_->observed_rows()}, {"sse_streams", sse_active_.load()}};
  SendJson(res, 200, json{{"status", status}, {"live", live}, {"rows", out_rows}});
}

void HttpServer::Impl::Live(const httplib::Request& req, httplib::Response& res) {
  if (!live_) {
    SendError(res, 503, "the live path is not running");
    return;
  }
  if (stopping_) {
    SendError(res, 503, "shutting down");
    return;
  }
  if (sse_active_.fetch_add(1) >= opts_.max_sse_streams) {
    sse_active_.fetch_sub(1);
    res.set_header("Retry-After", "5");
    SendError(res, 503, fmt::format("too many live streams (limit {})", opts_.max_sse_streams));
    return;
  }
  if (sse_gauge_) sse_gauge_->Increment();
  auto sub = live_->Subscribe();
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    if (stopping_) sub->Close();
    subs_.push_back(sub);
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  auto first = std::make_shared<bool>(true);
  const auto keepalive = std::chrono::milliseconds(std::max(100, opts_.sse_keepalive_ms));
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, sub, first, keepalive](size_t, httplib::DataSink& sink) {
        auto send = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
        if (*first) {
          *first = false;
          // The current state at once, so a new client does not wait a tick.
          return send("retry: 3000\n\nevent: summary\ndata: " + live_->SnapshotJson() + "\n\n");
        }
        auto msg = sub->Next(keepalive);
        if (!msg) {
          if (sub->closed()) {
            send("event: bye\ndata: {}\n\n");
            sink.done();
            return true;
          }
          return send(": keepalive\n\n");
        }
        return send("event: " + msg->event + "\ndata: " + msg->data + "\n\n");
      },
      [this, sub](bool) {
        sub->Close();
        {
          std::lock_guard<std::mutex> lock(subs_mu_);
          subs_.erase(std::remove(subs_.begin(), subs_.end(), sub), subs_.end());
        }
        sse_active_.fetch_sub(1);
        if (sse_gauge_) sse_gauge_->Decrement();
      });
}

void HttpServer::Impl::Metrics(const httplib::Request&, httplib::Response& res) {
  if (live_rows_) {
    // The aggregator has no Prometheus dependency: catch the counter up at scrape time.
    std::lock_guard<std::mutex> lock(live_rows_mu_);
    const uint64_t observed = live_->observed_rows();
    live_rows_->Increment(static_cast<double>(observed - live_rows_reported_));
    live_rows_reported_ = observed;
    // Every alert reaches the aggregator (the app wires AlertSink's listener
    // to OnAlert), so it counts them for this series.
    for (const auto& [key, n] : live_->AlertCounts()) {
      uint64_t& reported = alerts_reported_[key];
      alerts_raised_->Add({{"kind", key.first}, {"severity", key.second}}).Increment(static_cast<double>(n - reported));
      reported = n;
    }
  }
  std::string text;
  if (registry_) text = prometheus::TextSerializer().Serialize(registry_->Collect());
  res.set_header("Cache-Control", "no-store");
  res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
}

void HttpServer::Impl::Admin(const httplib::Request& req, httplib::Response& res,
                             const std::function<Result<std::string>()>& fn) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"wikistream\"");
  if (opts_.admin_token.empty()) {
    SendError(res, 401, "admin endpoints are disabled: no admin token is configured");
    return;
  }
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0 ||
      !ConstantTimeEquals(auth.substr(prefix.size()), opts_.admin_token)) {
    SendError(res, 401, auth.empty() ? "missing bearer token" : "wrong bearer token");
    return;
  }
  if (!fn) {
    SendError(res, 503, "this process does not run that task");
    return;
  }
  Result<std::string> r = fn();
  if (!r.ok()) {
    SendError(res, 500, r.status().ToString());
    return;
  }
  json body = json::parse(*r, nullptr, false);
  if (body.is_discarded() || !body.is_object()) body = json{{"result", *r}};
  SendJson(res, 200, body);
}

void HttpServer::Impl::Static(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;  // already percent-decoded by httplib
  if (path.rfind("/api/", 0) == 0 || path == "/api") {
    SendError(res, 404, "unknown API path " + path);
    return;
  }
  fs::path file;
  if (path == "/assets/chart.umd.js") {
    file = chart_js_;
  } else {
    if (web_root_.empty()) {
      SendError(res, 404, "not found");
      return;
    }
    std::string rel = path == "/" ? "index.html" : path.substr(1);
    // Reject traversal before touching the file system; canonical() below
    // also catches symlinks that lead out of the root.
    bool bad = rel.empty() || rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos ||
               rel.front() == '/';
    for (size_t start = 0; !bad && start <= rel.size();) {
      size_t end = rel.find('/', start);
      if (end == std::string::npos) end = rel.size();
      std::string_view seg(rel.data() + start, end - start);
      if (seg == ".." || seg == "." || (seg.empty() && end != rel.size())) bad = true;
      start = end + 1;
    }
    if (bad) {
      SendError(res, 404, "not found");
      return;
    }
    std::error_code ec;
    file = fs::canonical(web_root_ / rel, ec);
    if (ec || !IsInside(web_root_, file)) {
      SendError(res, 404, "not found");
      return;
    }
  }
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxStaticFileBytes) {
    SendError(res, 404, "not found");
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) {
    SendError(res, 500, "cannot read file");
    return;
  }
  const std::string mime = MimeType(file);
  if (mime.rfind("text/html", 0) == 0) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
                   "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_content(content.str(), mime);
}

// ----------------------------------------------------------------------------

HttpServer::HttpServer(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
                       prometheus::Registry* registry, ServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), store, live, alerts, registry, std::move(callbacks))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port(); }
std::string HttpServer::url() const {
  const std::string host = impl_->address();
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port());
}

}  // namespace ws::serve
