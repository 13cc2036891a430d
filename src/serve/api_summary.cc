// /api/summary (gold.daily_analytics_summary) and /api/overview (a span of
// days: traffic, user split, regions, health components, DLQ and DQ).
#include <array>
#include <cmath>

#include "api_internal.h"
#include "wikistream/common/time.h"

namespace ws::serve::api {
namespace {

const std::string kSummary = "gold.daily_analytics_summary";
const std::string kHourly = "gold.hourly_stats";
const std::string kDlq = "bronze.dlq_events";
const std::string kQuality = "dq_audit.quality_results";

ApiResponse Summary(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  Paging page = ReadPaging(p, 0);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kSummary, sp);
  if (!span.ok()) return StoreError(req, span.status());
  auto rows = ReadDates(ctx, kSummary, span->dates);
  if (!rows.ok()) return StoreError(req, rows.status());
  RowView v(*rows);
  TableOut out(&*rows);
  out.order = SelectRows(*rows, nullptr, [&](size_t a, size_t b) {
    return v.Str("summary_date", a) < v.Str("summary_date", b);
  });
  json meta = {{"dates", span->all_dates}};
  SpanMeta(*span, &meta);
  meta["dates"] = span->all_dates;
  meta["date"] = OptJson(span->date);
  meta["summary"] = span->range || out.order.empty() ? json(nullptr) : RowJson(*rows, out.order.front());
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

double Round2(double x) { return std::round(x * 100.0) / 100.0; }

// The columns of one overview day (flat, so that a day is also a CSV row).
const std::vector<std::string> kOverviewColumns = {
    "date", "total_events", "bot_events", "human_events", "anonymous_events", "unique_users", "active_domains",
    "unique_pages_edited", "bot_percentage", "anonymous_percentage", "registered_user_percentage",
    "europe_percentage", "americas_percentage", "asia_pacific_percentage", "middle_east_percentage",
    "other_percentage", "platform_health_score", "health_low_risk_points", "health_registered_points",
    "health_content_points", "health_deletion_points", "high_risk_user_count", "medium_risk_user_count",
    "low_risk_user_count", "total_alerts_triggered", "peak_hour", "peak_hour_events", "dlq_events", "dq_runs",
    "dq_checks", "dq_failed", "dq_warnings", "dq_gate_failures"};

// Counts that are zero on a day without data; the other columns are null.
const std::set<std::string> kOverviewCounts = {"total_events", "bot_events", "human_events", "anonymous_events",
                                               "dlq_events", "dq_runs", "dq_checks", "dq_failed", "dq_warnings",
                                               "dq_gate_failures"};

json OverviewDay(const std::string& date) {
  json day = json::object();
  for (const auto& c : kOverviewColumns) day[c] = kOverviewCounts.count(c) ? json(0) : json(nullptr);
  day["date"] = date;
  return day;
}

// The four parts of platform_health_score (docs/tables.md), from the day's summary.
void HealthComponents(const RowView& v, size_t r, json* day) {
  const double high = v.Num("high_risk_user_count", r).value_or(0);
  const double medium = v.Num("medium_risk_user_count", r).value_or(0);
  const double low = v.Num("low_risk_user_count", r).value_or(0);
  const double scored = high + medium + low;
  const double total = v.Num("total_events", r).value_or(0);
  const double added = v.Num("total_bytes_added", r).value_or(0);
  const double removed = v.Num("total_bytes_removed", r).value_or(0);
  const double large = v.Num("large_deletions_count", r).value_or(0);
  (*day)["health_low_risk_points"] = Round2(scored > 0 ? 40.0 * low / scored : 40.0);
  (*day)["health_registered_points"] = Round2(0.3 * v.Num("registered_user_percentage", r).value_or(0));
  (*day)["health_content_points"] = added > removed ? 20 : added > 0.5 * removed ? 10 : 0;
  (*day)["health_deletion_points"] = total <= 0 ? 0 : large < 0.01 * total ? 10 : large < 0.05 * total ? 5 : 0;
}

ApiResponse Overview(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kSummary, sp);
  if (!span.ok()) return StoreError(req, span.status());
  // The days of the span (every calendar day, so gaps show as zeros).
  const std::vector<std::string> days = SpanDays(*span);
  std::map<std::string, json> by_day;
  for (const auto& d : days) by_day.emplace(d, OverviewDay(d));
  auto in_span = [&](std::optional<std::string_view> d) { return d && by_day.count(std::string(*d)); };

  auto summary = ReadDates(ctx, kSummary, days);
  if (!summary.ok()) return StoreError(req, summary.status());
  RowView sv(*summary);
  for (size_t r = 0; r < summary->num_rows(); ++r) {
    auto d = sv.Str("summary_date", r);
    if (!in_span(d)) continue;
    json& day = by_day[std::string(*d)];
    for (const auto& key : kOverviewColumns) {
      const int i = sv.Index(key);
      if (key == "date" || i < 0 || (kOverviewCounts.count(key) && key != "total_events")) continue;
      day[key] = CellJson(summary->schema()->field(i), summary->column(i), r);
    }
    HealthComponents(sv, r, &day);
  }

  // Events per hour and the bot/human/anonymous split, from hourly_stats.
  auto hourly = ReadDates(ctx, kHourly, days);
  if (!hourly.ok()) return StoreError(req, hourly.status());
  RowView hv(*hourly);
  std::map<std::pair<std::string, int>, std::array<int64_t, 4>> hours;
  for (size_t r = 0; r < hourly->num_rows(); ++r) {
    auto d = hv.Str("stat_date", r);
    auto h = hv.Num("stat_hour", r);
    if (!in_span(d) || !h) continue;
    auto& cell = hours[{std::string(*d), static_cast<int>(*h)}];
    cell[0] += static_cast<int64_t>(hv.Num("total_events", r).value_or(0));
    cell[1] += static_cast<int64_t>(hv.Num("bot_edits", r).value_or(0));
    cell[2] += static_cast<int64_t>(hv.Num("human_edits", r).value_or(0));
    cell[3] += static_cast<int64_t>(hv.Num("anonymous_edits", r).value_or(0));
  }
  json hours_json = json::array();
  std::map<std::string, std::array<int64_t, 3>> split;
  for (const auto& [key, c] : hours) {
    hours_json.push_back({{"date", key.first}, {"hour", key.second}, {"total_events", c[0]}, {"bot_events", c[1]},
                          {"human_events", c[2]}, {"anonymous_events", c[3]}});
    auto& s = split[key.first];
    s[0] += c[1];
    s[1] += c[2];
    s[2] += c[3];
  }
  for (const auto& [d, s] : split) {
    json& day = by_day[d];
    day["bot_events"] = s[0];
    day["human_events"] = s[1];
    day["anonymous_events"] = s[2];
  }

  // DLQ: events and codes per received_date.
  std::map<std::string, std::map<std::string, int64_t>> dlq_codes;
  if (ctx.store) {
    AnalyticsStore::ScanSpec scan;
    scan.dates = days;
    scan.columns = {"received_date", "error_code"};
    scan.max_rows = 2'000'000;
    auto dlq = ctx.store->Scan(kDlq, scan);
    if (!dlq.ok() && !dlq.status().IsNotFound()) return StoreError(req, dlq.status());
    if (dlq.ok()) {
      RowView dv(*dlq);
      for (size_t r = 0; r < dlq->num_rows(); ++r) {
        auto d = dv.Str("received_date", r);
        if (!in_span(d)) continue;
        ++dlq_codes[std::string(*d)][std::string(dv.Str("error_code", r).value_or(""))];
      }
    }
  }
  for (const auto& [d, codes] : dlq_codes) {
    int64_t n = 0;
    for (const auto& [code, count] : codes) n += count;
    by_day[d]["dlq_events"] = n;
  }

  // Data quality per run date: runs, checks, failures, gates that failed.
  auto quality = ReadDates(ctx, kQuality, days);
  if (!quality.ok()) return StoreError(req, quality.status());
  RowView qv(*quality);
  std::map<std::string, std::set<std::string>> runs, failed_runs;
  for (size_t r = 0; r < quality->num_rows(); ++r) {
    auto d = qv.Str("run_date", r);
    if (!in_span(d)) continue;
    json& day = by_day[std::string(*d)];
    const std::string run(qv.Str("run_id", r).value_or(""));
    runs[std::string(*d)].insert(run);
    day["dq_checks"] = day["dq_checks"].get<int64_t>() + 1;
    const auto status = qv.Str("status", r).value_or("");
    if (status == "WARNING") day["dq_warnings"] = day["dq_warnings"].get<int64_t>() + 1;
    if (status == "FAILED" || status == "ERROR") {
      day["dq_failed"] = day["dq_failed"].get<int64_t>() + 1;
      if (qv.Str("severity", r) == "error") failed_runs[std::string(*d)].insert(run);
    }
  }
  for (const auto& [d, set] : runs) by_day[d]["dq_runs"] = set.size();
  for (const auto& [d, set] : failed_runs) by_day[d]["dq_gate_failures"] = set.size();

  json days_json = json::array();
  for (auto& [d, day] : by_day) days_json.push_back(day);
  if (csv) return WriteJsonRowsCsv(kOverviewColumns, days_json);
  for (auto& day : days_json) {
    json codes = json::object();
    for (const auto& [code, n] : dlq_codes[day["date"].get<std::string>()]) codes[code] = n;
    day["dlq_by_code"] = codes;
  }
  json body = {{"dates", span->all_dates}, {"days", days_json}, {"hours", hours_json}};
  body["from"] = days.empty() ? json(nullptr) : json(days.front());
  body["to"] = days.empty() ? json(nullptr) : json(days.back());
  return JsonResponse(200, body);
}

json OverviewDaySchema() {
  json props = json::object();
  for (const auto& k : kOverviewColumns) {
    props[k] = k == "date" ? json{{"type", "string"}, {"format", "date"}} : Nullable({{"type", "number"}});
  }
  props["dlq_by_code"] = {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}};
  return ObjectSchema(props, kOverviewColumns);
}

}  // namespace

void AddSummaryRoutes(std::vector<RouteDef>* routes) {
  RouteDef summary;
  summary.path = "/api/summary";
  summary.summary = "gold.daily_analytics_summary: one date (and the list of dates) or a span";
  summary.description =
      "With date (or nothing: the newest date) `summary` is that date's row; with from/to, `rows` holds every "
      "day of the span, oldest first. `dates` lists every date with a summary.";
  summary.params = SpanParamDocs();
  for (auto& d : PagingParamDocs(0)) summary.params.push_back(d);
  summary.tables = {kSummary};
  summary.etag = true;
  summary.csv = true;
  summary.response = TablePageSchema(
      kSummary,
      {{"date", Nullable({{"type", "string"}})},
       {"dates", ArrayOf({{"type", "string"}})},
       {"summary", Nullable(RowSchema(kSummary))},
       {"from", {{"type", "string"}}},
       {"to", {{"type", "string"}}}},
      {"date", "dates", "summary"});
  summary.handler = Summary;
  routes->push_back(summary);

  RouteDef overview;
  overview.path = "/api/overview";
  overview.summary = "Each day of a span: events, bot/human/anonymous, regions, health components, DLQ, DQ";
  overview.description =
      "`days` has one entry per calendar day of the span (zeros where there is no data): the summary's "
      "figures, the event split summed from gold.hourly_stats (human_events includes anonymous_events, as "
      "gold's human_edits does), the four parts of platform_health_score, the DLQ events received that day "
      "(dlq_by_code) and the data-quality runs, checks, failures, warnings and failed gates of that run date. "
      "`hours` has events per (date, hour) over all wikis. CSV: the days without dlq_by_code.";
  overview.params = SpanParamDocs();
  overview.params.push_back(FormatParam());
  overview.tables = {kSummary, kHourly, kDlq, kQuality};
  overview.etag = true;
  overview.csv = true;
  overview.response = ObjectSchema(
      {{"from", Nullable({{"type", "string"}})},
       {"to", Nullable({{"type", "string"}})},
       {"dates", ArrayOf({{"type", "string"}})},
       {"days", ArrayOf(OverviewDaySchema())},
       {"hours", ArrayOf(ObjectSchema({{"date", {{"type", "string"}}},
                                       {"hour", {{"type", "integer"}}},
                                       {"total_events", {{"type", "number"}}},
                                       {"bot_events", {{"type", "number"}}},
                                       {"human_events", {{"type", "number"}}},
                                       {"anonymous_events", {{"type", "number"}}}},
                                      {"date", "hour", "total_events"}))}},
      {"from", "to", "dates", "days", "hours"});
  overview.handler = Overview;
  routes->push_back(overview);
}

}  // namespace ws::serve::api
