// /api/pipeline (ops.pipeline_runs, the app's status, the live path) and
// /api/pipeline/cycles (one row per batch cycle: its stages, rows and
// failure).
#include "api_internal.h"
#include "wikistream/common/time.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve::api {
namespace {

const std::string kRuns = "ops.pipeline_runs";
const std::vector<std::string> kStatuses = {"SUCCEEDED", "FAILED", "SKIPPED", "RETRYING"};

// Rows of the span, or the newest partitions (at least `want` rows).
Result<std::pair<RecordBatch, std::optional<Span>>> ReadRuns(Context& ctx, const SpanParams& sp, size_t want) {
  if (sp.date || sp.from || sp.to) {
    WS_ASSIGN_OR_RETURN(Span span, ResolveSpan(ctx, kRuns, sp));
    WS_ASSIGN_OR_RETURN(RecordBatch rows, ReadDates(ctx, kRuns, span.dates));
    return std::make_pair(std::move(rows), std::optional<Span>(std::move(span)));
  }
  WS_ASSIGN_OR_RETURN(RecordBatch rows, ReadLatest(ctx, kRuns, want));
  return std::make_pair(std::move(rows), std::optional<Span>());
}

ApiResponse Pipeline(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto stage = p.Text("stage", 64, false);
  auto status_filter = p.OneOf("status", kStatuses, true);
  auto cycle = p.Text("cycle_id", 128, false);
  Paging page = ReadPaging(p, 50);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  auto read = ReadRuns(ctx, sp, page.offset + page.limit);
  if (!read.ok()) return StoreError(req, read.status());
  const RecordBatch& rows = read->first;
  RowView v(rows);
  TableOut out(&rows);
  out.order = SelectRows(
      rows,
      [&](size_t r) {
        return (!stage || v.Str("stage", r) == *stage) && (!status_filter || v.Str("status", r) == *status_filter) &&
               (!cycle || v.Str("cycle_id", r) == *cycle);
      },
      [&](size_t a, size_t b) {
        auto ta = v.Num("started_at", a), tb = v.Num("started_at", b);
        if (ta != tb) return ta > tb;
        return v.Str("run_id", a) > v.Str("run_id", b);
      });
  json status = nullptr;
  if (ctx.callbacks.pipeline_status) {
    status = json::parse(ctx.callbacks.pipeline_status(), nullptr, false);
    if (status.is_discarded()) status = nullptr;
  }
  json live = nullptr;
  if (ctx.live) {
    live = {{"observed_rows", ctx.live->observed_rows()},
            {"sse_streams", ctx.sse_streams ? ctx.sse_streams() : 0},
            {"max_sse_streams", ctx.options.max_sse_streams}};
  }
  json meta = {{"status", status}, {"live", live}};
  if (read->second) SpanMeta(*read->second, &meta);
  ApplyPage(page, &out, &meta);
  return WriteTable(out, std::move(meta), csv);
}

const std::vector<std::string> kCycleColumns = {"cycle_id", "started_at", "finished_at", "duration_ms", "status",
                                                "stages",   "attempts",   "rows_in",     "rows_out",    "failed_stage",
                                                "error"};

ApiResponse Cycles(Context& ctx, const ApiRequest& req) {
  Params p(req);
  SpanParams sp = ReadSpanParams(p);
  auto status_filter = p.OneOf("status", {"SUCCEEDED", "FAILED"}, true);
  Paging page = ReadPaging(p, 50);
  const bool csv = p.Csv();
  if (!p.ok()) return ErrorResponse(400, p.error());
  // A week of cycles at most when no dates are given (enough for a page).
  auto read = ReadRuns(ctx, sp, std::max<size_t>(page.offset + page.limit, 1) * 8);
  if (!read.ok()) return StoreError(req, read.status());
  const RecordBatch& rows = read->first;
  RowView v(rows);
  struct Cycle {
    double started = -1, finished = -1;
    bool failed = false;
    std::string failed_stage, error;
    std::vector<std::string> stages;
    int64_t attempts = 0, rows_in = 0, rows_out = 0;
  };
  std::map<std::string, Cycle> cycles;
  for (size_t r : SelectRows(rows, nullptr, [&](size_t a, size_t b) {
         return v.Num("started_at", a) < v.Num("started_at", b);
       })) {
    auto id = v.Str("cycle_id", r);
    if (!id) continue;
    Cycle& c = cycles[std::string(*id)];
    const double start = v.Num("started_at", r).value_or(0);
    if (c.started < 0 || start < c.started) c.started = start;
    c.finished = std::max(c.finished, v.Num("finished_at", r).value_or(start));
    ++c.attempts;
    const std::string stage(v.Str("stage", r).value_or(""));
    const auto status = v.Str("status", r).value_or("");
    if (status != "RETRYING") {
      c.stages.push_back(stage + ":" + std::string(status));
      c.rows_in += static_cast<int64_t>(v.Num("rows_in", r).value_or(0));
      c.rows_out += static_cast<int64_t>(v.Num("rows_out", r).value_or(0));
    }
    if (status == "FAILED" && !c.failed) {
      c.failed = true;
      c.failed_stage = stage;
      c.error = std::string(v.Str("error", r).value_or(""));
    }
  }
  std::vector<json> list;
  for (const auto& [id, c] : cycles) {
    const std::string status = c.failed ? "FAILED" : "SUCCEEDED";
    if (status_filter && status != *status_filter) continue;
    std::string stages;
    for (const auto& s : c.stages) stages += (stages.empty() ? "" : " ") + s;
    list.push_back({{"cycle_id", id},
                    {"started_at", FormatIso8601(static_cast<int64_t>(c.started))},
                    {"finished_at", FormatIso8601(static_cast<int64_t>(c.finished))},
                    {"duration_ms", static_cast<int64_t>((c.finished - c.started) / 1000)},
                    {"status", status},
                    {"stages", stages},
                    {"attempts", c.attempts},
                    {"rows_in", c.rows_in},
                    {"rows_out", c.rows_out},
                    {"failed_stage", c.failed ? json(c.failed_stage) : json(nullptr)},
                    {"error", c.failed ? json(c.error) : json(nullptr)}});
  }
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return a["started_at"].get<std::string>() > b["started_at"].get<std::string>();
  });
  json body = PageOfList(std::move(list), page);
  if (csv) return WriteJsonRowsCsv(kCycleColumns, body["rows"]);
  if (read->second) SpanMeta(*read->second, &body);
  return JsonResponse(200, body);
}

}  // namespace

void AddPipelineRoutes(std::vector<RouteDef>* routes) {
  RouteDef runs;
  runs.path = "/api/pipeline";
  runs.summary = "ops.pipeline_runs, the app's pipeline status and the live path";
  runs.description =
      "Without dates: the newest run dates. Newest first. `status` is the app's JSON view of the ingest loop, "
      "supervisor and scheduler; `live` the live path's row count and open streams. Not cached.";
  runs.params = SpanParamDocs();
  runs.params.push_back({"stage", {{"type", "string"}, {"maxLength", 64}}, "One stage (silver, dq_silver, gold, ...).", false, "gold"});
  runs.params.push_back({"status", {{"type", "string"}, {"enum", kStatuses}}, "Run status (case-insensitive).", false, "FAILED"});
  runs.params.push_back({"cycle_id", {{"type", "string"}, {"maxLength", 128}}, "The runs of one cycle.", false, "c1"});
  for (auto& d : PagingParamDocs(50)) runs.params.push_back(d);
  runs.tables = {kRuns};
  runs.csv = true;
  runs.response = TablePageSchema(kRuns, {{"status", Nullable({{"type", "object"}})}, {"live", Nullable({{"type", "object"}})}},
                                  {"status", "live"});
  runs.handler = Pipeline;
  routes->push_back(runs);

  RouteDef cycles;
  cycles.path = "/api/pipeline/cycles";
  cycles.summary = "Batch cycle history: one row per cycle with its stages, rows and failure";
  cycles.description =
      "Newest first. `stages` lists each stage's final status in order (\"silver:SUCCEEDED gold:FAILED\"); "
      "attempts counts every run including retries; failed_stage and error name the first failure.";
  cycles.params = SpanParamDocs();
  cycles.params.push_back({"status", {{"type", "string"}, {"enum", {"SUCCEEDED", "FAILED"}}}, "Cycle outcome.", false, "FAILED"});
  for (auto& d : PagingParamDocs(50)) cycles.params.push_back(d);
  cycles.tables = {kRuns};
  cycles.etag = true;
  cycles.csv = true;
  json cycle = ObjectSchema({{"cycle_id", {{"type", "string"}}},
                             {"started_at", {{"type", "string"}}},
                             {"finished_at", {{"type", "string"}}},
                             {"duration_ms", {{"type", "integer"}}},
                             {"status", {{"type", "string"}, {"enum", {"SUCCEEDED", "FAILED"}}}},
                             {"stages", {{"type", "string"}}},
                             {"attempts", {{"type", "integer"}}},
                             {"rows_in", {{"type", "integer"}}},
                             {"rows_out", {{"type", "integer"}}},
                             {"failed_stage", Nullable({{"type", "string"}})},
                             {"error", Nullable({{"type", "string"}})}},
                            kCycleColumns);
  cycles.response = ListPageSchema(cycle);
  cycles.handler = Cycles;
  routes->push_back(cycles);
}

}  // namespace ws::serve::api
