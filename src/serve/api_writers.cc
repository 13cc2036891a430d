// The API's output formats: table rows as JSON or CSV, and gzip.
#include <zlib.h>

#include "api_internal.h"
#include "wikistream/common/time.h"

namespace ws::serve::api {
namespace {

bool IsJsonTextColumn(const std::string& name) { return name == "evidence" || name == "details"; }

// The text of one cell in CSV: the JSON value's text for numbers and
// booleans, strings as they are, the stored JSON text of evidence/details,
// empty for null.
std::string CsvCell(const Field& field, const Column& col, size_t r) {
  if (col.IsNull(r)) return "";
  switch (col.type()) {
    case TypeId::kBoolean: return col.GetBool(r) ? "true" : "false";
    case TypeId::kInt32: return std::to_string(col.GetInt32(r));
    case TypeId::kInt64: return std::to_string(col.GetInt64(r));
    case TypeId::kDouble: return json(col.GetDouble(r)).dump();
    case TypeId::kTimestampTz: return FormatIso8601(col.GetInt64(r));
    case TypeId::kBinary: return "";
    case TypeId::kString: return std::string(col.GetString(r));
  }
  return "";
}

std::string CsvJsonCell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiResponse CsvResponse(std::string body) {
  ApiResponse res;
  res.content_type = "text/csv; charset=utf-8";
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"wikistream.csv\"");
  res.body = std::move(body);
  return res;
}

}  // namespace

json CellJson(const Field& field, const Column& col, size_t r) {
  if (col.IsNull(r)) return nullptr;
  switch (col.type()) {
    case TypeId::kBoolean: return col.GetBool(r);
    case TypeId::kInt32: return col.GetInt32(r);
    case TypeId::kInt64: return col.GetInt64(r);
    case TypeId::kDouble: return col.GetDouble(r);
    case TypeId::kTimestampTz: return FormatIso8601(col.GetInt64(r));
    case TypeId::kBinary: return nullptr;  // payloads are not served
    case TypeId::kString: {
      std::string_view s = col.GetString(r);
      // JSON-text columns are served as objects for API consumers.
      if (IsJsonTextColumn(field.name)) {
        json parsed = json::parse(s, nullptr, false);
        if (!parsed.is_discarded()) return parsed;
      }
      return std::string(s);
    }
  }
  return nullptr;
}

json RowJson(const RecordBatch& b, size_t r) {
  json o = json::object();
  for (size_t c = 0; c < b.num_columns(); ++c) {
    const Field& f = b.schema()->field(c);
    if (f.name == "schema_version") continue;
    o[f.name] = CellJson(f, b.column(c), r);
  }
  return o;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

ApiResponse WriteTable(const TableOut& out, json meta, bool csv) {
  const RecordBatch* b = out.rows;
  if (!csv) {
    json rows = json::array();
    for (size_t i = 0; i < out.order.size(); ++i) {
      json row = RowJson(*b, out.order[i]);
      for (const auto& [name, values] : out.extra) row[name] = values[i];
      rows.push_back(std::move(row));
    }
    meta["rows"] = std::move(rows);
    return JsonResponse(200, meta);
  }
  // CSV: a header of the table's column names, then one line per row.
  std::vector<size_t> cols;
  std::string text;
  if (b && b->schema()) {
    for (size_t c = 0; c < b->num_columns(); ++c) {
      if (b->schema()->field(c).name != "schema_version") cols.push_back(c);
    }
  }
  bool first = true;
  auto sep = [&] {
    if (!first) text += ',';
    first = false;
  };
  for (size_t c : cols) {
    sep();
    text += CsvField(b->schema()->field(c).name);
  }
  for (const auto& [name, values] : out.extra) {
    sep();
    text += CsvField(name);
  }
  text += "\r\n";
  for (size_t i = 0; i < out.order.size(); ++i) {
    first = true;
    for (size_t c : cols) {
      sep();
      text += CsvField(CsvCell(b->schema()->field(c), b->column(c), out.order[i]));
    }
    for (const auto& [name, values] : out.extra) {
      sep();
      text += CsvField(CsvJsonCell(values[i]));
    }
    text += "\r\n";
  }
  return CsvResponse(std::move(text));
}

ApiResponse WriteJsonRowsCsv(const std::vector<std::string>& columns, const json& rows) {
  std::string text;
  for (size_t c = 0; c < columns.size(); ++c) text += (c ? "," : "") + CsvField(columns[c]);
  text += "\r\n";
  for (const json& row : rows) {
    for (size_t c = 0; c < columns.size(); ++c) {
      auto it = row.find(columns[c]);
      text += (c ? "," : "") + CsvField(it == row.end() ? "" : CsvJsonCell(*it));
    }
    text += "\r\n";
  }
  return CsvResponse(std::move(text));
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper (RFC 1952) instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

}  // namespace ws::serve::api
