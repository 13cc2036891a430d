// Query parameters, date spans and row reading shared by the API resources.
#include <algorithm>

#include "api_internal.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/model/region.h"
#include "wikistream/model/risk_level.h"

namespace ws::serve {

std::optional<std::string> ApiRequest::Param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v.empty() ? std::nullopt : std::optional<std::string>(v);
  }
  return std::nullopt;
}

std::string ApiResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return "";
}

namespace api {

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse res;
  res.status = status;
  // Bodies can echo request bytes (the path of an unknown API route), which
  // need not be UTF-8: replace bad sequences (U+FFFD) instead of letting
  // dump() throw.
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return res;
}

ApiResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, json{{"error", message}});
}

ApiResponse StoreError(const ApiRequest& req, const Status& status) {
  log::Error("http", "{}: {}", req.path, status.ToString());
  return ErrorResponse(500, status.ToString());
}

std::shared_ptr<const void> DerivedCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void DerivedCache::Put(const std::string& key, std::shared_ptr<const void> value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(value));
  index_[key] = lru_.begin();
  while (lru_.size() > max_entries_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

// ----------------------------------------------------------------------------
// Parameters

bool IsValidDate(std::string_view v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (v[i] < '0' || v[i] > '9') return false;
  }
  auto micros = ParseDateMicros(v);
  return micros && FormatDate(*micros) == v;
}

std::optional<std::string> Params::Date(const char* name) {
  auto v = Raw(name);
  if (v && !IsValidDate(*v)) {
    Fail(fmt::format("{} must be a valid YYYY-MM-DD date", name));
    return std::nullopt;
  }
  return v;
}

std::optional<int> Params::Int(const char* name, int lo, int hi) {
  auto v = Raw(name);
  if (!v) return std::nullopt;
  const bool digits = v->size() <= 9 && std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
  const int n = digits ? std::stoi(*v) : -1;
  if (!digits || n < lo || n > hi) {
    Fail(fmt::format("{} must be an integer {}..{}", name, lo, hi));
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> Params::Domain() {
  auto v = Raw("domain");
  if (!v) return v;
  const bool ok = v->size() <= 253 && std::all_of(v->begin(), v->end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                           c == '-';
                  });
  if (!ok) {
    Fail("domain must be a host name such as en.wikipedia.org");
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> Params::Region() {
  auto v = Raw("region");
  if (!v) return v;
  if (model::ParseRegion(*v)) return v;
  Fail("region must be one of asia_pacific, europe, americas, middle_east, other");
  return std::nullopt;
}

std::optional<UserTypeFilter> Params::UserType() {
  auto v = Raw("user_type");
  if (!v) return std::nullopt;
  UserTypeFilter f;
  f.text = *v;
  std::transform(f.text.begin(), f.text.end(), f.text.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t start = 0;
  while (start <= f.text.size()) {
    size_t end = f.text.find(',', start);
    if (end == std::string::npos) end = f.text.size();
    const std::string t = f.text.substr(start, end - start);
    if (t == "bot" || t == "registered" || t == "ip" || t == "temporary" || t == "unknown") {
      f.types.insert(t);
    } else if (t == "human") {
      f.types.insert({"registered", "ip", "temporary", "unknown"});
    } else if (t == "anonymous") {
      f.types.insert({"ip", "temporary"});
    } else {
      Fail("user_type must be a comma-separated list of bot, registered, ip, temporary, unknown, human, anonymous");
      return std::nullopt;
    }
    start = end + 1;
  }
  return f;
}

std::optional<std::string> Params::Level(const char* name) {
  auto v = Raw(name);
  if (!v) return v;
  std::string up = *v;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (!model::ParseRiskLevel(up)) {
    Fail(fmt::format("{} must be LOW, MEDIUM or HIGH", name));
    return std::nullopt;
  }
  return up;
}

std::optional<std::string> Params::OneOf(const char* name, const std::vector<std::string>& values, bool upper) {
  auto v = Raw(name);
  if (!v) return v;
  std::string s = *v;
  if (upper) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  if (std::find(values.begin(), values.end(), s) != values.end()) return s;
  std::string list;
  for (size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + values[i];
  Fail(fmt::format("{} must be one of {}", name, list));
  return std::nullopt;
}

std::optional<std::string> Params::Text(const char* name, size_t max_bytes, bool required) {
  auto v = Raw(name);
  if (!v) {
    if (required) Fail(fmt::format("{} is required", name));
    return v;
  }
  if (v->size() > max_bytes) {
    Fail(fmt::format("{} must be at most {} bytes", name, max_bytes));
    return std::nullopt;
  }
  return v;
}

bool Params::Csv() {
  auto f = OneOf("format", {"json", "csv"});
  return f && *f == "csv";
}

// ----------------------------------------------------------------------------
// Spans

namespace {
int64_t DayNumber(const std::string& date) { return *ParseDateMicros(date) / kMicrosPerDay; }
std::string DateOfDay(int64_t day) { return FormatDate(day * kMicrosPerDay); }
}  // namespace

SpanParams ReadSpanParams(Params& p, int max_days) {
  SpanParams sp;
  sp.date = p.Date("date");
  sp.from = p.Date("from");
  sp.to = p.Date("to");
  if (!p.ok()) return sp;
  if (sp.date && (sp.from || sp.to)) {
    p.Fail("use either date or from/to");
  } else if (sp.from && sp.to) {
    if (*sp.from > *sp.to) {
      p.Fail("from must not be after to");
    } else if (DayNumber(*sp.to) - DayNumber(*sp.from) + 1 > max_days) {
      p.Fail(fmt::format("from..to must span at most {} days", max_days));
    }
  }
  return sp;
}

Result<Span> ResolveSpan(Context& ctx, const std::string& table, const SpanParams& sp) {
  Span span;
  if (ctx.store) {
    auto dates = ctx.store->Dates(table);
    if (!dates.ok() && !dates.status().IsNotFound()) return dates.status();
    if (dates.ok()) span.all_dates = std::move(dates).value();
  }
  if (!sp.from && !sp.to) {
    span.date = sp.date;
    if (!span.date && !span.all_dates.empty()) span.date = span.all_dates.back();
    if (span.date && std::binary_search(span.all_dates.begin(), span.all_dates.end(), *span.date)) {
      span.dates = {*span.date};
    }
    return span;
  }
  span.range = true;
  // Defaults: to = the newest date with data (at least from); from = a week before to.
  if (sp.to) {
    span.to = *sp.to;
  } else {
    span.to = span.all_dates.empty() ? *sp.from : std::max(*sp.from, span.all_dates.back());
    span.to = std::min(span.to, DateOfDay(DayNumber(*sp.from) + kMaxSpanDays - 1));
  }
  span.from = sp.from ? *sp.from : DateOfDay(DayNumber(span.to) - 6);
  for (const auto& d : span.all_dates) {
    if (d >= span.from && d <= span.to) span.dates.push_back(d);
  }
  return span;
}

void SpanMeta(const Span& span, json* meta) {
  if (span.range) {
    (*meta)["from"] = span.from;
    (*meta)["to"] = span.to;
    (*meta)["dates"] = span.dates;
  } else {
    (*meta)["date"] = OptJson(span.date);
  }
}

std::vector<std::string> SpanDays(const Span& span) {
  if (span.range) return DaysBetween(span.from, span.to);
  if (span.date) return {*span.date};
  return {};
}

// ----------------------------------------------------------------------------
// Rows

Result<RecordBatch> ReadRows(Context& ctx, const std::string& table, const std::optional<std::string>& date) {
  if (!ctx.store) return RecordBatch();
  auto rows = ctx.store->ReadTable(table, date);
  if (!rows.ok() && rows.status().IsNotFound()) return RecordBatch();
  return rows;
}

Result<RecordBatch> ReadDates(Context& ctx, const std::string& table, const std::vector<std::string>& dates) {
  RecordBatch out;
  for (const auto& d : dates) {
    WS_ASSIGN_OR_RETURN(RecordBatch part, ReadRows(ctx, table, d));
    if (!part.schema()) continue;
    if (!out.schema()) {
      out = std::move(part);
    } else if (out.schema()->Equals(*part.schema())) {
      out.Append(part);
    }
  }
  return out;
}

Result<RecordBatch> ReadLatest(Context& ctx, const std::string& table, size_t limit) {
  constexpr int kMaxDatesScanned = 7;
  if (!ctx.store) return RecordBatch();
  auto dates = ctx.store->Dates(table);
  if (!dates.ok()) {
    if (dates.status().IsNotFound()) return RecordBatch();
    return dates.status();
  }
  RecordBatch out;
  int scanned = 0;
  for (auto it = dates->rbegin(); it != dates->rend() && scanned < kMaxDatesScanned; ++it, ++scanned) {
    WS_ASSIGN_OR_RETURN(RecordBatch part, ReadRows(ctx, table, *it));
    if (!part.schema()) continue;
    if (!out.schema()) {
      out = std::move(part);
    } else if (out.schema()->Equals(*part.schema())) {
      out.Append(part);
    } else {
      break;  // an older schema: the newest partitions are enough
    }
    if (out.num_rows() >= limit) break;
  }
  return out;
}

std::vector<std::string> DaysBetween(const std::string& from, const std::string& to) {
  std::vector<std::string> days;
  for (std::string d = from; d <= to && days.size() < static_cast<size_t>(kMaxSpanDays); d = NextDate(d)) {
    days.push_back(d);
  }
  return days;
}

Result<SilverSlice> ScanSilver(Context& ctx, const std::vector<std::string>& days, std::vector<std::string> columns,
                               std::function<bool(const RecordBatch&, size_t)> keep, size_t max_rows) {
  const std::string table = "silver.cleaned_events";
  SilverSlice slice;
  if (!ctx.store) return slice;
  auto dates = ctx.store->Dates(table);
  if (!dates.ok()) {
    if (dates.status().IsNotFound()) return slice;
    return dates.status();
  }
  AnalyticsStore::ScanSpec spec;
  for (const auto& d : days) {
    if (std::binary_search(dates->begin(), dates->end(), d)) spec.dates.push_back(d);
  }
  spec.columns = std::move(columns);
  spec.keep = std::move(keep);
  spec.max_rows = max_rows + 1;
  auto rows = ctx.store->Scan(table, spec);
  if (!rows.ok()) {
    if (rows.status().IsNotFound()) return slice;
    return rows.status();
  }
  slice.rows = std::move(rows).value();
  if (slice.rows.num_rows() > max_rows) {
    slice.truncated = true;
    std::vector<uint32_t> keep_rows(max_rows);
    for (size_t i = 0; i < max_rows; ++i) keep_rows[i] = static_cast<uint32_t>(i);
    slice.rows.RetainRows(keep_rows);
  }
  return slice;
}

std::function<bool(const RecordBatch&, size_t)> MatchStrings(std::vector<std::pair<std::string, std::string>> conditions) {
  struct State {
    std::vector<std::pair<std::string, std::string>> conditions;
    const Schema* schema = nullptr;
    std::vector<int> index;
  };
  auto state = std::make_shared<State>();
  state->conditions = std::move(conditions);
  return [state](const RecordBatch& b, size_t r) {
    if (b.schema().get() != state->schema) {
      state->schema = b.schema().get();
      state->index.clear();
      for (const auto& [name, value] : state->conditions) state->index.push_back(b.schema()->FieldIndex(name));
    }
    for (size_t i = 0; i < state->index.size(); ++i) {
      const int c = state->index[i];
      if (c < 0) return false;
      const Column& col = b.column(static_cast<size_t>(c));
      if (col.IsNull(r) || col.type() != TypeId::kString || col.GetString(r) != state->conditions[i].second) {
        return false;
      }
    }
    return true;
  };
}

RowView::RowView(const RecordBatch& b) : b_(b) {}

int RowView::Index(std::string_view name) const { return b_.schema() ? b_.schema()->FieldIndex(name) : -1; }

std::optional<std::string_view> RowView::Str(std::string_view name, size_t r) const {
  const int i = Index(name);
  if (i < 0 || b_.column(i).IsNull(r) || b_.column(i).type() != TypeId::kString) return std::nullopt;
  return b_.column(i).GetString(r);
}

std::optional<double> RowView::Num(std::string_view name, size_t r) const {
  const int i = Index(name);
  if (i < 0 || b_.column(i).IsNull(r)) return std::nullopt;
  const Column& c = b_.column(i);
  switch (c.type()) {
    case TypeId::kInt32: return c.GetInt32(r);
    case TypeId::kInt64:
    case TypeId::kTimestampTz: return static_cast<double>(c.GetInt64(r));
    case TypeId::kDouble: return c.GetDouble(r);
    case TypeId::kBoolean: return c.GetBool(r) ? 1 : 0;
    default: return std::nullopt;
  }
}

json OptJson(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

std::vector<size_t> SelectRows(const RecordBatch& b, const std::function<bool(size_t)>& keep,
                               const std::function<bool(size_t, size_t)>& less) {
  std::vector<size_t> idx;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    if (!keep || keep(r)) idx.push_back(r);
  }
  if (less) std::stable_sort(idx.begin(), idx.end(), less);
  return idx;
}

Paging ReadPaging(Params& p, size_t default_limit) {
  Paging page;
  auto limit = p.Int("limit", 1, kMaxLimit);
  auto offset = p.Int("offset", 0, 100'000'000);
  page.limit = limit ? static_cast<size_t>(*limit) : default_limit;
  page.offset = offset ? static_cast<size_t>(*offset) : 0;
  return page;
}

void ApplyPage(const Paging& page, TableOut* out, json* meta) {
  const size_t total = out->order.size();
  const size_t begin = std::min(page.offset, total);
  const size_t end = page.limit == 0 ? total : std::min(total, begin + page.limit);
  auto slice = [&](auto& v) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(end), v.end());
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(begin));
  };
  slice(out->order);
  for (auto& [name, values] : out->extra) slice(values);
  (*meta)["total"] = total;
  (*meta)["offset"] = page.offset;
  (*meta)["limit"] = page.limit == 0 ? json(nullptr) : json(page.limit);
  (*meta)["next_offset"] = end < total ? json(end) : json(nullptr);
}

json PageOfList(std::vector<json> list, const Paging& page) {
  const size_t total = list.size();
  const size_t begin = std::min(page.offset, total);
  const size_t end = page.limit == 0 ? total : std::min(total, begin + page.limit);
  json rows = json::array();
  for (size_t i = begin; i < end; ++i) rows.push_back(std::move(list[i]));
  return json{{"rows", std::move(rows)},
              {"total", total},
              {"offset", page.offset},
              {"limit", page.limit == 0 ? json(nullptr) : json(page.limit)},
              {"next_offset", end < total ? json(end) : json(nullptr)}};
}

std::string_view RegionOfDomain(std::string_view domain) { return model::Name(model::RegionOf(domain).region); }

}  // namespace api
}  // namespace ws::serve
