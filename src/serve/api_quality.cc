// Data quality: /api/dq (dq_audit.quality_results and the gates),
// /api/dq/runs (one row per gate run, over time) and /api/dlq
// (bronze.dlq_events without payloads).
#include "api_internal.h"
#include "wikistream/common/time.h"

namespace ws::serve::api {
namespace {

const std::string kQuality = "dq_audit.quality_results";
const std::string kDlq = "bronze.dlq_events";

struct Gate {
  std::string run_id;
  std::string layer;
  std::string run_date;
  double ts = -1;
  bool passed = true;
  int64_t checks = 0, passed_checks = 0, failed = 0, warnings = 0, errors = 0, skipped = 0;
};

// One entry per (layer, run_id) of `rows` in `keep`.
std::map<std::pair<std::string, std::string>, Gate> Runs(const RecordBatch& rows, const std::function<bool(size_t)>& keep) {
  RowView v(rows);
  std::map<std::pair<std::string, std::string>, Gate> runs;
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (keep && !keep(r)) continue;
    auto layer = v.Str("layer", r);
    auto run = v.Str("run_id", r);
    if (!layer || !run) continue;
    Gate& g = runs[{std::string(*layer), std::string(*run)}];
    g.layer = *layer;
    g.run_id = *run;
    g.run_date = v.Str("run_date", r).value_or("");
    g.ts = std::max(g.ts, v.Num("run_timestamp", r).value_or(0));
    ++g.checks;
    const auto status = v.Str("status", r).value_or("");
    if (status == "PASSED") ++g.passed_checks;
    if (status == "WARNING") ++g.warnings;
    if (status == "SKIPPED") ++g.skipped;
    if (status == "FAILED" || status == "ERROR") {
      ++(status == "FAILED" ? g.failed : g.errors);
      if (v.Str("severity", r) == "error") g.passed = false;
    }
  }
  return runs;
}

json GateJson(const Gate& g) {
  return {{"layer", g.layer},
          {"run_id", g.run_id},
          {"run_date", g.run_date},
          {"run_timestamp", FormatIso8601(static_cast<int64_t>(g.ts))},
          {"passed", g.passed},
          {"checks", g.checks},
          {"passed_checks", g.passed_checks},
          {"failed", g.failed + g.errors},
          {"warnings", g.warnings},
          {"skipped", g.skipped}};
}

ApiResponse Dq(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto layer = p.OneOf("layer", {"silver", "gold"});
  auto status = p.OneOf("status", {"PASSED", "FAILED", "WARNING", "ERROR", "SKIPPED"}, true);
  auto check = p.Text("check", 256, false);
  Paging page = ReadPaging(p, 100);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  RecordBatch rows;
  std::optional<Span> span;
  if (sp.date || sp.from || sp.to) {
    auto s = ResolveSpan(ctx, kQuality, sp);
    if (!s.ok()) return StoreError(req, s.status());
    span = std::move(s).value();
    auto r = ReadDates(ctx, kQuality, span->dates);
    if (!r.ok()) return StoreError(req, r.status());
    rows = std::move(r).value();
  } else {
    auto r = ReadLatest(ctx, kQuality, page.offset + page.limit);
    if (!r.ok()) return StoreError(req, r.status());
    rows = std::move(r).value();
  }
  RowView v(rows);
  auto in_layer = [&](size_t r) { return !layer || v.Str("layer", r) == *layer; };
  // The gate of each layer's latest run: passes iff no error check FAILED/ERROR.
  std::map<std::string, Gate> gates;
  for (const auto& [key, g] : Runs(rows, in_layer)) {
    Gate& latest = gates[key.first];
    if (g.ts > latest.ts || (g.ts == latest.ts && g.run_id > latest.run_id)) latest = g;
  }
  json gates_json = json::array();
  for (const auto& [name, g] : gates) gates_json.push_back(GateJson(g));
  TableOut out(&rows);
  out.order = SelectRows(
      rows,
      [&](size_t r) {
        return in_layer(r) && (!status || v.Str("status", r) == *status) && (!check || v.Str("check_name", r) == *check);
      },
      [&](size_t a, size_t b) {
        auto ta = v.Num("run_timestamp", a), tb = v.Num("run_timestamp", b);
        if (ta != tb) return ta > tb;
        auto la = v.Str("layer", a), lb = v.Str("layer", b);
        if (la != lb) return la < lb;
        return v.Str("check_name", a) < v.Str("check_name", b);
      });
  json meta = {{"gates", gates_json}};
  if (span) SpanMeta(*span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

const std::vector<std::string> kRunColumns = {"layer",  "run_id",        "run_date", "run_timestamp", "passed",
                                              "checks", "passed_checks", "failed",   "warnings",      "skipped"};

ApiResponse DqRuns(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto layer = p.OneOf("layer", {"silver", "gold"});
  Paging page = ReadPaging(p, 200);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  if (!sp.date && !sp.from && !sp.to && ctx.store) {
    auto dates = ctx.store->Dates(kQuality);
    if (!dates.ok() && !dates.status().IsNotFound()) return StoreError(req, dates.status());
    if (dates.ok() && !dates->empty()) sp.to = dates->back();
  }
  auto span = ResolveSpan(ctx, kQuality, sp);
  if (!span.ok()) return StoreError(req, span.status());
  auto rows = ReadDates(ctx, kQuality, span->dates);
  if (!rows.ok()) return StoreError(req, rows.status());
  RowView v(*rows);
  std::vector<Gate> runs;
  for (auto& [key, g] : Runs(*rows, [&](size_t r) { return !layer || v.Str("layer", r) == *layer; })) {
    runs.push_back(g);
  }
  std::stable_sort(runs.begin(), runs.end(), [](const Gate& a, const Gate& b) {
    if (a.ts != b.ts) return a.ts > b.ts;
    return a.layer < b.layer;
  });
  std::vector<json> list;
  for (const Gate& g : runs) list.push_back(GateJson(g));
  json body = PageOfList(std::move(list), page);
  if (csv) return WriteJsonRowsCsv(kRunColumns, body["rows"]);
  SpanMeta(*span, &body);
  return JsonResponse(200, body);
}

const std::vector<std::string> kDlqColumns = {"dlq_id",        "received_at",   "received_date",    "source",
                                              "source_position", "error_code",  "error_message",    "payload_bytes",
                                              "payload_truncated"};

ApiResponse Dlq(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto code = p.Text("error_code", 256, false);
  Paging page = ReadPaging(p, 100);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto span = ResolveSpan(ctx, kDlq, sp);
  if (!span.ok()) return StoreError(req, span.status());
  RecordBatch rows;
  bool truncated = false;
  constexpr size_t kMaxRows = 200'000;
  if (ctx.store && !span->dates.empty()) {
    AnalyticsStore::ScanSpec scan;
    scan.dates = span->dates;
    scan.columns = kDlqColumns;
    scan.max_rows = kMaxRows + 1;
    auto r = ctx.store->Scan(kDlq, scan);
    if (!r.ok() && !r.status().IsNotFound()) return StoreError(req, r.status());
    if (r.ok()) rows = std::move(r).value();
    truncated = rows.num_rows() > kMaxRows;
  }
  RowView v(rows);
  json by_code = json::object();
  TableOut out(&rows);
  out.order = SelectRows(
      rows,
      [&](size_t r) {
        const std::string c(v.Str("error_code", r).value_or(""));
        by_code[c] = by_code.value(c, 0) + 1;
        return !code || c == *code;
      },
      [&](size_t a, size_t b) { return v.Num("received_at", a) > v.Num("received_at", b); });
  json meta = {{"by_code", by_code}, {"truncated", truncated}};
  SpanMeta(*span, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

}  // namespace

void AddQualityRoutes(std::vector<RouteDef>* routes) {
  RouteDef dq;
  dq.path = "/api/dq";
  dq.summary = "dq_audit.quality_results and each layer's latest gate";
  dq.description =
      "Without dates: the newest run dates. Newest first, then layer and check. `gates`: for each layer's "
      "latest run among the rows read, `passed` (no error check FAILED or ERROR), checks, failures and "
      "warnings.";
  dq.params = SpanParamDocs();
  dq.params.push_back({"layer", {{"type", "string"}, {"enum", {"silver", "gold"}}}, "Gate layer.", false, "silver"});
  dq.params.push_back({"status", {{"type", "string"}, {"enum", {"PASSED", "FAILED", "WARNING", "ERROR", "SKIPPED"}}},
                       "Check status (case-insensitive).", false, "PASSED"});
  dq.params.push_back({"check", {{"type", "string"}, {"maxLength", 256}}, "One check_name.", false, "event_id_complete"});
  for (auto& d : PagingParamDocs(100)) dq.params.push_back(d);
  dq.tables = {kQuality};
  dq.etag = true;
  dq.csv = true;
  json gate = ObjectSchema({{"layer", {{"type", "string"}}},
                            {"run_id", {{"type", "string"}}},
                            {"run_date", {{"type", "string"}}},
                            {"run_timestamp", {{"type", "string"}}},
                            {"passed", {{"type", "boolean"}}},
                            {"checks", {{"type", "integer"}}},
                            {"passed_checks", {{"type", "integer"}}},
                            {"failed", {{"type", "integer"}}},
                            {"warnings", {{"type", "integer"}}},
                            {"skipped", {{"type", "integer"}}}},
                           kRunColumns);
  dq.response = TablePageSchema(kQuality, {{"gates", ArrayOf(gate)}}, {"gates"});
  dq.handler = Dq;
  routes->push_back(dq);

  RouteDef runs;
  runs.path = "/api/dq/runs";
  runs.summary = "Every gate run in a span: checks passed, failed, warned, skipped, and the verdict";
  runs.description = "Newest first. Without dates: the seven days up to the newest run date.";
  runs.params = SpanParamDocs();
  runs.params.push_back({"layer", {{"type", "string"}, {"enum", {"silver", "gold"}}}, "Gate layer.", false, "gold"});
  for (auto& d : PagingParamDocs(200)) runs.params.push_back(d);
  runs.tables = {kQuality};
  runs.etag = true;
  runs.csv = true;
  runs.response = ListPageSchema(gate);
  runs.handler = DqRuns;
  routes->push_back(runs);

  RouteDef dlq;
  dlq.path = "/api/dlq";
  dlq.summary = "bronze.dlq_events (without payloads): rejected payloads and why";
  dlq.description =
      "Newest first; `by_code` counts the span's events per error_code (before the error_code filter). At most "
      "200,000 events are read (`truncated`).";
  dlq.params = SpanParamDocs();
  dlq.params.push_back({"error_code", {{"type", "string"}, {"maxLength", 256}}, "One error_code.", false, "invalid_json"});
  for (auto& d : PagingParamDocs(100)) dlq.params.push_back(d);
  dlq.tables = {kDlq};
  dlq.etag = true;
  dlq.csv = true;
  json row = RowSchema(kDlq);
  row["properties"].erase("payload");
  row["required"].erase(std::find(row["required"].begin(), row["required"].end(), json("payload")));
  dlq.response = TablePageSchema(kDlq, {{"by_code", {{"type", "object"}}}, {"truncated", {{"type", "boolean"}}}},
                                 {"by_code", "truncated"});
  dlq.response["properties"]["rows"] = ArrayOf(row);
  dlq.handler = Dlq;
  routes->push_back(dlq);
}

}  // namespace ws::serve::api
