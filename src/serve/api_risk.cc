// /api/risk (gold.risk_scores, optionally limited to users who edited some
// wikis) and /api/risk/user (one user's evidence: scores and factors per
// day, hourly activity, wikis, pages, events and alerts).
#include <unordered_map>
#include <unordered_set>

#include "api_internal.h"
#include "wikistream/common/time.h"
#include "wikistream/alerts/alert_sink.h"

namespace ws::serve::api {
namespace {

const std::string kRisk = "gold.risk_scores";
const std::string kSilver = "silver.cleaned_events";
const std::string kAlerts = "ops.alerts";

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Per scored user of one day: their eligible (non-bot) events per wiki.
using UserWikis = std::unordered_map<std::string, std::map<std::string, int64_t>, StringHash, std::equal_to<>>;

Result<std::shared_ptr<const UserWikis>> WikisOfScoredUsers(Context& ctx, const std::string& date,
                                                            const RecordBatch& risk_rows) {
  WS_ASSIGN_OR_RETURN(int64_t silver_id, ctx.store->SnapshotId(kSilver));
  WS_ASSIGN_OR_RETURN(int64_t risk_id, ctx.store->SnapshotId(kRisk));
  const std::string key = fmt::format("risk-wikis|{}|{}|{}", date, silver_id, risk_id);
  if (auto hit = ctx.derived->Get(key)) return std::static_pointer_cast<const UserWikis>(hit);
  auto wikis = std::make_shared<UserWikis>();
  RowView rv(risk_rows);
  for (size_t r = 0; r < risk_rows.num_rows(); ++r) {
    if (rv.Str("stat_date", r) != date) continue;
    if (auto e = rv.Str("entity_id", r)) wikis->emplace(std::string(*e), std::map<std::string, int64_t>());
  }
  // Counted as the scan goes: no row is kept.
  struct Index {
    const Schema* schema = nullptr;
    int user = -1, domain = -1, bot = -1;
  };
  auto index = std::make_shared<Index>();
  auto count = [wikis, index](const RecordBatch& b, size_t r) {
    if (b.schema().get() != index->schema) {
      index->schema = b.schema().get();
      index->user = b.schema()->FieldIndex("user_normalized");
      index->domain = b.schema()->FieldIndex("domain");
      index->bot = b.schema()->FieldIndex("is_bot");
    }
    if (index->user < 0 || index->domain < 0) return false;
    const Column& u = b.column(static_cast<size_t>(index->user));
    if (u.IsNull(r)) return false;
    if (index->bot >= 0 && b.column(static_cast<size_t>(index->bot)).GetBool(r)) return false;
    auto it = wikis->find(u.GetString(r));
    if (it == wikis->end()) return false;
    ++it->second[std::string(b.column(static_cast<size_t>(index->domain)).GetString(r))];
    return false;
  };
  if (!wikis->empty()) {
    WS_RETURN_IF_ERROR(ScanSilver(ctx, {date}, {"user_normalized", "domain", "is_bot"}, count, 0).status());
  }
  ctx.derived->Put(key, wikis);
  return std::shared_ptr<const UserWikis>(wikis);
}

bool InScope(std::string_view domain, const std::optional<std::string>& want_domain,
             const std::optional<std::string>& want_region) {
  if (want_domain && domain != *want_domain) return false;
  if (want_region && RegionOfDomain(domain) != *want_region) return false;
  return true;
}

ApiResponse Risk(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto level = p.Level("level");
  auto risk_level = p.Level("risk_level");
  auto user_type = p.UserType();
  auto domain = p.Domain();
  auto region = p.Region();
  Paging page = ReadPaging(p, 100);
  const bool csv = p.Csv();
  if (p.ok() && level && risk_level && *level != *risk_level) p.Fail("level and risk_level differ");
  if (p.ok() && (domain || region) && sp.from && sp.to &&
      DaysBetween(*sp.from, *sp.to).size() > static_cast<size_t>(kMaxSilverDays)) {
    p.Fail(fmt::format("with domain or region, from..to must span at most {} days", kMaxSilverDays));
  }
  if (!p.ok()) return ErrorResponse(400, p.error());
  if (!level) level = risk_level;
  auto span = ResolveSpan(ctx, kRisk, sp);
  if (!span.ok()) return StoreError(req, span.status());
  std::vector<std::string> dates = span->dates;
  const bool scoped = domain || region;
  if (scoped && dates.size() > static_cast<size_t>(kMaxSilverDays)) {
    dates.erase(dates.begin(), dates.end() - kMaxSilverDays);
  }
  auto rows = ReadDates(ctx, kRisk, dates);
  if (!rows.ok()) return StoreError(req, rows.status());
  RowView v(*rows);

  // With a wiki scope: each scored user's events in the scope's wikis that day.
  std::map<std::string, std::shared_ptr<const UserWikis>> scope_by_date;
  if (scoped && ctx.store) {
    for (const auto& d : dates) {
      auto w = WikisOfScoredUsers(ctx, d, *rows);
      if (!w.ok()) return StoreError(req, w.status());
      scope_by_date[d] = *w;
    }
  }
  std::vector<int64_t> scope_edits(rows->num_rows(), 0);
  std::vector<json> scope_wikis(rows->num_rows());
  auto in_scope = [&](size_t r) {
    if (!scoped) return true;
    auto d = v.Str("stat_date", r);
    auto e = v.Str("entity_id", r);
    if (!d || !e) return false;
    auto it = scope_by_date.find(std::string(*d));
    if (it == scope_by_date.end() || !it->second) return false;
    auto u = it->second->find(*e);
    if (u == it->second->end()) return false;
    json list = json::array();
    for (const auto& [wiki, n] : u->second) {
      if (!InScope(wiki, domain, region)) continue;
      scope_edits[r] += n;
      list.push_back({{"domain", wiki}, {"edits", n}});
    }
    scope_wikis[r] = std::move(list);
    return scope_edits[r] > 0;
  };
  std::vector<char> scope_ok(rows->num_rows());
  json counts = {{"HIGH", 0}, {"MEDIUM", 0}, {"LOW", 0}};
  for (size_t r = 0; r < rows->num_rows(); ++r) {
    scope_ok[r] = in_scope(r);
    if (!scope_ok[r]) continue;
    if (user_type && !user_type->Matches(v.Str("user_type", r))) continue;
    auto l = v.Str("risk_level", r);
    if (l && counts.contains(std::string(*l))) counts[std::string(*l)] = counts[std::string(*l)].get<int64_t>() + 1;
  }
  TableOut out(&*rows);
  out.order = SelectRows(
      *rows,
      [&](size_t r) {
        if (!scope_ok[r]) return false;
        if (level && v.Str("risk_level", r) != *level) return false;
        return !user_type || user_type->Matches(v.Str("user_type", r));
      },
      [&](size_t a, size_t b) {
        auto da = v.Str("stat_date", a), db = v.Str("stat_date", b);
        if (da != db) return da > db;
        auto sa = v.Num("risk_score", a), sb = v.Num("risk_score", b);
        if (sa != sb) return sa > sb;
        auto ea = v.Num("total_edits", a), eb = v.Num("total_edits", b);
        if (ea != eb) return ea > eb;
        return v.Str("entity_id", a) < v.Str("entity_id", b);
      });
  if (scoped) {
    std::vector<json> edits, wikis;
    for (size_t r : out.order) {
      edits.emplace_back(scope_edits[r]);
      wikis.push_back(scope_wikis[r]);
    }
    out.extra = {{"edits_in_scope", std::move(edits)}, {"wikis_in_scope", std::move(wikis)}};
  }
  json meta = {{"level", OptJson(level)},
               {"counts", counts},
               {"domain", OptJson(domain)},
               {"region", OptJson(region)},
               {"user_type", user_type ? json(user_type->text) : json(nullptr)}};
  span->dates = dates;
  SpanMeta(*span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

std::vector<Alert> SinkAlertsOf(Context& ctx, const std::string& user) {
  std::vector<Alert> out;
  if (!ctx.alerts) return out;
  for (Alert& a : ctx.alerts->Recent(1000)) {
    if (a.entity == user) out.push_back(std::move(a));
  }
  return out;
}

ApiResponse RiskUser(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p, kMaxSilverDays);
  auto user = p.Text("user", 256, true);
  auto limit = p.Int("limit", 1, kMaxLimit);
  if (!p.ok()) return ErrorResponse(400, p.error());
  const size_t max_list = static_cast<size_t>(limit.value_or(100));
  // No dates: the week up to the newest scored date.
  if (!sp.date && !sp.from && !sp.to && ctx.store) {
    auto dates = ctx.store->Dates(kRisk);
    if (!dates.ok() && !dates.status().IsNotFound()) return StoreError(req, dates.status());
    if (dates.ok() && !dates->empty()) sp.to = dates->back();
  }
  auto span = ResolveSpan(ctx, kRisk, sp);
  if (!span.ok()) return StoreError(req, span.status());
  const std::vector<std::string> days = SpanDays(*span);

  // Gold: the user's score per day, with its points and evidence.
  auto risk = ReadDates(ctx, kRisk, span->dates);
  if (!risk.ok()) return StoreError(req, risk.status());
  RowView rv(*risk);
  json scores = json::array();
  for (size_t r : SelectRows(*risk, [&](size_t r) { return rv.Str("entity_id", r) == *user; },
                             [&](size_t a, size_t b) { return rv.Str("stat_date", a) < rv.Str("stat_date", b); })) {
    scores.push_back(RowJson(*risk, r));
  }

  // Silver: every event of the user in the span (bounded).
  constexpr size_t kMaxEvents = 200'000;
  auto slice = ScanSilver(ctx, days,
                          {"event_timestamp", "event_date", "event_hour", "domain", "title", "event_type", "user_type",
                           "is_bot", "is_anonymous", "length_delta", "is_large_deletion", "revision_new",
                           "user_normalized"},
                          MatchStrings({{"user_normalized", *user}}), kMaxEvents);
  if (!slice.ok()) return StoreError(req, slice.status());
  const RecordBatch& ev = slice->rows;
  RowView sv(ev);
  std::map<std::pair<std::string, int>, int64_t> hourly;
  struct WikiSum {
    int64_t events = 0, bytes_added = 0, bytes_removed = 0, large_deletions = 0;
  };
  std::map<std::string, WikiSum> wikis;
  struct PageSum {
    int64_t events = 0, bytes_changed = 0;
    double last = 0;
  };
  std::map<std::pair<std::string, std::string>, PageSum> pages;
  for (size_t r = 0; r < ev.num_rows(); ++r) {
    ++hourly[{std::string(sv.Str("event_date", r).value_or("")), static_cast<int>(sv.Num("event_hour", r).value_or(0))}];
    const std::string domain(sv.Str("domain", r).value_or(""));
    const double delta = sv.Num("length_delta", r).value_or(0);
    WikiSum& w = wikis[domain];
    ++w.events;
    if (delta > 0) w.bytes_added += static_cast<int64_t>(delta);
    if (delta < 0) w.bytes_removed += static_cast<int64_t>(-delta);
    if (sv.Num("is_large_deletion", r).value_or(0) > 0) ++w.large_deletions;
    if (auto t = sv.Str("title", r)) {
      PageSum& ps = pages[{domain, std::string(*t)}];
      ++ps.events;
      ps.bytes_changed += static_cast<int64_t>(std::abs(delta));
      ps.last = std::max(ps.last, sv.Num("event_timestamp", r).value_or(0));
    }
  }
  json hourly_json = json::array();
  for (const auto& [key, n] : hourly) hourly_json.push_back({{"date", key.first}, {"hour", key.second}, {"events", n}});
  json wikis_json = json::array();
  for (const auto& [d, w] : wikis) {
    wikis_json.push_back({{"domain", d}, {"region", std::string(RegionOfDomain(d))}, {"events", w.events},
                          {"bytes_added", w.bytes_added}, {"bytes_removed", w.bytes_removed},
                          {"large_deletions", w.large_deletions}});
  }
  std::stable_sort(wikis_json.begin(), wikis_json.end(),
                   [](const json& a, const json& b) { return a["events"].get<int64_t>() > b["events"].get<int64_t>(); });
  std::vector<std::pair<std::pair<std::string, std::string>, PageSum>> page_list(pages.begin(), pages.end());
  std::stable_sort(page_list.begin(), page_list.end(), [](const auto& a, const auto& b) {
    if (a.second.events != b.second.events) return a.second.events > b.second.events;
    return a.second.last > b.second.last;
  });
  json pages_json = json::array();
  for (size_t i = 0; i < page_list.size() && i < max_list; ++i) {
    const auto& [key, ps] = page_list[i];
    pages_json.push_back({{"domain", key.first}, {"title", key.second}, {"events", ps.events},
                          {"bytes_changed", ps.bytes_changed},
                          {"last_seen", FormatIso8601(static_cast<int64_t>(ps.last))}});
  }
  json events = json::array();
  for (size_t r : SelectRows(ev, nullptr, [&](size_t a, size_t b) {
         return sv.Num("event_timestamp", a) > sv.Num("event_timestamp", b);
       })) {
    if (events.size() >= max_list) break;
    json e = RowJson(ev, r);
    e.erase("user_normalized");
    events.push_back(std::move(e));
  }

  // Alerts: ops.alerts of the span's dates, plus raised ones not yet committed.
  std::vector<std::string> alert_dates;
  if (ctx.store) {
    auto dates = ctx.store->Dates(kAlerts);
    if (!dates.ok() && !dates.status().IsNotFound()) return StoreError(req, dates.status());
    if (dates.ok()) {
      for (const auto& d : days) {
        if (std::binary_search(dates->begin(), dates->end(), d)) alert_dates.push_back(d);
      }
    }
  }
  auto alert_rows = ReadDates(ctx, kAlerts, alert_dates);
  if (!alert_rows.ok()) return StoreError(req, alert_rows.status());
  RowView av(*alert_rows);
  json alerts = json::array();
  std::set<std::string> ids;
  for (size_t r = 0; r < alert_rows->num_rows(); ++r) {
    if (av.Str("entity", r) != *user) continue;
    if (auto id = av.Str("alert_id", r)) ids.emplace(*id);
    alerts.push_back(RowJson(*alert_rows, r));
  }
  const std::set<std::string> day_set(days.begin(), days.end());
  for (const Alert& a : SinkAlertsOf(ctx, *user)) {
    if (ids.count(a.alert_id) || !day_set.count(a.alert_date)) continue;
    alerts.push_back(AlertJson(a));
  }
  std::stable_sort(alerts.begin(), alerts.end(), [](const json& a, const json& b) {
    return a.value("raised_at", std::string()) > b.value("raised_at", std::string());
  });

  json body = {{"user", *user},
               {"from", days.empty() ? json(nullptr) : json(days.front())},
               {"to", days.empty() ? json(nullptr) : json(days.back())},
               {"scores", scores},
               {"hourly", hourly_json},
               {"wikis", wikis_json},
               {"pages", pages_json},
               {"pages_total", pages.size()},
               {"events", events},
               {"events_total", ev.num_rows()},
               {"truncated", slice->truncated},
               {"alerts", alerts}};
  return JsonResponse(200, body);
}

}  // namespace

void AddRiskRoutes(std::vector<RouteDef>* routes) {
  RouteDef risk;
  risk.path = "/api/risk";
  risk.summary = "gold.risk_scores: scored users with their evidence";
  risk.description =
      "Newest day first, then risk_score desc, total_edits desc, entity_id. `counts` gives the users per level "
      "(after the scope and user_type filters). With domain or region, only users with events in those wikis "
      "that day are listed (read from silver, at most 31 days), with edits_in_scope and wikis_in_scope.";
  risk.params = SpanParamDocs();
  risk.params.push_back({"level", {{"type", "string"}, {"enum", {"LOW", "MEDIUM", "HIGH"}}},
                         "Risk level (case-insensitive).", false, "HIGH"});
  risk.params.push_back({"risk_level", {{"type", "string"}, {"enum", {"LOW", "MEDIUM", "HIGH"}}},
                         "Same as level.", false, "HIGH"});
  risk.params.push_back(UserTypeParamDoc());
  risk.params.push_back(DomainParamDoc());
  risk.params.push_back(RegionParamDoc());
  for (auto& d : PagingParamDocs(100)) risk.params.push_back(d);
  risk.tables = {kRisk, kSilver};
  risk.etag = true;
  risk.csv = true;
  json row = RowSchema(kRisk);
  row["properties"]["edits_in_scope"] = {{"type", "integer"}};
  row["properties"]["wikis_in_scope"] = ArrayOf(ObjectSchema({{"domain", {{"type", "string"}}}, {"edits", {{"type", "integer"}}}}));
  risk.response = TablePageSchema(kRisk, {{"counts", ObjectSchema({{"HIGH", {{"type", "integer"}}},
                                                                   {"MEDIUM", {{"type", "integer"}}},
                                                                   {"LOW", {{"type", "integer"}}}},
                                                                  {"HIGH", "MEDIUM", "LOW"})},
                                          {"level", Nullable({{"type", "string"}})}},
                                  {"counts"});
  risk.response["properties"]["rows"] = ArrayOf(row);
  risk.handler = Risk;
  routes->push_back(risk);

  RouteDef user;
  user.path = "/api/risk/user";
  user.summary = "One user's evidence: daily scores and factors, activity, wikis, pages, events and alerts";
  user.description =
      "`scores`: the user's gold.risk_scores rows in the span (points per factor and evidence); from silver "
      "(the span's dates only, at most 31 days and 200,000 events, see `truncated`): `hourly` events per "
      "(date, hour), `wikis`, the most edited `pages` and the newest `events` (limit each, default 100); "
      "`alerts`: the user's ops.alerts rows of those dates plus alerts raised but not yet committed. Without "
      "dates: the seven days up to the newest scored date.";
  user.params = {{"user", {{"type", "string"}, {"maxLength", 256}}, "user_normalized (the entity_id).", true, "Vandal"}};
  for (auto& d : SpanParamDocs()) user.params.push_back(d);
  user.params.push_back(LimitParam(100));
  user.tables = {kRisk, kSilver, kAlerts};
  user.etag = true;
  user.etag_extra = [](Context& ctx, const ApiRequest& req) {
    std::string key;
    if (auto u = req.Param("user")) {
      for (const Alert& a : SinkAlertsOf(ctx, *u)) key += a.alert_id + (a.delivered ? "+" : "-");
    }
    return key;
  };
  user.response = ObjectSchema(
      {{"user", {{"type", "string"}}},
       {"from", Nullable({{"type", "string"}})},
       {"to", Nullable({{"type", "string"}})},
       {"scores", ArrayOf(RowSchema(kRisk))},
       {"hourly", ArrayOf(ObjectSchema({{"date", {{"type", "string"}}}, {"hour", {{"type", "integer"}}}, {"events", {{"type", "integer"}}}},
                                       {"date", "hour", "events"}))},
       {"wikis", ArrayOf(ObjectSchema({{"domain", {{"type", "string"}}}, {"events", {{"type", "integer"}}}}, {"domain", "events"}))},
       {"pages", ArrayOf(ObjectSchema({{"domain", {{"type", "string"}}}, {"title", {{"type", "string"}}}, {"events", {{"type", "integer"}}}},
                                      {"domain", "title", "events"}))},
       {"pages_total", {{"type", "integer"}}},
       {"events", ArrayOf({{"type", "object"}})},
       {"events_total", {{"type", "integer"}}},
       {"truncated", {{"type", "boolean"}}},
       {"alerts", ArrayOf(RowSchema(kAlerts))}},
      {"user", "scores", "hourly", "wikis", "pages", "events", "events_total", "truncated", "alerts"});
  user.handler = RiskUser;
  routes->push_back(user);
}

}  // namespace ws::serve::api
