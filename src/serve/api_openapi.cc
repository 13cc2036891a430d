// The OpenAPI 3.1 document, generated from the route table: every route's
// parameters, response schema (table rows typed from the tables' own
// schemas) and errors.
#include "api_internal.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::serve::api {
namespace {

const char* kDateDoc = "One day, YYYY-MM-DD (default: the newest date with data). Not with from/to.";

SchemaPtr TableSchema(const std::string& table) {
  if (table == "bronze.dlq_events") return warehouse::bronze::DlqEventsSchema();
  for (const warehouse::TableDef* def : warehouse::AllPipelineTables()) {
    if (def->full_name() == table) return def->schema;
  }
  return nullptr;
}

json TypeOf(const Field& f) {
  json t;
  switch (f.type) {
    case TypeId::kBoolean: t = {{"type", "boolean"}}; break;
    case TypeId::kInt32:
    case TypeId::kInt64: t = {{"type", "integer"}}; break;
    case TypeId::kDouble: t = {{"type", "number"}}; break;
    case TypeId::kTimestampTz: t = {{"type", "string"}, {"format", "date-time"}}; break;
    case TypeId::kBinary: t = {{"type", "null"}}; break;  // payloads are not served
    case TypeId::kString:
      if (f.name == "evidence" || f.name == "details") {
        t = {{"type", json::array({"object", "string"})}};
      } else {
        t = {{"type", "string"}};
      }
      break;
  }
  if (!f.required && f.type != TypeId::kBinary) t = Nullable(t);
  return t;
}

}  // namespace

json Nullable(json schema) {
  if (!schema.contains("type")) return json{{"anyOf", json::array({schema, {{"type", "null"}}})}};
  json t = schema["type"];
  if (t.is_string()) t = json::array({t});
  if (std::find(t.begin(), t.end(), json("null")) == t.end()) t.push_back("null");
  schema["type"] = t;
  return schema;
}

json ObjectSchema(json properties, std::vector<std::string> required) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = required;
  return s;
}

json ArrayOf(json items) { return json{{"type", "array"}, {"items", std::move(items)}}; }

json RowSchema(const std::string& table) {
  SchemaPtr schema = TableSchema(table);
  json props = json::object();
  std::vector<std::string> required;
  if (schema) {
    for (const Field& f : schema->fields()) {
      if (f.name == "schema_version") continue;
      props[f.name] = TypeOf(f);
      required.push_back(f.name);
    }
  }
  json s = ObjectSchema(props, required);
  s["description"] = "A row of " + table + " (docs/tables.md).";
  return s;
}

json ListPageSchema(json item, json extra, std::vector<std::string> extra_required) {
  json props = std::move(extra);
  props["rows"] = ArrayOf(std::move(item));
  props["total"] = {{"type", "integer"}, {"description", "rows matching the filters"}};
  props["offset"] = {{"type", "integer"}};
  props["limit"] = Nullable({{"type", "integer"}});
  props["next_offset"] = Nullable({{"type", "integer"}});
  std::vector<std::string> required = {"rows", "total", "offset", "limit", "next_offset"};
  required.insert(required.end(), extra_required.begin(), extra_required.end());
  return ObjectSchema(props, required);
}

json TablePageSchema(const std::string& table, json extra_properties, std::vector<std::string> extra_required) {
  if (!extra_properties.is_object()) extra_properties = json::object();
  return ListPageSchema(RowSchema(table), std::move(extra_properties), std::move(extra_required));
}

ParamDoc DateParam() { return {"date", {{"type", "string"}, {"format", "date"}}, kDateDoc, false, "2024-08-22"}; }
ParamDoc FromParam() {
  return {"from", {{"type", "string"}, {"format", "date"}},
          "First day of an inclusive span (default: six days before `to`).", false, "2024-08-21"};
}
ParamDoc ToParam() {
  return {"to", {{"type", "string"}, {"format", "date"}},
          "Last day of an inclusive span (default: the newest date with data).", false, "2024-08-22"};
}
ParamDoc DomainParamDoc() {
  return {"domain", {{"type", "string"}, {"pattern", "^[A-Za-z0-9.-]{1,253}$"}}, "One wiki.", false,
          "en.wikipedia.org"};
}
ParamDoc RegionParamDoc() {
  return {"region",
          {{"type", "string"}, {"enum", {"asia_pacific", "europe", "americas", "middle_east", "other"}}},
          "Wikis of one region (docs/tables.md's domain table).", false, "europe"};
}
ParamDoc UserTypeParamDoc() {
  return {"user_type", {{"type", "string"}, {"pattern", "^(bot|registered|ip|temporary|unknown|human|anonymous)(,(bot|registered|ip|temporary|unknown|human|anonymous))*$"}},
          "Comma-separated user types; `human` = every type but bot, `anonymous` = ip and temporary.", false,
          "human"};
}
ParamDoc LimitParam(int default_limit) {
  return {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxLimit}},
          default_limit > 0 ? fmt::format("Page size (default {}).", default_limit)
                            : std::string("Page size (default: every row)."),
          false, "5"};
}
ParamDoc OffsetParam() {
  return {"offset", {{"type", "integer"}, {"minimum", 0}}, "Rows to skip (see next_offset).", false, "0"};
}
ParamDoc FormatParam() {
  return {"format", {{"type", "string"}, {"enum", {"json", "csv"}}},
          "csv: text/csv with a header row of the column names, the same rows as the JSON.", false, "csv"};
}
std::vector<ParamDoc> SpanParamDocs() { return {DateParam(), FromParam(), ToParam()}; }
std::vector<ParamDoc> PagingParamDocs(int default_limit) {
  return {LimitParam(default_limit), OffsetParam(), FormatParam()};
}

json OpenApiDocument(const std::vector<RouteDef>& routes) {
  json error = {{"description", "See the error message"},
                {"content", {{"application/json", {{"schema", ObjectSchema({{"error", {{"type", "string"}}}}, {"error"})}}}}}};
  json paths = json::object();
  for (const RouteDef& r : routes) {
    json op = {{"summary", r.summary}, {"operationId", r.method + r.path}};
    if (!r.description.empty()) op["description"] = r.description;
    json params = json::array();
    for (const ParamDoc& p : r.params) {
      json param = {{"name", p.name}, {"in", "query"}, {"required", p.required}, {"schema", p.schema},
                    {"description", p.description}};
      if (!p.example.empty()) param["example"] = p.example;
      params.push_back(param);
    }
    if (!params.empty()) op["parameters"] = params;
    json ok = {{"description", "OK"}};
    if (r.stream) {
      ok["content"] = {{"text/event-stream", {{"schema", {{"type", "string"}}}}}};
    } else if (r.content_type != "application/json") {
      ok["content"] = {{r.content_type, {{"schema", {{"type", "string"}}}}}};
    } else {
      json content = {{"application/json", {{"schema", r.response}}}};
      if (r.csv) content["text/csv"] = {{"schema", {{"type", "string"}}}};
      ok["content"] = content;
    }
    json responses = {{"200", ok}};
    if (r.etag) {
      responses["200"]["headers"] = {{"ETag", {{"schema", {{"type", "string"}}},
                                               {"description", "Derived from the snapshot ids of the tables read"}}}};
      responses["304"] = {{"description", "Not modified (If-None-Match matched the ETag)"}};
    }
    if (!r.params.empty()) responses["400"] = error;
    if (r.admin) responses["401"] = error;
    if (!r.tables.empty()) responses["500"] = error;
    if (r.stream || r.admin || r.path == "/healthz" || r.path == "/readyz") responses["503"] = error;
    op["responses"] = responses;
    if (r.admin) op["security"] = json::array({{{"bearer", json::array()}}});
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
    paths[r.path][method] = op;
  }
  return json{{"openapi", "3.1.0"},
              {"info",
               {{"title", "WikiStream API"},
                {"version", "1"},
                {"description",
                 "Gold, data-quality and ops tables of the WikiStream warehouse, the live path, and operations. "
                 "Reference: docs/serving.md."}}},
              {"paths", paths},
              {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace ws::serve::api
