// /api/trending (gold.trending_pages) and /api/trending/page (one page: its
// trending hours from gold and its edits over time from silver).
#include "api_internal.h"
#include "wikistream/common/time.h"

namespace ws::serve::api {
namespace {

const std::string kTrending = "gold.trending_pages";
const std::string kSilver = "silver.cleaned_events";

ApiResponse Trending(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto hour_param = p.Int("hour", 0, 23);
  auto domain = p.Domain();
  auto region = p.Region();
  Paging page = ReadPaging(p, 20);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kTrending, sp);
  if (!span.ok()) return StoreError(req, span.status());
  auto rows = ReadDates(ctx, kTrending, span->dates);
  if (!rows.ok()) return StoreError(req, rows.status());
  RowView v(*rows);
  auto in_scope = [&](size_t r) {
    auto d = v.Str("domain", r);
    return (!domain || d == *domain) && (!region || (d && RegionOfDomain(*d) == *region));
  };
  // One date without an hour: the newest hour with data.
  std::optional<int> hour = hour_param;
  if (!hour && !span->range) {
    for (size_t r = 0; r < rows->num_rows(); ++r) {
      auto h = v.Num("stat_hour", r);
      if (h && in_scope(r) && (!hour || *h > *hour)) hour = static_cast<int>(*h);
    }
  }
  TableOut out(&*rows);
  // Newest hour first; within an hour gold's own order: its rank within a
  // wiki (1 = highest trend_score), wikis merged by trend_score.
  out.order = SelectRows(
      *rows,
      [&](size_t r) {
        if (!in_scope(r)) return false;
        if (!hour) return span->range;
        return v.Num("stat_hour", r) == static_cast<double>(*hour);
      },
      [&](size_t a, size_t b) {
        auto da = v.Str("stat_date", a), db = v.Str("stat_date", b);
        if (da != db) return da > db;
        auto ha = v.Num("stat_hour", a), hb = v.Num("stat_hour", b);
        if (ha != hb) return ha > hb;
        return GoldRankBefore(v, a, b, [&](size_t x, size_t y) {
          auto sx = v.Num("trend_score", x), sy = v.Num("trend_score", y);
          if (sx != sy) return sx > sy;
          return v.Num("rank", x) < v.Num("rank", y);
        });
      });
  json meta = {{"hour", hour ? json(*hour) : json(nullptr)}, {"domain", OptJson(domain)}, {"region", OptJson(region)}};
  SpanMeta(*span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

ApiResponse TrendingPage(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p, kMaxSilverDays);
  auto domain = p.Domain();
  if (p.ok() && !domain) p.Fail("domain is required");
  auto title = p.Text("title", 1024, true);
  auto limit = p.Int("limit", 1, kMaxLimit);
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kTrending, sp);
  if (!span.ok()) return StoreError(req, span.status());
  const std::vector<std::string> days = SpanDays(*span);

  // Gold: the hours the page trended.
  auto gold = ReadDates(ctx, kTrending, span->dates);
  if (!gold.ok()) return StoreError(req, gold.status());
  RowView gv(*gold);
  TableOut trending(&*gold);
  trending.order = SelectRows(
      *gold, [&](size_t r) { return gv.Str("domain", r) == *domain && gv.Str("title", r) == *title; },
      [&](size_t a, size_t b) {
        auto da = gv.Str("stat_date", a), db = gv.Str("stat_date", b);
        if (da != db) return da < db;
        return gv.Num("stat_hour", a) < gv.Num("stat_hour", b);
      });
  json trending_rows = json::array();
  for (size_t r : trending.order) trending_rows.push_back(RowJson(*gold, r));

  // Silver: every event on the page in the span.
  constexpr size_t kMaxEvents = 100'000;
  auto slice = ScanSilver(ctx, days,
                          {"event_timestamp", "event_date", "event_hour", "event_type", "user_normalized", "user_type",
                           "is_bot", "length_delta", "revision_new", "domain", "title"},
                          MatchStrings({{"domain", *domain}, {"title", *title}}), kMaxEvents);
  if (!slice.ok()) return StoreError(req, slice.status());
  const RecordBatch& ev = slice->rows;
  RowView sv(ev);
  struct Hour {
    int64_t events = 0, edits = 0, bytes = 0;
    std::set<std::string> editors;
  };
  std::map<std::pair<std::string, int>, Hour> hours;
  std::set<std::string> editors;
  for (size_t r = 0; r < ev.num_rows(); ++r) {
    Hour& h = hours[{std::string(sv.Str("event_date", r).value_or("")), static_cast<int>(sv.Num("event_hour", r).value_or(0))}];
    ++h.events;
    auto type = sv.Str("event_type", r);
    if (type == "edit" || type == "new") ++h.edits;
    h.bytes += static_cast<int64_t>(std::abs(sv.Num("length_delta", r).value_or(0)));
    if (auto u = sv.Str("user_normalized", r)) {
      h.editors.emplace(*u);
      editors.emplace(*u);
    }
  }
  json hours_json = json::array();
  for (const auto& [key, h] : hours) {
    hours_json.push_back({{"date", key.first}, {"hour", key.second}, {"events", h.events}, {"edits", h.edits},
                          {"editors", h.editors.size()}, {"bytes_changed", h.bytes}});
  }
  // The newest events first.
  TableOut events(&ev);
  events.order = SelectRows(ev, nullptr, [&](size_t a, size_t b) {
    return sv.Num("event_timestamp", a) > sv.Num("event_timestamp", b);
  });
  const size_t shown = std::min(events.order.size(), static_cast<size_t>(limit.value_or(100)));
  json edits = json::array();
  for (size_t i = 0; i < shown; ++i) {
    json e = RowJson(ev, events.order[i]);
    e.erase("domain");
    e.erase("title");
    edits.push_back(std::move(e));
  }
  json body = {{"domain", *domain},
               {"title", *title},
               {"region", std::string(RegionOfDomain(*domain))},
               {"from", days.empty() ? json(nullptr) : json(days.front())},
               {"to", days.empty() ? json(nullptr) : json(days.back())},
               {"trending", trending_rows},
               {"hours", hours_json},
               {"events_total", ev.num_rows()},
               {"editors_total", editors.size()},
               {"truncated", slice->truncated},
               {"edits", edits}};
  return JsonResponse(200, body);
}

}  // namespace

void AddTrendingRoutes(std::vector<RouteDef>* routes) {
  RouteDef trending;
  trending.path = "/api/trending";
  trending.summary = "gold.trending_pages: pages by hour with their trend score and rank";
  trending.description =
      "One date: one hour (`hour`, default the newest hour with data). A span: every hour (or `hour` of each "
      "day). Newest hour first; within an hour, gold's rank within each wiki, wikis merged by trend_score. "
      "The rank column is gold's own.";
  trending.params = SpanParamDocs();
  trending.params.push_back({"hour", {{"type", "integer"}, {"minimum", 0}, {"maximum", 23}}, "UTC hour.", false, "10"});
  trending.params.push_back(DomainParamDoc());
  trending.params.push_back(RegionParamDoc());
  for (auto& d : PagingParamDocs(20)) trending.params.push_back(d);
  trending.tables = {kTrending};
  trending.etag = true;
  trending.csv = true;
  trending.response = TablePageSchema(kTrending, {{"hour", Nullable({{"type", "integer"}})}}, {"hour"});
  trending.handler = Trending;
  routes->push_back(trending);

  RouteDef page;
  page.path = "/api/trending/page";
  page.summary = "One page: the hours it trended (gold) and its edits over time (silver)";
  page.description =
      "`trending` holds the page's gold.trending_pages rows in the span; `hours` counts its silver events per "
      "(date, hour): all events, edits (edit/new), distinct editors and bytes changed; `edits` lists the "
      "newest events (limit, default 100). Silver is read only for the span's dates (at most 31 days) and at "
      "most 100,000 events (`truncated`).";
  page.params = {{"domain", DomainParamDoc().schema, "The page's wiki.", true, "en.wikipedia.org"},
                 {"title", {{"type", "string"}, {"maxLength", 1024}}, "The page title, as in gold.", true, "Page_10_1"}};
  for (auto& d : SpanParamDocs()) page.params.push_back(d);
  page.params.push_back(LimitParam(100));
  page.tables = {kTrending, kSilver};
  page.etag = true;
  page.response = ObjectSchema(
      {{"domain", {{"type", "string"}}},
       {"title", {{"type", "string"}}},
       {"region", {{"type", "string"}}},
       {"from", Nullable({{"type", "string"}})},
       {"to", Nullable({{"type", "string"}})},
       {"trending", ArrayOf(RowSchema(kTrending))},
       {"hours", ArrayOf(ObjectSchema({{"date", {{"type", "string"}}},
                                       {"hour", {{"type", "integer"}}},
                                       {"events", {{"type", "integer"}}},
                                       {"edits", {{"type", "integer"}}},
                                       {"editors", {{"type", "integer"}}},
                                       {"bytes_changed", {{"type", "integer"}}}},
                                      {"date", "hour", "events", "edits", "editors", "bytes_changed"}))},
       {"events_total", {{"type", "integer"}}},
       {"editors_total", {{"type", "integer"}}},
       {"truncated", {{"type", "boolean"}}},
       {"edits", ArrayOf({{"type", "object"}})}},
      {"domain", "title", "trending", "hours", "events_total", "truncated", "edits"});
  page.handler = TrendingPage;
  routes->push_back(page);
}

}  // namespace ws::serve::api
