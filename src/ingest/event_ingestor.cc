#include "wikistream/ingest/event_ingestor.h"

#include <simdjson.h>

#include <array>
#include <cstring>
#include <limits>
#include <optional>

#include "wikistream/common/hash.h"
#include "wikistream/common/time.h"
#include "wikistream/model/event_type.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {

namespace bronze = warehouse::bronze;
using format::Column;
using format::RecordBatch;
using model::DomainFilter;
using source::kPayloadPadding;
using source::SourceRecord;

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// ---- deterministic DLQ ids ----

// Two independent 64-bit lanes over 8-byte words: a payload of hundreds of
// MB (too_large) still hashes at memory speed.
struct Hash128 {
  uint64_t a = kGoldenGamma, b = 0x243f6a8885a308d3ULL;
  void Add(std::string_view s) {
    AddWord(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      AddWord(w);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    AddWord(tail ^ (uint64_t{0xa5} << 56));
  }
  void AddWord(uint64_t w) {
    a = (a ^ w) * 0x100000001b3ULL + 0x632be59bd9b4e019ULL;
    a = (a << 29) | (a >> 35);
    b = (b + w) * 0xc2b2ae3d27d4eb4fULL;
    b ^= b >> 31;
  }
};

const char* TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "?";
}

// Top-level known fields, in the order their types are checked (bronze column order).
enum Top : int {
  kTMeta, kTType, kTId, kTNamespace, kTWiki, kTServerName, kTTitle, kTTitleUrl, kTUser, kTBot, kTMinor,
  kTPatrolled, kTComment, kTLength, kTRevision, kTLogType, kTLogAction, kTTimestamp, kTopCount
};
enum Meta : int { kMId, kMDomain, kMDt, kMTopic, kMPartition, kMOffset, kMetaCount };

int TopIndex(std::string_view k) {
  switch (k.size()) {
    case 2: return k == "id" ? kTId : -1;
    case 3: return k == "bot" ? kTBot : -1;
    case 4:
      if (k == "meta") return kTMeta;
      if (k == "type") return kTType;
      if (k == "wiki") return kTWiki;
      if (k == "user") return kTUser;
      return -1;
    case 5:
      if (k == "title") return kTTitle;
      if (k == "minor") return kTMinor;
      return -1;
    case 6: return k == "length" ? kTLength : -1;
    case 7: return k == "comment" ? kTComment : -1;
    case 8:
      if (k == "revision") return kTRevision;
      if (k == "log_type") return kTLogType;
      return -1;
    case 9:
      if (k == "namespace") return kTNamespace;
      if (k == "title_url") return kTTitleUrl;
      if (k == "patrolled") return kTPatrolled;
      if (k == "timestamp") return kTTimestamp;
      return -1;
    case 10: return k == "log_action" ? kTLogAction : -1;
    case 11: return k == "server_name" ? kTServerName : -1;
    default: return -1;
  }
}

int MetaIndex(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (k == "id") return kMId;
      if (k == "dt") return kMDt;
      return -1;
    case 5: return k == "topic" ? kMTopic : -1;
    case 6:
      if (k == "domain") return kMDomain;
      if (k == "offset") return kMOffset;
      return -1;
    case 9: return k == "partition" ? kMPartition : -1;
    default: return -1;
  }
}

// Fields of one object, first occurrence wins (as simdjson's at_key); JSON
// null is recorded as absent.
template <int N>
struct Slots {
  std::array<element, N> v;
  uint32_t present = 0;
  uint32_t seen = 0;
  bool has(int i) const { return (present >> i) & 1u; }
  void Set(int i, element e) {
    if ((seen >> i) & 1u) return;
    seen |= 1u << i;
    if (e.type() == element_type::NULL_VALUE) return;
    present |= 1u << i;
    v[i] = e;
  }
};

// Earliest year representable by ParseIso8601Micros-compatible dates (0000..9999).
constexpr int64_t kMinEventSeconds = -62167219200LL;  // 0000-01-01T00:00:00Z
constexpr int64_t kMaxEventSeconds = 253402300799LL;  // 9999-12-31T23:59:59Z

struct Failure {
  std::string code;
  std::string message;
};

// One event's fields as the rules read them: views into the parser's
// document, valid until the next parse.
struct Event {
  Slots<kTopCount> top;
  Slots<kMetaCount> meta;
  bool meta_is_object = false;
  Slots<2> length, revision;  // [0] old, [1] new
  std::optional<int64_t> meta_dt;
  int64_t event_ts = 0;
};

}  // namespace

int64_t IngestCounters::dlq_total() const {
  int64_t n = 0;
  for (const auto& [code, count] : dlq_by_code) n += count;
  return n;
}

void IngestCounters::Merge(const IngestCounters& other) {
  accepted += other.accepted;
  canary += other.canary;
  filtered += other.filtered;
  duplicate += other.duplicate;
  for (const auto& [code, count] : other.dlq_by_code) dlq_by_code[code] += count;
}

std::string DlqIdFor(std::string_view source_name, std::string_view position, std::string_view payload) {
  Hash128 h;
  h.Add(source_name);
  h.Add(position);
  h.Add(payload);
  uint64_t hi = Mix64(h.a ^ Mix64(h.b));
  uint64_t lo = Mix64(h.b + kGoldenGamma * Mix64(h.a));
  hi = (hi & ~uint64_t{0xF000}) | 0x8000;                         // version 8 (custom)
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);     // RFC variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    out[pos++] = kHex[(word >> shift) & 0xF];
  }
  return out;
}

struct EventIngestor::Impl {
  simdjson::dom::parser parser;
  std::string buffer;  // payload copy with SIMDJSON_PADDING spare bytes (no per-call allocation)
  Failure failure;
  // Events arrive roughly in time order: the date string rarely changes.
  int64_t cached_day = INT64_MIN;
  std::string cached_date;

  // --- the steps of Ingest, in rule order (docs/ingest-rules.md); each
  // returning bool returns false and fills `failure` (the DLQ row's code and
  // message) when the record goes to the DLQ ---
  // Rule 1: the payload is at most 1 MiB of UTF-8 JSON holding an object.
  bool ParseObject(const std::string& payload, element* doc);
  // The top-level and meta fields the rules read (first occurrence wins).
  static void ReadFields(element doc, Event* ev);
  // Rule 3: meta, meta.id, meta.domain and type present, non-empty strings.
  bool CheckRequired(const Event& ev);
  // Rule 3: every optional field has its type; reads length and revision.
  bool CheckOptionalTypes(Event* ev);
  // Rule 3: the event time from timestamp, else from meta.dt.
  bool ResolveEventTime(Event* ev);
  // The bronze row of an accepted event.
  void AppendBronzeRow(const Event& ev, const SourceRecord& rec, const std::string& source_name, RecordBatch* bronze);

  // --- type checks: each returns false and fills `failure` ---
  bool Fail(std::string code, std::string message) {
    failure.code = std::move(code);
    failure.message = std::move(message);
    return false;
  }
  bool Missing(const char* path) {
    return Fail(std::string("missing_field:") + path, std::string("required field ") + path + " is missing or null");
  }
  bool WrongType(const char* path, const char* expected, element e) {
    return Fail(std::string("wrong_type:") + path,
                std::string("field ") + path + " must be " + expected + ", got " + TypeName(e.type()));
  }
  bool CheckString(bool present, element e, const char* path) {
    if (!present || e.type() == element_type::STRING) return true;
    return WrongType(path, "a string", e);
  }
  bool CheckBool(bool present, element e, const char* path) {
    if (!present || e.type() == element_type::BOOL) return true;
    return WrongType(path, "a boolean", e);
  }
  bool CheckObject(bool present, element e, const char* path) {
    if (!present || e.type() == element_type::OBJECT) return true;
    return WrongType(path, "an object", e);
  }
  bool CheckInt(bool present, element e, const char* path, int64_t lo, int64_t hi, const char* expected) {
    if (!present) return true;
    if (e.type() == element_type::INT64) {
      int64_t v = int64_t(e);
      if (v >= lo && v <= hi) return true;
      return Fail(std::string("wrong_type:") + path,
                  std::string("field ") + path + " must be " + expected + ", got " + std::to_string(v));
    }
    if (e.type() == element_type::UINT64) {
      return Fail(std::string("wrong_type:") + path,
                  std::string("field ") + path + " must be " + expected + ", got an integer beyond 64-bit signed range");
    }
    return WrongType(path, expected, e);
  }
  bool CheckInt32(bool present, element e, const char* path) {
    return CheckInt(present, e, path, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                    "an integer in int32 range");
  }
  bool CheckInt64(bool present, element e, const char* path) {
    return CheckInt(present, e, path, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    "an integer in int64 range");
  }
};

EventIngestor::EventIngestor(DomainFilter filter, std::string source_name)
    : impl_(std::make_unique<Impl>()), filter_(std::move(filter)), source_name_(std::move(source_name)) {
  impl_->buffer.reserve(64 * 1024);
  // Sized for typical events up front; the parser grows itself for larger ones.
  if (impl_->parser.allocate(64 * 1024) != simdjson::SUCCESS) {
    // Out of memory this early is not recoverable here; parse() retries the allocation.
  }
}
EventIngestor::~EventIngestor() = default;
EventIngestor::EventIngestor(EventIngestor&&) noexcept = default;
EventIngestor& EventIngestor::operator=(EventIngestor&&) noexcept = default;

namespace {

std::string_view Str(element e) { return std::string_view(e); }
int64_t I64(element e) { return int64_t(e); }

void AppendOptString(Column& c, bool present, element e) {
  if (present) {
    c.AppendString(Str(e));
  } else {
    c.AppendNull();
  }
}
void AppendOptBool(Column& c, bool present, element e) {
  if (present) {
    c.AppendBool(bool(e));
  } else {
    c.AppendNull();
  }
}
void AppendOptInt32(Column& c, bool present, element e) {
  if (present) {
    c.AppendInt32(static_cast<int32_t>(I64(e)));
  } else {
    c.AppendNull();
  }
}
void AppendOptInt64(Column& c, bool present, element e) {
  if (present) {
    c.AppendInt64(I64(e));
  } else {
    c.AppendNull();
  }
}

void AppendDlq(const std::string& source_name, const SourceRecord& rec, const std::string& code,
               const std::string& message, RecordBatch* dlq) {
  auto& cols = dlq->columns();
  std::string_view payload = rec.payload;
  bool truncated = payload.size() > kMaxPayloadBytes;
  cols[bronze::kDlqId].AppendString(DlqIdFor(source_name, rec.position, rec.payload));
  cols[bronze::kReceivedAt].AppendInt64(rec.received_at_us);
  cols[bronze::kReceivedDate].AppendString(FormatDate(rec.received_at_us));
  cols[bronze::kDlqSource].AppendString(source_name);
  if (rec.position.empty()) {
    cols[bronze::kSourcePosition].AppendNull();
  } else {
    cols[bronze::kSourcePosition].AppendString(rec.position);
  }
  cols[bronze::kErrorCode].AppendString(code);
  cols[bronze::kErrorMessage].AppendString(message);
  cols[bronze::kPayload].AppendString(truncated ? payload.substr(0, kMaxPayloadBytes) : payload);
  cols[bronze::kPayloadBytes].AppendInt64(static_cast<int64_t>(payload.size()));
  cols[bronze::kPayloadTruncated].AppendBool(truncated);
  cols[bronze::kDlqSchemaVersionCol].AppendString(bronze::kDlqSchemaVersion);
}

}  // namespace

bool EventIngestor::Impl::ParseObject(const std::string& payload, element* doc) {
  if (payload.size() > kMaxPayloadBytes) {
    return Fail("too_large", "payload is " + std::to_string(payload.size()) + " bytes, over the 1 MiB limit");
  }
  // The DOM parser validates UTF-8 over the whole input as part of parsing,
  // so the separate UTF-8 pass only runs to name the error of a failed parse.
  static_assert(kPayloadPadding >= simdjson::SIMDJSON_PADDING);
  const char* json = payload.data();
  if (payload.capacity() < payload.size() + simdjson::SIMDJSON_PADDING) {
    buffer.reserve(payload.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(payload);
    json = buffer.data();
  }
  auto err = parser.parse(json, payload.size(), false).get(*doc);
  if (err) {
    if (!simdjson::validate_utf8(payload.data(), payload.size())) {
      return Fail("invalid_utf8", "payload is not valid UTF-8");
    }
    return Fail("invalid_json", std::string("payload is not JSON: ") + simdjson::error_message(err));
  }
  if (doc->type() != element_type::OBJECT) {
    return Fail("not_an_object", std::string("payload is a JSON ") + TypeName(doc->type()) + ", not an object");
  }
  return true;
}

void EventIngestor::Impl::ReadFields(element doc, Event* ev) {
  for (auto kv : simdjson::dom::object(doc)) {
    int i = TopIndex(kv.key);
    if (i >= 0) ev->top.Set(i, kv.value);
  }
  ev->meta_is_object = ev->top.has(kTMeta) && ev->top.v[kTMeta].type() == element_type::OBJECT;
  if (ev->meta_is_object) {
    for (auto kv : simdjson::dom::object(ev->top.v[kTMeta])) {
      int i = MetaIndex(kv.key);
      if (i >= 0) ev->meta.Set(i, kv.value);
    }
  }
}

bool EventIngestor::Impl::CheckRequired(const Event& ev) {
  const auto& top = ev.top;
  const auto& meta = ev.meta;
  if (!top.has(kTMeta)) return Missing("meta");
  if (!ev.meta_is_object && !CheckObject(true, top.v[kTMeta], "meta")) return false;
  if (!meta.has(kMId)) return Missing("meta.id");
  if (!CheckString(true, meta.v[kMId], "meta.id")) return false;
  if (Str(meta.v[kMId]).empty()) return Fail("missing_field:meta.id", "required field meta.id is an empty string");
  if (!meta.has(kMDomain)) return Missing("meta.domain");
  if (!CheckString(true, meta.v[kMDomain], "meta.domain")) return false;
  if (Str(meta.v[kMDomain]).empty()) {
    return Fail("missing_field:meta.domain", "required field meta.domain is an empty string");
  }
  if (!top.has(kTType)) return Missing("type");
  return CheckString(true, top.v[kTType], "type");
}

bool EventIngestor::Impl::CheckOptionalTypes(Event* ev) {
  const auto& meta = ev->meta;
  auto has = [&](int i) { return ev->top.has(i); };
  auto v = [&](int i) { return ev->top.v[i]; };
  bool ok = CheckInt64(has(kTId), v(kTId), "id") && CheckInt32(has(kTNamespace), v(kTNamespace), "namespace") &&
            CheckString(has(kTWiki), v(kTWiki), "wiki") &&
            CheckString(has(kTServerName), v(kTServerName), "server_name") &&
            CheckString(has(kTTitle), v(kTTitle), "title") && CheckString(has(kTTitleUrl), v(kTTitleUrl), "title_url") &&
            CheckString(has(kTUser), v(kTUser), "user") && CheckBool(has(kTBot), v(kTBot), "bot") &&
            CheckBool(has(kTMinor), v(kTMinor), "minor") && CheckBool(has(kTPatrolled), v(kTPatrolled), "patrolled") &&
            CheckString(has(kTComment), v(kTComment), "comment") && CheckObject(has(kTLength), v(kTLength), "length");
  if (!ok) return false;
  auto read_pair = [](element obj, Slots<2>* out) {
    for (auto kv : simdjson::dom::object(obj)) {
      if (kv.key == "old") out->Set(0, kv.value);
      else if (kv.key == "new") out->Set(1, kv.value);
    }
  };
  Slots<2>& length = ev->length;
  Slots<2>& revision = ev->revision;
  if (has(kTLength)) read_pair(v(kTLength), &length);
  ok = CheckInt32(length.has(0), length.v[0], "length.old") && CheckInt32(length.has(1), length.v[1], "length.new") &&
       CheckObject(has(kTRevision), v(kTRevision), "revision");
  if (!ok) return false;
  if (has(kTRevision)) read_pair(v(kTRevision), &revision);
  return CheckInt64(revision.has(0), revision.v[0], "revision.old") &&
         CheckInt64(revision.has(1), revision.v[1], "revision.new") &&
         CheckString(has(kTLogType), v(kTLogType), "log_type") &&
         CheckString(has(kTLogAction), v(kTLogAction), "log_action") &&
         CheckInt(has(kTTimestamp), v(kTTimestamp), "timestamp", kMinEventSeconds, kMaxEventSeconds,
                  "an integer number of seconds in years 0000-9999") &&
         CheckString(meta.has(kMDt), meta.v[kMDt], "meta.dt") &&
         CheckString(meta.has(kMTopic), meta.v[kMTopic], "meta.topic") &&
         CheckInt32(meta.has(kMPartition), meta.v[kMPartition], "meta.partition") &&
         CheckInt64(meta.has(kMOffset), meta.v[kMOffset], "meta.offset");
}

bool EventIngestor::Impl::ResolveEventTime(Event* ev) {
  const auto& meta = ev->meta;
  if (meta.has(kMDt)) ev->meta_dt = ParseIso8601Micros(Str(meta.v[kMDt]));
  if (ev->top.has(kTTimestamp)) {
    ev->event_ts = I64(ev->top.v[kTTimestamp]) * kMicrosPerSecond;
  } else if (ev->meta_dt) {
    ev->event_ts = *ev->meta_dt;
  } else {
    return Fail("missing_field:timestamp", meta.has(kMDt) ? "no timestamp and meta.dt is not an ISO-8601 time"
                                                          : "neither timestamp nor meta.dt is present");
  }
  return true;
}

void EventIngestor::Impl::AppendBronzeRow(const Event& ev, const SourceRecord& rec, const std::string& source_name,
                                          RecordBatch* bronze) {
  const auto& meta = ev.meta;
  const auto& length = ev.length;
  const auto& revision = ev.revision;
  auto has = [&](int i) { return ev.top.has(i); };
  auto v = [&](int i) { return ev.top.v[i]; };
  const int64_t event_ts = ev.event_ts;
  auto& c = bronze->columns();
  std::string_view type = Str(v(kTType));
  c[bronze::kEventId].AppendString(Str(meta.v[kMId]));
  AppendOptInt64(c[bronze::kRcId], has(kTId), v(kTId));
  c[bronze::kEventType].AppendString(type);
  AppendOptInt32(c[bronze::kNamespace], has(kTNamespace), v(kTNamespace));
  c[bronze::kDomain].AppendString(Str(meta.v[kMDomain]));
  AppendOptString(c[bronze::kWiki], has(kTWiki), v(kTWiki));
  AppendOptString(c[bronze::kServerName], has(kTServerName), v(kTServerName));
  AppendOptString(c[bronze::kTitle], has(kTTitle), v(kTTitle));
  AppendOptString(c[bronze::kTitleUrl], has(kTTitleUrl), v(kTTitleUrl));
  AppendOptString(c[bronze::kUser], has(kTUser), v(kTUser));
  c[bronze::kIsBot].AppendBool(has(kTBot) && bool(v(kTBot)));
  AppendOptBool(c[bronze::kIsMinor], has(kTMinor), v(kTMinor));
  AppendOptBool(c[bronze::kIsPatrolled], has(kTPatrolled), v(kTPatrolled));
  AppendOptString(c[bronze::kComment], has(kTComment), v(kTComment));
  AppendOptInt32(c[bronze::kLengthOld], length.has(0), length.v[0]);
  AppendOptInt32(c[bronze::kLengthNew], length.has(1), length.v[1]);
  std::optional<int64_t> delta;
  if (length.has(0) && length.has(1)) {
    delta = I64(length.v[1]) - I64(length.v[0]);
  } else if (length.has(1) && model::ParseEventType(type) == model::EventType::kNew) {
    delta = I64(length.v[1]);
  }
  // new - old of two int32 values can leave int32 range; no delta is better than a wrapped one.
  if (delta && (*delta < std::numeric_limits<int32_t>::min() || *delta > std::numeric_limits<int32_t>::max())) {
    delta.reset();
  }
  if (delta) {
    c[bronze::kLengthDelta].AppendInt32(static_cast<int32_t>(*delta));
  } else {
    c[bronze::kLengthDelta].AppendNull();
  }
  AppendOptInt64(c[bronze::kRevisionOld], revision.has(0), revision.v[0]);
  AppendOptInt64(c[bronze::kRevisionNew], revision.has(1), revision.v[1]);
  AppendOptString(c[bronze::kLogType], has(kTLogType), v(kTLogType));
  AppendOptString(c[bronze::kLogAction], has(kTLogAction), v(kTLogAction));
  c[bronze::kEventTimestamp].AppendInt64(event_ts);
  if (ev.meta_dt) {
    c[bronze::kMetaDt].AppendInt64(*ev.meta_dt);
  } else {
    c[bronze::kMetaDt].AppendNull();
  }
  AppendOptString(c[bronze::kMetaTopic], meta.has(kMTopic), meta.v[kMTopic]);
  AppendOptInt32(c[bronze::kMetaPartition], meta.has(kMPartition), meta.v[kMPartition]);
  AppendOptInt64(c[bronze::kMetaOffset], meta.has(kMOffset), meta.v[kMOffset]);
  c[bronze::kSource].AppendString(source_name);
  c[bronze::kIngestedAt].AppendInt64(rec.received_at_us);
  c[bronze::kBronzeProcessedAt].AppendInt64(rec.received_at_us);
  c[bronze::kRaw].AppendString(rec.payload);
  int64_t day = event_ts >= 0 ? event_ts / kMicrosPerDay : -((-event_ts + kMicrosPerDay - 1) / kMicrosPerDay);
  if (day != cached_day) {
    cached_day = day;
    cached_date = FormatDate(event_ts);
  }
  c[bronze::kEventDate].AppendString(cached_date);
  c[bronze::kEventHour].AppendInt32(static_cast<int32_t>((event_ts - day * kMicrosPerDay) / kMicrosPerHour));
  c[bronze::kSchemaVersion].AppendString(bronze::kRawEventsSchemaVersion);
}

IngestOutcome EventIngestor::Ingest(const SourceRecord& rec, RecordBatch* bronze, RecordBatch* dlq) {
  Impl& im = *impl_;
  auto to_dlq = [&] {
    AppendDlq(source_name_, rec, im.failure.code, im.failure.message, dlq);
    ++counters_.dlq_by_code[im.failure.code];
    return IngestOutcome::kDlq;
  };
  element doc;
  if (!im.ParseObject(rec.payload, &doc)) return to_dlq();  // rule 1
  Event ev;
  Impl::ReadFields(doc, &ev);
  // Rule 2: canary events are dropped (counted), whatever else they hold.
  const auto& domain_field = ev.meta.v[kMDomain];
  if (ev.meta.has(kMDomain) && domain_field.type() == element_type::STRING && Str(domain_field) == "canary") {
    ++counters_.canary;
    return IngestOutcome::kCanary;
  }
  // Rule 3: required fields, field types, an event time.
  if (!im.CheckRequired(ev) || !im.CheckOptionalTypes(&ev) || !im.ResolveEventTime(&ev)) return to_dlq();
  // Rule 4: the domain filter.
  if (!filter_.Accepts(Str(domain_field))) {
    ++counters_.filtered;
    return IngestOutcome::kFiltered;
  }
  im.AppendBronzeRow(ev, rec, source_name_, bronze);
  ++counters_.accepted;
  return IngestOutcome::kAccepted;
}

}  // namespace ws::ingest
