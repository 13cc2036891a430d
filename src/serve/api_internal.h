// The pieces every API resource file shares: the route table entry, the
// context handlers read from, query-parameter validation, date spans,
// reading rows, and the table writers (JSON, CSV). Private to src/serve.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/model/alert.h"
#include "wikistream/serve/analytics_store.h"
#include "wikistream/serve/api.h"

namespace ws::serve::api {

using format::Column;
using format::Field;
using format::RecordBatch;
using format::Schema;
using format::SchemaPtr;
using format::TypeId;
using model::Alert;
using nlohmann::json;

// Longest span a table endpoint reads (gold and ops tables are small per
// day), and the longest span of silver a user or page view scans.
inline constexpr int kMaxSpanDays = 400;
inline constexpr int kMaxSilverDays = 31;
inline constexpr int kMaxLimit = 1000;

// A small LRU of values computed from tables, keyed by a string that names
// the snapshot ids they were computed from (so a stale entry is never hit).
class DerivedCache {
 public:
  explicit DerivedCache(size_t max_entries) : max_entries_(max_entries) {}
  std::shared_ptr<const void> Get(const std::string& key);
  void Put(const std::string& key, std::shared_ptr<const void> value);

 private:
  std::mutex mu_;
  size_t max_entries_;
  std::list<std::pair<std::string, std::shared_ptr<const void>>> lru_;
  std::map<std::string, decltype(lru_)::iterator> index_;
};

// What handlers read from; the pointers may be null.
struct Context {
  ApiOptions options;
  AnalyticsStore* store = nullptr;
  live::LiveAggregator* live = nullptr;
  alerts::AlertSink* alerts = nullptr;
  prometheus::Registry* registry = nullptr;
  ServerCallbacks callbacks;
  std::function<size_t()> sse_streams;
  std::shared_ptr<DerivedCache> derived = std::make_shared<DerivedCache>(128);
};

// ----------------------------------------------------------------------------
// Responses

ApiResponse JsonResponse(int status, const json& body);
ApiResponse ErrorResponse(int status, const std::string& message);
// A store failure (500 with its message; logged).
ApiResponse StoreError(const ApiRequest& req, const Status& status);

// ----------------------------------------------------------------------------
// Parameters. Each getter validates one parameter; the first failure is kept
// as the request's one-line 400 reason.

struct UserTypeFilter {
  std::string text;              // as given, lower case
  std::set<std::string> types;   // bot, registered, ip, temporary, unknown
  bool Matches(std::optional<std::string_view> type) const { return type && types.count(std::string(*type)); }
};

class Params {
 public:
  explicit Params(const ApiRequest& req) : req_(req) {}

  std::optional<std::string> Raw(const char* name) const { return req_.Param(name); }
  std::optional<std::string> Date(const char* name);
  std::optional<int> Int(const char* name, int lo, int hi);
  std::optional<std::string> Domain();
  std::optional<std::string> Region();
  std::optional<UserTypeFilter> UserType();
  // LOW/MEDIUM/HIGH (case-insensitive), returned upper case.
  std::optional<std::string> Level(const char* name);
  // One of `values` (exact, or upper-cased first when `upper`).
  std::optional<std::string> OneOf(const char* name, const std::vector<std::string>& values, bool upper = false);
  // Free text up to max_bytes (a user or page title).
  std::optional<std::string> Text(const char* name, size_t max_bytes, bool required);
  bool Csv();  // format=json|csv

  void Fail(std::string message) {
    if (!error_) error_ = std::move(message);
  }
  bool ok() const { return !error_; }
  const std::string& error() const { return *error_; }

 private:
  const ApiRequest& req_;
  std::optional<std::string> error_;
};

bool IsValidDate(std::string_view v);

// The dates a request covers: `date=` (one day, default the newest with
// data) or `from=`/`to=` (inclusive; a missing end defaults to the newest /
// oldest date with data). `dates` are the partitions in the span that hold
// data (ascending).
struct Span {
  bool range = false;
  std::optional<std::string> date;  // single-date mode
  std::string from, to;             // range mode
  std::vector<std::string> dates;
  std::vector<std::string> all_dates;  // every date of the table (ascending)
};

// The span into a response: from, to and dates (the dates with data) for a
// range, else date.
void SpanMeta(const Span& span, json* meta);
// The calendar days a span covers (a range's every day, or the one date).
std::vector<std::string> SpanDays(const Span& span);

// Parses date/from/to (400 when combined or out of order, or a span longer
// than max_days).
struct SpanParams {
  std::optional<std::string> date, from, to;
};
SpanParams ReadSpanParams(Params& p, int max_days = kMaxSpanDays);
// Resolves the span against the table's dates.
Result<Span> ResolveSpan(Context& ctx, const std::string& table, const SpanParams& sp);

// ----------------------------------------------------------------------------
// Rows

// Reads the rows of `table` for `date` (a missing table = empty batch).
Result<RecordBatch> ReadRows(Context& ctx, const std::string& table, const std::optional<std::string>& date);
// Every row of the given partitions (one schema; an older schema ends it).
Result<RecordBatch> ReadDates(Context& ctx, const std::string& table, const std::vector<std::string>& dates);
// The newest partitions of a date-partitioned log table (ops, dq) until at
// least `limit` rows, at most 7 partitions.
Result<RecordBatch> ReadLatest(Context& ctx, const std::string& table, size_t limit);

// Calendar days from..to (inclusive).
std::vector<std::string> DaysBetween(const std::string& from, const std::string& to);

// A bounded slice of silver.cleaned_events: the partitions of `days` that
// exist, projected onto `columns`, the rows `keep` selects, at most max_rows
// (truncated says the scan stopped there).
struct SilverSlice {
  RecordBatch rows;
  bool truncated = false;
};
Result<SilverSlice> ScanSilver(Context& ctx, const std::vector<std::string>& days, std::vector<std::string> columns,
                               std::function<bool(const RecordBatch&, size_t)> keep, size_t max_rows);

// A row filter for Scan: every named string column equals its value.
std::function<bool(const RecordBatch&, size_t)> MatchStrings(std::vector<std::pair<std::string, std::string>> conditions);

// Typed accessors by column name that tolerate a missing column (nullopt).
class RowView {
 public:
  explicit RowView(const RecordBatch& b);
  std::optional<std::string_view> Str(std::string_view name, size_t r) const;
  std::optional<double> Num(std::string_view name, size_t r) const;
  int Index(std::string_view name) const;

 private:
  const RecordBatch& b_;
};

// Orders two rows of a gold table that ranks within each wiki
// (gold.trending_pages per hour, gold.top_contributors per day) once the
// caller's date and hour keys are equal: one wiki's rows in gold's own
// `rank` (serve does not rank again), rows of different wikis merged by
// `merge_before`, then by domain.
template <class MergeBefore>
bool GoldRankBefore(const RowView& v, size_t a, size_t b, MergeBefore merge_before) {
  auto da = v.Str("domain", a), db = v.Str("domain", b);
  if (da == db) return v.Num("rank", a) < v.Num("rank", b);
  if (merge_before(a, b)) return true;
  if (merge_before(b, a)) return false;
  return da < db;
}

json CellJson(const Field& field, const Column& col, size_t r);
json RowJson(const RecordBatch& b, size_t r);
json OptJson(const std::optional<std::string>& v);

// ----------------------------------------------------------------------------
// Table output: rows of a batch in a chosen order, one page of them, as JSON
// ({..., "rows": [...]}) or CSV (a header row of the table's column names).

struct Paging {
  size_t limit = 0;  // 0 = every row
  size_t offset = 0;
};
// limit (1..1000, default `default_limit`; 0 = every row when absent) and offset.
Paging ReadPaging(Params& p, size_t default_limit);

struct TableOut {
  explicit TableOut(const RecordBatch* batch) : rows(batch) {}
  const RecordBatch* rows;
  std::vector<size_t> order;  // selected rows, in output order
  // Extra computed columns appended after the table's (one value per entry of `order`).
  std::vector<std::pair<std::string, std::vector<json>>> extra;
};

// Applies the page to `out` (dropping the other rows, extras included) and
// adds total/offset/limit/next_offset to `meta`.
void ApplyPage(const Paging& page, TableOut* out, json* meta);
// {meta..., "rows": [...]} or, for CSV, the rows as text/csv.
ApiResponse WriteTable(const TableOut& out, json meta, bool csv);
// One page of computed rows: {"rows", "total", "offset", "limit", "next_offset"}.
json PageOfList(std::vector<json> list, const Paging& page);
// The schema of such a page (plus `extra` properties).
json ListPageSchema(json item, json extra = json::object(), std::vector<std::string> extra_required = {});
// CSV of JSON objects (a column per key of `columns`).
ApiResponse WriteJsonRowsCsv(const std::vector<std::string>& columns, const json& rows);

// Sorted indexes of the rows `keep` selects.
std::vector<size_t> SelectRows(const RecordBatch& b, const std::function<bool(size_t)>& keep,
                               const std::function<bool(size_t, size_t)>& less);

// gzip (RFC 1952) of `data` at the default level.
std::string Gzip(std::string_view data);
std::string CsvField(std::string_view text);

// ----------------------------------------------------------------------------
// Routes and their OpenAPI description

using Handler = std::function<ApiResponse(Context&, const ApiRequest&)>;

struct ParamDoc {
  std::string name;
  json schema;  // JSON Schema of the value
  std::string description;
  bool required = false;
  std::string example;  // a valid value (the conformance test sends it)
};

struct RouteDef {
  std::string method = "GET";
  std::string path;
  std::string summary;
  std::string description;
  std::vector<ParamDoc> params;
  // Tables read. When `etag` is set, they are the only input: the ETag and
  // the response cache key derive from their snapshot ids.
  std::vector<std::string> tables;
  bool etag = false;
  bool csv = false;     // accepts format=csv
  bool stream = false;  // text/event-stream, carried by the transport
  bool admin = false;   // needs the bearer token
  // Inputs besides the tables that the ETag must cover (e.g. alerts not yet
  // committed); "" when none.
  std::function<std::string(Context&, const ApiRequest&)> etag_extra;
  json response;        // JSON Schema of a 200 body
  std::string content_type = "application/json";  // of a 200 body
  Handler handler;
};

// Parameter documents shared by the resources.
ParamDoc DateParam();
ParamDoc FromParam();
ParamDoc ToParam();
ParamDoc DomainParamDoc();
ParamDoc RegionParamDoc();
ParamDoc UserTypeParamDoc();
ParamDoc LimitParam(int default_limit);
ParamDoc OffsetParam();
ParamDoc FormatParam();
std::vector<ParamDoc> SpanParamDocs();     // date, from, to
std::vector<ParamDoc> PagingParamDocs(int default_limit);  // limit, offset, format

// JSON Schemas for responses.
json RowSchema(const std::string& table);  // one row of a table (schema_version left out)
json ObjectSchema(json properties, std::vector<std::string> required = {});
json ArrayOf(json items);
json Nullable(json schema);
// {"rows": [row...]} plus the paging fields and `extra` properties.
json TablePageSchema(const std::string& table, json extra_properties, std::vector<std::string> extra_required = {});

// Each resource file adds its routes.
void AddSummaryRoutes(std::vector<RouteDef>* routes);       // api_summary.cc
void AddWikisRoutes(std::vector<RouteDef>* routes);         // api_wikis.cc
void AddRiskRoutes(std::vector<RouteDef>* routes);          // api_risk.cc
void AddTrendingRoutes(std::vector<RouteDef>* routes);      // api_trending.cc
void AddContributorsRoutes(std::vector<RouteDef>* routes);  // api_contributors.cc
void AddQualityRoutes(std::vector<RouteDef>* routes);       // api_quality.cc
void AddPipelineRoutes(std::vector<RouteDef>* routes);      // api_pipeline.cc
void AddAlertsRoutes(std::vector<RouteDef>* routes);        // api_alerts.cc
void AddSystemRoutes(std::vector<RouteDef>* routes);        // api_system.cc

// The OpenAPI document of `routes` (api_openapi.cc).
json OpenApiDocument(const std::vector<RouteDef>& routes);

// An AlertSink alert as an ops.alerts row (api_alerts.cc).
json AlertJson(const Alert& alert);

// Region of a wiki by its domain (docs/tables.md's domain table).
std::string_view RegionOfDomain(std::string_view domain);

}  // namespace ws::serve::api
