// /api/alerts: ops.alerts merged with the alerts raised since the last
// batch commit (the AlertSink), newest first.
#include "api_internal.h"
#include "wikistream/common/time.h"
#include "wikistream/alerts/alert_sink.h"

namespace ws::serve::api {
namespace {

const std::string kAlerts = "ops.alerts";
const std::vector<std::string> kColumns = {"alert_id", "raised_at", "alert_date", "kind",     "severity",
                                           "subject",  "entity",    "details",    "delivered", "delivery_error"};

}  // namespace

json AlertJson(const Alert& a) {
  json details = json::parse(a.details, nullptr, false);
  return json{{"alert_id", a.alert_id},   {"raised_at", FormatIso8601(a.raised_at_us)},
              {"alert_date", a.alert_date}, {"kind", a.kind},
              {"severity", a.severity},   {"subject", a.subject},
              {"entity", a.entity},       {"details", details.is_discarded() ? json(a.details) : details},
              {"delivered", a.delivered}, {"delivery_error", a.delivery_error}};
}

namespace {

ApiResponse Alerts(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto kind = p.OneOf("kind", {"risk", "dq", "pipeline", "ingest"});
  auto severity = p.OneOf("severity", {"INFO", "WARNING", "HIGH", "CRITICAL"}, true);
  auto entity = p.Text("entity", 256, false);
  Paging page = ReadPaging(p, 50);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  const bool spanned = sp.date || sp.from || sp.to;
  RecordBatch rows;
  std::set<std::string> dates;
  if (spanned) {
    auto span = ResolveSpan(ctx, kAlerts, sp);
    if (!span.ok()) return StoreError(req, span.status());
    auto r = ReadDates(ctx, kAlerts, span->dates);
    if (!r.ok()) return StoreError(req, r.status());
    rows = std::move(r).value();
    for (const auto& d : SpanDays(*span)) dates.insert(d);
  } else {
    auto r = ReadLatest(ctx, kAlerts, page.offset + page.limit);
    if (!r.ok()) return StoreError(req, r.status());
    rows = std::move(r).value();
  }
  auto wanted = [&](const json& a) {
    auto str = [&](const char* k) { return a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : ""; };
    if (kind && str("kind") != *kind) return false;
    if (severity && str("severity") != *severity) return false;
    if (entity && str("entity") != *entity) return false;
    if (spanned && !dates.count(str("alert_date"))) return false;
    return true;
  };
  // Recorded alerts plus the ones raised since the last batch commit.
  std::vector<json> all;
  std::set<std::string> ids;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    json j = RowJson(rows, r);
    if (j.contains("alert_id") && j["alert_id"].is_string()) ids.insert(j["alert_id"].get<std::string>());
    if (wanted(j)) all.push_back(std::move(j));
  }
  if (ctx.alerts) {
    for (const Alert& a : ctx.alerts->Recent(spanned ? 1000 : page.offset + page.limit)) {
      if (ids.count(a.alert_id)) continue;
      json j = AlertJson(a);
      if (wanted(j)) all.push_back(std::move(j));
    }
  }
  // ISO-8601 UTC text with a fixed format sorts chronologically.
  std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
    return a.value("raised_at", std::string()) > b.value("raised_at", std::string());
  });
  json body = PageOfList(std::move(all), page);
  if (csv) return WriteJsonRowsCsv(kColumns, body["rows"]);
  return JsonResponse(200, body);
}

}  // namespace

void AddAlertsRoutes(std::vector<RouteDef>* routes) {
  RouteDef r;
  r.path = "/api/alerts";
  r.summary = "ops.alerts merged with alerts raised but not yet committed, newest first";
  r.description =
      "Without dates: the newest partitions. With date or from/to: the alerts of those alert_dates. "
      "Deduplicated by alert_id. Not cached (raised alerts change between snapshots).";
  r.params = SpanParamDocs();
  r.params.push_back({"kind", {{"type", "string"}, {"enum", {"risk", "dq", "pipeline", "ingest"}}}, "Alert kind.", false, "risk"});
  r.params.push_back({"severity", {{"type", "string"}, {"enum", {"INFO", "WARNING", "HIGH", "CRITICAL"}}},
                      "Severity (case-insensitive).", false, "HIGH"});
  r.params.push_back({"entity", {{"type", "string"}, {"maxLength", 256}}, "The user, check or stage.", false, "Vandal"});
  for (auto& d : PagingParamDocs(50)) r.params.push_back(d);
  r.tables = {kAlerts};
  r.csv = true;
  r.response = TablePageSchema(kAlerts, json::object());
  r.handler = Alerts;
  routes->push_back(r);
}

}  // namespace ws::serve::api
