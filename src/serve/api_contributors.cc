// /api/contributors: gold.top_contributors by wiki and user type.
#include "api_internal.h"

namespace ws::serve::api {
namespace {

const std::string kContributors = "gold.top_contributors";

ApiResponse Contributors(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto domain = p.Domain();
  auto region = p.Region();
  auto user_type = p.UserType();
  auto user = p.Text("user", 256, false);
  Paging page = ReadPaging(p, 50);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kContributors, sp);
  if (!span.ok()) return StoreError(req, span.status());
  auto rows = ReadDates(ctx, kContributors, span->dates);
  if (!rows.ok()) return StoreError(req, rows.status());
  RowView v(*rows);
  TableOut out(&*rows);
  // Newest day first; within a wiki gold's rank; wikis merged by edits,
  // bytes_added, rank and user.
  out.order = SelectRows(
      *rows,
      [&](size_t r) {
        auto d = v.Str("domain", r);
        if (domain && d != *domain) return false;
        if (region && (!d || RegionOfDomain(*d) != *region)) return false;
        if (user && v.Str("user_normalized", r) != *user) return false;
        return !user_type || user_type->Matches(v.Str("user_type", r));
      },
      [&](size_t a, size_t b) {
        auto da = v.Str("stat_date", a), db = v.Str("stat_date", b);
        if (da != db) return da > db;
        return GoldRankBefore(v, a, b, [&](size_t x, size_t y) {
          auto ex = v.Num("edits", x), ey = v.Num("edits", y);
          if (ex != ey) return ex > ey;
          auto bx = v.Num("bytes_added", x), by = v.Num("bytes_added", y);
          if (bx != by) return bx > by;
          auto rx = v.Num("rank", x), ry = v.Num("rank", y);
          if (rx != ry) return rx < ry;
          return v.Str("user_normalized", x) < v.Str("user_normalized", y);
        });
      });
  // The filtered rows by user type: contributors (rows) and their edits.
  json by_type = json::object();
  for (size_t r : out.order) {
    const std::string t(v.Str("user_type", r).value_or("unknown"));
    json& e = by_type[t];
    if (e.is_null()) e = {{"rows", 0}, {"edits", 0}};
    e["rows"] = e["rows"].get<int64_t>() + 1;
    e["edits"] = e["edits"].get<int64_t>() + static_cast<int64_t>(v.Num("edits", r).value_or(0));
  }
  json meta = {{"domain", OptJson(domain)}, {"region", OptJson(region)},
               {"user_type", user_type ? json(user_type->text) : json(nullptr)}, {"by_type", by_type}};
  SpanMeta(*span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

}  // namespace

void AddContributorsRoutes(std::vector<RouteDef>* routes) {
  RouteDef r;
  r.path = "/api/contributors";
  r.summary = "gold.top_contributors: the top 50 users per wiki and day";
  r.description =
      "Newest day first; within a wiki in gold's rank order (the rank column is gold's own), wikis merged by "
      "edits, bytes_added, user. Without a domain a user appears once per wiki. `by_type` counts the "
      "filtered rows and their edits per user_type.";
  r.params = SpanParamDocs();
  r.params.push_back(DomainParamDoc());
  r.params.push_back(RegionParamDoc());
  r.params.push_back(UserTypeParamDoc());
  r.params.push_back({"user", {{"type", "string"}, {"maxLength", 256}}, "One user_normalized.", false, "Alice"});
  for (auto& d : PagingParamDocs(50)) r.params.push_back(d);
  r.tables = {kContributors};
  r.etag = true;
  r.csv = true;
  r.response = TablePageSchema(kContributors, {{"by_type", {{"type", "object"}}}}, {"by_type"});
  r.handler = Contributors;
  routes->push_back(r);
}

}  // namespace ws::serve::api
