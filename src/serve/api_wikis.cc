// /api/hourly (gold.hourly_stats rows) and /api/wikis (wikis compared over
// a span, summed from gold.hourly_stats).
#include <array>
#include <cmath>
#include <optional>

#include "api_internal.h"

namespace ws::serve::api {
namespace {

const std::string kHourly = "gold.hourly_stats";

// What both routes start from: the span, domain and region parameters, then
// (once the route has read its own parameters from `p`) the span's
// gold.hourly_stats rows.
struct HourlyQuery {
  explicit HourlyQuery(const ApiRequest& req) : p(req), sp(ReadSpanParams(p)), domain(p.Domain()), region(p.Region()) {}

  // Rejects bad parameters (400) and reads the span's rows: the response to
  // send instead, or nullopt with span and rows set.
  std::optional<ApiResponse> Load(Context& ctx, const ApiRequest& req) {
    if (!p.ok()) return ErrorResponse(400, p.error());
    auto resolved = ResolveSpan(ctx, kHourly, sp);
    if (!resolved.ok()) return StoreError(req, resolved.status());
    span = std::move(resolved).value();
    auto read = ReadDates(ctx, kHourly, span.dates);
    if (!read.ok()) return StoreError(req, read.status());
    rows.emplace(std::move(read).value());
    return std::nullopt;
  }

  Params p;
  SpanParams sp;
  std::optional<std::string> domain, region;
  Span span;
  std::optional<RecordBatch> rows;
};

ApiResponse Hourly(Context& ctx, const ApiRequest& req) {
  HourlyQuery q(req);
  Paging page = ReadPaging(q.p, 0);
  const bool csv = q.p.Csv();
  if (auto refused = q.Load(ctx, req)) return std::move(*refused);
  const RecordBatch& rows = *q.rows;
  RowView v(rows);
  std::set<std::string> domains;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (auto d = v.Str("domain", r)) {
      if (!q.region || v.Str("region", r) == *q.region) domains.emplace(*d);
    }
  }
  TableOut out(&rows);
  out.order = SelectRows(
      rows,
      [&](size_t r) {
        return (!q.domain || v.Str("domain", r) == *q.domain) && (!q.region || v.Str("region", r) == *q.region);
      },
      [&](size_t a, size_t b) {
        auto da = v.Str("stat_date", a), db = v.Str("stat_date", b);
        if (da != db) return da < db;
        auto ha = v.Num("stat_hour", a), hb = v.Num("stat_hour", b);
        if (ha != hb) return ha < hb;
        return v.Str("domain", a) < v.Str("domain", b);
      });
  if (q.span.range && page.limit == 0) page.limit = kMaxLimit;
  json meta = {{"domain", OptJson(q.domain)}, {"region", OptJson(q.region)}, {"domains", domains}};
  SpanMeta(q.span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

// The per-wiki sums of /api/wikis, in output order.
const std::vector<std::string> kSums = {"total_events",   "bot_edits",     "human_edits",     "anonymous_edits",
                                        "bytes_added",    "bytes_removed", "large_deletions", "large_additions",
                                        "type_edit",      "type_new",      "type_log",        "type_categorize",
                                        "type_external"};
const std::vector<std::string> kSorts = {"total_events",    "anonymous_edits", "anonymous_percentage",
                                         "bot_edits",       "bot_percentage",  "human_edits",
                                         "bytes_added",     "bytes_removed",   "large_deletions",
                                         "large_additions", "peak_hour_events"};

struct Wiki {
  std::string region;
  std::map<std::string, int64_t> sums;
  int64_t peak_hour_events = 0;
  std::set<std::string> days;
  std::map<std::string, std::array<int64_t, 3>> per_day;  // date -> total, anonymous, bot
};

double Pct(int64_t part, int64_t total) {
  return total > 0 ? std::round(10000.0 * static_cast<double>(part) / static_cast<double>(total)) / 100.0 : 0.0;
}

ApiResponse Wikis(Context& ctx, const ApiRequest& req) {
  HourlyQuery q(req);
  auto sort = q.p.OneOf("sort", kSorts);
  Paging page = ReadPaging(q.p, 50);
  const bool csv = q.p.Csv();
  if (auto refused = q.Load(ctx, req)) return std::move(*refused);
  const RecordBatch& rows = *q.rows;
  RowView v(rows);
  std::map<std::string, Wiki> wikis;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    auto d = v.Str("domain", r);
    auto reg = v.Str("region", r);
    if (!d || (q.domain && *d != *q.domain) || (q.region && reg != *q.region)) continue;
    Wiki& w = wikis[std::string(*d)];
    w.region = std::string(reg.value_or(RegionOfDomain(*d)));
    for (const auto& c : kSums) w.sums[c] += static_cast<int64_t>(v.Num(c, r).value_or(0));
    const auto total = static_cast<int64_t>(v.Num("total_events", r).value_or(0));
    w.peak_hour_events = std::max(w.peak_hour_events, total);
    const std::string date(v.Str("stat_date", r).value_or(""));
    w.days.insert(date);
    auto& pd = w.per_day[date];
    pd[0] += total;
    pd[1] += static_cast<int64_t>(v.Num("anonymous_edits", r).value_or(0));
    pd[2] += static_cast<int64_t>(v.Num("bot_edits", r).value_or(0));
  }
  json list = json::array();
  for (const auto& [name, w] : wikis) {
    json o = {{"domain", name}, {"region", w.region}};
    for (const auto& c : kSums) o[c] = w.sums.at(c);
    o["anonymous_percentage"] = Pct(w.sums.at("anonymous_edits"), w.sums.at("total_events"));
    o["bot_percentage"] = Pct(w.sums.at("bot_edits"), w.sums.at("total_events"));
    o["peak_hour_events"] = w.peak_hour_events;
    o["active_days"] = w.days.size();
    list.push_back(std::move(o));
  }
  const std::string key = sort.value_or("total_events");
  std::stable_sort(list.begin(), list.end(), [&](const json& a, const json& b) {
    const double x = a[key].get<double>(), y = b[key].get<double>();
    if (x != y) return x > y;
    return a["domain"].get<std::string>() < b["domain"].get<std::string>();
  });
  std::vector<json> all(list.begin(), list.end());
  json body = PageOfList(std::move(all), page);
  std::vector<std::string> columns = {"domain", "region"};
  columns.insert(columns.end(), kSums.begin(), kSums.end());
  for (const char* c : {"anonymous_percentage", "bot_percentage", "peak_hour_events", "active_days"}) columns.push_back(c);
  if (csv) return WriteJsonRowsCsv(columns, body["rows"]);
  json series = json::array();
  for (const json& row : body["rows"]) {
    for (const auto& [date, pd] : wikis.at(row["domain"].get<std::string>()).per_day) {
      series.push_back({{"date", date}, {"domain", row["domain"]}, {"total_events", pd[0]}, {"anonymous_edits", pd[1]},
                        {"bot_edits", pd[2]}});
    }
  }
  body["series"] = std::move(series);
  body["region"] = OptJson(q.region);
  body["domain"] = OptJson(q.domain);
  body["sort"] = key;
  SpanMeta(q.span, &body);
  return JsonResponse(200, body);
}

}  // namespace

void AddWikisRoutes(std::vector<RouteDef>* routes) {
  RouteDef hourly;
  hourly.path = "/api/hourly";
  hourly.summary = "gold.hourly_stats rows, by date, hour and wiki";
  hourly.description =
      "Sorted by date, hour, then domain. `domains` lists the wikis present (in the region when one is given). "
      "One date returns every row unless limit is given; a span pages by 1000.";
  hourly.params = SpanParamDocs();
  hourly.params.push_back(DomainParamDoc());
  hourly.params.push_back(RegionParamDoc());
  for (auto& d : PagingParamDocs(0)) hourly.params.push_back(d);
  hourly.tables = {kHourly};
  hourly.etag = true;
  hourly.csv = true;
  hourly.response = TablePageSchema(kHourly, {{"domains", ArrayOf({{"type", "string"}})}}, {"domains"});
  hourly.handler = Hourly;
  routes->push_back(hourly);

  RouteDef wikis;
  wikis.path = "/api/wikis";
  wikis.summary = "Wikis compared over a span (sums of gold.hourly_stats)";
  wikis.description =
      "One row per wiki: its region, the span's sums of the hourly counts, anonymous and bot percentages of "
      "its events, its busiest hour and the days it had events; sorted by `sort` (descending, then domain). "
      "`series` gives each listed wiki's events, anonymous and bot edits per day.";
  wikis.params = SpanParamDocs();
  wikis.params.push_back(RegionParamDoc());
  wikis.params.push_back(DomainParamDoc());
  wikis.params.push_back({"sort", {{"type", "string"}, {"enum", kSorts}}, "Order (default total_events).", false,
                          "anonymous_edits"});
  for (auto& d : PagingParamDocs(50)) wikis.params.push_back(d);
  wikis.tables = {kHourly};
  wikis.etag = true;
  wikis.csv = true;
  json wiki_props = {{"domain", {{"type", "string"}}}, {"region", {{"type", "string"}}}};
  std::vector<std::string> wiki_required = {"domain", "region"};
  for (const auto& c : kSums) {
    wiki_props[c] = {{"type", "integer"}};
    wiki_required.push_back(c);
  }
  for (const char* c : {"anonymous_percentage", "bot_percentage"}) wiki_props[c] = {{"type", "number"}};
  for (const char* c : {"peak_hour_events", "active_days"}) wiki_props[c] = {{"type", "integer"}};
  wikis.response = ListPageSchema(ObjectSchema(wiki_props, wiki_required),
                                  {{"series", ArrayOf(ObjectSchema({{"date", {{"type", "string"}}},
                                                                    {"domain", {{"type", "string"}}},
                                                                    {"total_events", {{"type", "integer"}}},
                                                                    {"anonymous_edits", {{"type", "integer"}}},
                                                                    {"bot_edits", {{"type", "integer"}}}},
                                                                   {"date", "domain", "total_events"}))},
                                   {"sort", {{"type", "string"}}}},
                                  {"series", "sort"});
  wikis.handler = Wikis;
  routes->push_back(wikis);
}

}  // namespace ws::serve::api
