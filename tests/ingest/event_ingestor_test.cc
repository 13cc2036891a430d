#include "wikistream/ingest/event_ingestor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "wikistream/common/time.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using model::DomainFilter;
using source::SourceRecord;

namespace {

using nlohmann::json;

json BaseEvent() {
  return json::parse(R"({"$schema":"/mediawiki/recentchange/1.0.0",
    "meta":{"uri":"https://en.wikipedia.org/wiki/X","request_id":"r1","id":"11111111-2222-3333-4444-555555555555",
            "dt":"2024-08-22T10:15:30.250Z","domain":"en.wikipedia.org","stream":"mediawiki.recentchange",
            "topic":"eqiad.mediawiki.recentchange","partition":0,"offset":5123456789},
    "id":1790000000,"type":"edit","namespace":0,"title":"Example","title_url":"https://en.wikipedia.org/wiki/Example",
    "comment":"fix","timestamp":1724321730,"user":"Alice","bot":false,"minor":true,"patrolled":false,
    "length":{"old":1000,"new":1250},"revision":{"old":100,"new":101},
    "server_url":"https://en.wikipedia.org","server_name":"en.wikipedia.org","server_script_path":"/w",
    "wiki":"enwiki","parsedcomment":"fix"})");
}

struct Harness {
  EventIngestor ing{DomainFilter(), "replay"};
  RecordBatch bronze{bronze::RawEventsSchema()};
  RecordBatch dlq{bronze::DlqEventsSchema()};

  IngestOutcome Run(const std::string& payload, const std::string& position = "{\"file\":\"f\",\"offset\":1}") {
    SourceRecord rec;
    rec.payload = payload;
    rec.received_at_us = 1724321800000000;  // 2024-08-22T10:16:40Z
    rec.position = position;
    return ing.Ingest(rec, &bronze, &dlq);
  }
  std::string LastCode() const {
    return std::string(dlq.column(bronze::kErrorCode).GetString(dlq.num_rows() - 1));
  }
};

// Runs `payload` and expects a DLQ row with `code`.
void ExpectDlq(const std::string& payload, const std::string& code) {
  Harness h;
  ASSERT_EQ(h.Run(payload), IngestOutcome::kDlq) << payload;
  ASSERT_EQ(h.dlq.num_rows(), 1u);
  EXPECT_EQ(h.bronze.num_rows(), 0u);
  EXPECT_EQ(h.LastCode(), code) << payload;
  EXPECT_EQ(h.ing.counters().dlq_by_code.at(code), 1);
  EXPECT_EQ(h.ing.counters().dlq_total(), 1);
  EXPECT_FALSE(h.dlq.column(bronze::kErrorMessage).GetString(0).empty());
  EXPECT_TRUE(h.dlq.Validate().ok());
}
void ExpectDlqJson(const json& j, const std::string& code) { ExpectDlq(j.dump(), code); }

void ExpectAccepted(const json& j) {
  Harness h;
  EXPECT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted) << j.dump();
  if (h.dlq.num_rows()) ADD_FAILURE() << h.LastCode();
}

TEST(Ingest, AcceptedRowHasEveryColumn) {
  Harness h;
  std::string payload = BaseEvent().dump();
  ASSERT_EQ(h.Run(payload), IngestOutcome::kAccepted);
  ASSERT_EQ(h.bronze.num_rows(), 1u);
  ASSERT_TRUE(h.bronze.Validate().ok()) << h.bronze.Validate().ToString();
  const auto& b = h.bronze;
  EXPECT_EQ(b.column(bronze::kEventId).GetString(0), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(b.column(bronze::kRcId).GetInt64(0), 1790000000);
  EXPECT_EQ(b.column(bronze::kEventType).GetString(0), "edit");
  EXPECT_EQ(b.column(bronze::kNamespace).GetInt32(0), 0);
  EXPECT_EQ(b.column(bronze::kDomain).GetString(0), "en.wikipedia.org");
  EXPECT_EQ(b.column(bronze::kWiki).GetString(0), "enwiki");
  EXPECT_EQ(b.column(bronze::kServerName).GetString(0), "en.wikipedia.org");
  EXPECT_EQ(b.column(bronze::kTitle).GetString(0), "Example");
  EXPECT_EQ(b.column(bronze::kTitleUrl).GetString(0), "https://en.wikipedia.org/wiki/Example");
  EXPECT_EQ(b.column(bronze::kUser).GetString(0), "Alice");
  EXPECT_FALSE(b.column(bronze::kIsBot).GetBool(0));
  EXPECT_TRUE(b.column(bronze::kIsMinor).GetBool(0));
  EXPECT_FALSE(b.column(bronze::kIsPatrolled).GetBool(0));
  EXPECT_TRUE(b.column(bronze::kIsPatrolled).IsValid(0));
  EXPECT_EQ(b.column(bronze::kComment).GetString(0), "fix");
  EXPECT_EQ(b.column(bronze::kLengthOld).GetInt32(0), 1000);
  EXPECT_EQ(b.column(bronze::kLengthNew).GetInt32(0), 1250);
  EXPECT_EQ(b.column(bronze::kLengthDelta).GetInt32(0), 250);
  EXPECT_EQ(b.column(bronze::kRevisionOld).GetInt64(0), 100);
  EXPECT_EQ(b.column(bronze::kRevisionNew).GetInt64(0), 101);
  EXPECT_TRUE(b.column(bronze::kLogType).IsNull(0));
  EXPECT_TRUE(b.column(bronze::kLogAction).IsNull(0));
  EXPECT_EQ(b.column(bronze::kEventTimestamp).GetInt64(0), 1724321730LL * 1000000);
  EXPECT_EQ(b.column(bronze::kMetaDt).GetInt64(0), *ParseIso8601Micros("2024-08-22T10:15:30.250Z"));
  EXPECT_EQ(b.column(bronze::kMetaTopic).GetString(0), "eqiad.mediawiki.recentchange");
  EXPECT_EQ(b.column(bronze::kMetaPartition).GetInt32(0), 0);
  EXPECT_EQ(b.column(bronze::kMetaOffset).GetInt64(0), 5123456789);
  EXPECT_EQ(b.column(bronze::kSource).GetString(0), "replay");
  EXPECT_EQ(b.column(bronze::kIngestedAt).GetInt64(0), 1724321800000000);
  EXPECT_EQ(b.column(bronze::kBronzeProcessedAt).GetInt64(0), 1724321800000000);
  EXPECT_EQ(b.column(bronze::kRaw).GetString(0), payload);
  EXPECT_EQ(b.column(bronze::kEventDate).GetString(0), "2024-08-22");
  EXPECT_EQ(b.column(bronze::kEventHour).GetInt32(0), 10);
  EXPECT_EQ(b.column(bronze::kSchemaVersion).GetString(0), bronze::kRawEventsSchemaVersion);
  EXPECT_EQ(h.ing.counters().accepted, 1);
  EXPECT_EQ(h.dlq.num_rows(), 0u);
}

TEST(Ingest, RawIsExactBytesIncludingWhitespace) {
  Harness h;
  std::string payload = "  {\"meta\": {\"id\": \"a\", \"domain\": \"en.wikipedia.org\"}, \"type\": \"edit\", \"timestamp\": 1}\t";
  ASSERT_EQ(h.Run(payload), IngestOutcome::kAccepted);
  EXPECT_EQ(h.bronze.column(bronze::kRaw).GetString(0), payload);
}

TEST(Ingest, MinimalEventNullsAndDefaults) {
  Harness h;
  ASSERT_EQ(h.Run(R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"log","timestamp":0,"bot":null,"id":null})"),
            IngestOutcome::kAccepted);
  const auto& b = h.bronze;
  ASSERT_TRUE(b.Validate().ok());
  EXPECT_FALSE(b.column(bronze::kIsBot).GetBool(0));  // absent/null bot -> false
  for (int col : {bronze::kRcId, bronze::kNamespace, bronze::kUser, bronze::kIsMinor, bronze::kLengthDelta,
                  bronze::kMetaDt, bronze::kMetaOffset, bronze::kTitle}) {
    EXPECT_TRUE(b.column(col).IsNull(0)) << col;
  }
  EXPECT_EQ(b.column(bronze::kEventDate).GetString(0), "1970-01-01");
  EXPECT_EQ(b.column(bronze::kEventHour).GetInt32(0), 0);
}

TEST(Ingest, BotTrue) {
  Harness h;
  json j = BaseEvent();
  j["bot"] = true;
  ASSERT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted);
  EXPECT_TRUE(h.bronze.column(bronze::kIsBot).GetBool(0));
}

// ---- rule 1 ----

TEST(Ingest, TooLarge) {
  json j = BaseEvent();
  j["comment"] = std::string(kMaxPayloadBytes, 'x');
  Harness h;
  std::string payload = j.dump();
  ASSERT_EQ(h.Run(payload), IngestOutcome::kDlq);
  EXPECT_EQ(h.LastCode(), "too_large");
  EXPECT_EQ(h.dlq.column(bronze::kPayload).GetString(0).size(), kMaxPayloadBytes);
  EXPECT_EQ(h.dlq.column(bronze::kPayload).GetString(0), std::string_view(payload).substr(0, kMaxPayloadBytes));
  EXPECT_TRUE(h.dlq.column(bronze::kPayloadTruncated).GetBool(0));
  EXPECT_EQ(h.dlq.column(bronze::kPayloadBytes).GetInt64(0), static_cast<int64_t>(payload.size()));
}

TEST(Ingest, ExactlyOneMebibyteIsNotTooLarge) {
  std::string head = R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"edit","timestamp":1,"comment":")";
  std::string payload = head + std::string(kMaxPayloadBytes - head.size() - 2, 'y') + "\"}";
  ASSERT_EQ(payload.size(), kMaxPayloadBytes);
  Harness h;
  EXPECT_EQ(h.Run(payload), IngestOutcome::kAccepted);
}

TEST(Ingest, InvalidUtf8) {
  ExpectDlq(std::string("{\"meta\":{\"id\":\"a\",\"domain\":\"en.wikipedia.org\"},\"type\":\"edit\",\"timestamp\":1,"
                        "\"title\":\"\xC3\x28\"}"),
            "invalid_utf8");
  // Invalid UTF-8 wins over broken JSON (rule 1 order).
  ExpectDlq(std::string("{\"a\":\xFF"), "invalid_utf8");
  // An encoded surrogate (CESU-style) is not UTF-8 either.
  ExpectDlq(std::string("{\"meta\":{\"id\":\"a\",\"domain\":\"en.wikipedia.org\"},\"type\":\"edit\",\"timestamp\":1,"
                        "\"title\":\"\xED\xA0\x80\"}"),
            "invalid_utf8");
}

TEST(Ingest, InvalidJson) {
  ExpectDlq("", "invalid_json");
  ExpectDlq("{", "invalid_json");
  ExpectDlq("{\"meta\":}", "invalid_json");
  ExpectDlq("{'meta':1}", "invalid_json");
  ExpectDlq("{\"a\":1} {\"b\":2}", "invalid_json");
  ExpectDlq("{\"a\":1,}", "invalid_json");
  ExpectDlq("{\"a\":NaN}", "invalid_json");
}

TEST(Ingest, LoneSurrogateEscapeIsInvalidJson) {
  std::string head = R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"edit","timestamp":1,"title":")";
  ExpectDlq(head + R"(\ud800"})", "invalid_json");
  ExpectDlq(head + R"(\udc00"})", "invalid_json");
  ExpectDlq(head + R"(\ud800\u0041"})", "invalid_json");
  ExpectAccepted(json::parse(head + R"(\ud83d\ude00"})"));  // a proper pair is fine
}

TEST(Ingest, NotAnObject) {
  ExpectDlq("[1,2]", "not_an_object");
  ExpectDlq("\"text\"", "not_an_object");
  ExpectDlq("42", "not_an_object");
  ExpectDlq("null", "not_an_object");
}

// ---- rule 2 ----

TEST(Ingest, CanaryDroppedAndCountedBeforeValidation) {
  Harness h;
  // Canary wins even though type and time are missing (rule 2 before rule 3).
  EXPECT_EQ(h.Run(R"({"meta":{"domain":"canary"}})"), IngestOutcome::kCanary);
  json j = BaseEvent();
  j["meta"]["domain"] = "canary";
  EXPECT_EQ(h.Run(j.dump()), IngestOutcome::kCanary);
  EXPECT_EQ(h.ing.counters().canary, 2);
  EXPECT_EQ(h.bronze.num_rows() + h.dlq.num_rows(), 0u);
  // With --domains all, still a canary.
  EventIngestor all(DomainFilter::All(), "x");
  SourceRecord rec;
  rec.payload = j.dump();
  EXPECT_EQ(all.Ingest(rec, &h.bronze, &h.dlq), IngestOutcome::kCanary);
}

// ---- rule 3: required fields, in order ----

TEST(Ingest, MissingMeta) {
  json j = BaseEvent();
  j.erase("meta");
  ExpectDlqJson(j, "missing_field:meta");
  j["meta"] = nullptr;
  ExpectDlqJson(j, "missing_field:meta");
  j["meta"] = "x";
  ExpectDlqJson(j, "wrong_type:meta");
}

TEST(Ingest, MissingMetaId) {
  json j = BaseEvent();
  j["meta"].erase("id");
  ExpectDlqJson(j, "missing_field:meta.id");
  j["meta"]["id"] = nullptr;
  ExpectDlqJson(j, "missing_field:meta.id");
  j["meta"]["id"] = "";
  ExpectDlqJson(j, "missing_field:meta.id");
  j["meta"]["id"] = 5;
  ExpectDlqJson(j, "wrong_type:meta.id");
}

TEST(Ingest, MissingMetaDomain) {
  json j = BaseEvent();
  j["meta"].erase("domain");
  ExpectDlqJson(j, "missing_field:meta.domain");
  j["meta"]["domain"] = "";
  ExpectDlqJson(j, "missing_field:meta.domain");
  j["meta"]["domain"] = json::array();
  ExpectDlqJson(j, "wrong_type:meta.domain");
}

TEST(Ingest, MissingType) {
  json j = BaseEvent();
  j.erase("type");
  ExpectDlqJson(j, "missing_field:type");
  j["type"] = 142;
  ExpectDlqJson(j, "wrong_type:type");
  j["type"] = "142";  // the Flow extension's string type is fine
  ExpectAccepted(j);
}

TEST(Ingest, RequiredCheckOrder) {
  // Several problems at once: the first in the documented order decides.
  ExpectDlq(R"({"type":1})", "missing_field:meta");
  ExpectDlq(R"({"meta":{"domain":5},"type":1})", "missing_field:meta.id");
  ExpectDlq(R"({"meta":{"id":"a"},"type":1})", "missing_field:meta.domain");
  ExpectDlq(R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"namespace":"x"})", "missing_field:type");
  ExpectDlq(R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"edit","namespace":"x","id":"y"})",
            "wrong_type:id");
  ExpectDlq(R"({"meta":{"id":"a","domain":"en.wikipedia.org","offset":"z"},"type":"edit","bot":"yes"})",
            "wrong_type:bot");
  ExpectDlq(R"({"meta":{"id":"a","domain":"en.wikipedia.org","offset":"z"},"type":"edit"})",
            "wrong_type:meta.offset");  // field types before the missing event time
  ExpectDlq(R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"edit","length":{"old":"1"},"timestamp":"t"})",
            "wrong_type:length.old");
  // Rule 3 runs before the domain filter: a malformed event of another wiki is DLQ, not filtered.
  ExpectDlq(R"({"meta":{"id":"a","domain":"commons.wikimedia.org"},"type":"edit"})", "missing_field:timestamp");
}

// One wrong type per known field, in bronze column order.
TEST(Ingest, WrongTypeEveryKnownField) {
  struct Case {
    std::vector<std::string> path;
    json value;
    std::string code;
  };
  std::vector<Case> cases = {
      {{"id"}, "12", "wrong_type:id"},
      {{"id"}, 1.5, "wrong_type:id"},
      {{"namespace"}, "0", "wrong_type:namespace"},
      {{"namespace"}, 3000000000LL, "wrong_type:namespace"},
      {{"wiki"}, 1, "wrong_type:wiki"},
      {{"server_name"}, false, "wrong_type:server_name"},
      {{"title"}, json::object(), "wrong_type:title"},
      {{"title_url"}, 3, "wrong_type:title_url"},
      {{"user"}, json::array(), "wrong_type:user"},
      {{"bot"}, "yes", "wrong_type:bot"},
      {{"bot"}, 1, "wrong_type:bot"},
      {{"minor"}, "no", "wrong_type:minor"},
      {{"patrolled"}, 0, "wrong_type:patrolled"},
      {{"comment"}, 7, "wrong_type:comment"},
      {{"length"}, "big", "wrong_type:length"},
      {{"length"}, json::array({1, 2}), "wrong_type:length"},
      {{"length", "old"}, "1", "wrong_type:length.old"},
      {{"length", "old"}, 2147483648LL, "wrong_type:length.old"},
      {{"length", "new"}, 1.25, "wrong_type:length.new"},
      {{"length", "new"}, -2147483649LL, "wrong_type:length.new"},
      {{"revision"}, 5, "wrong_type:revision"},
      {{"revision", "old"}, "5", "wrong_type:revision.old"},
      {{"revision", "new"}, true, "wrong_type:revision.new"},
      {{"log_type"}, 1, "wrong_type:log_type"},
      {{"log_action"}, json::object(), "wrong_type:log_action"},
      {{"timestamp"}, "yesterday", "wrong_type:timestamp"},
      {{"timestamp"}, 1724321730.5, "wrong_type:timestamp"},
      {{"meta", "dt"}, 17, "wrong_type:meta.dt"},
      {{"meta", "topic"}, 1, "wrong_type:meta.topic"},
      {{"meta", "partition"}, "0", "wrong_type:meta.partition"},
      {{"meta", "partition"}, 4294967296LL, "wrong_type:meta.partition"},
      {{"meta", "offset"}, "5", "wrong_type:meta.offset"},
      {{"meta", "offset"}, 1e3, "wrong_type:meta.offset"},
  };
  for (const auto& c : cases) {
    json j = BaseEvent();
    json* target = &j;
    for (size_t i = 0; i + 1 < c.path.size(); ++i) target = &(*target)[c.path[i]];
    (*target)[c.path.back()] = c.value;
    SCOPED_TRACE(j.dump());
    ExpectDlqJson(j, c.code);
  }
}

TEST(Ingest, IntegerLiteralsMustFit) {
  std::string head = R"({"meta":{"id":"a","domain":"en.wikipedia.org"},"type":"edit","timestamp":1,)";
  ExpectDlq(head + R"("id":18446744073709551615})", "wrong_type:id");   // uint64, not long
  ExpectDlq(head + R"("id":1.0})", "wrong_type:id");                     // not an integer literal
  ExpectDlq(head + R"("id":1e2})", "wrong_type:id");
  ExpectDlq(head + R"("revision":{"new":9223372036854775808}})", "wrong_type:revision.new");
  ExpectAccepted(json::parse(head + R"("id":9223372036854775807,"namespace":-2147483648,"length":{"old":2147483647}})"));
}

TEST(Ingest, NullCountsAsAbsentForEveryOptionalField) {
  json j = BaseEvent();
  for (const char* k : {"id", "namespace", "wiki", "server_name", "title", "title_url", "user", "bot", "minor",
                        "patrolled", "comment", "length", "revision", "log_type", "log_action"}) {
    j[k] = nullptr;
  }
  j["meta"]["topic"] = nullptr;
  j["meta"]["partition"] = nullptr;
  j["meta"]["offset"] = nullptr;
  Harness h;
  ASSERT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted);
  EXPECT_TRUE(h.bronze.column(bronze::kUser).IsNull(0));
  EXPECT_TRUE(h.bronze.column(bronze::kLengthOld).IsNull(0));
  EXPECT_TRUE(h.bronze.column(bronze::kMetaPartition).IsNull(0));
  // length.{old,new} = null inside the object too.
  json k = BaseEvent();
  k["length"]["old"] = nullptr;
  Harness h2;
  ASSERT_EQ(h2.Run(k.dump()), IngestOutcome::kAccepted);
  EXPECT_TRUE(h2.bronze.column(bronze::kLengthOld).IsNull(0));
  EXPECT_TRUE(h2.bronze.column(bronze::kLengthDelta).IsNull(0));  // edit without old: no delta
}

TEST(Ingest, UnknownFieldsAreFine) {
  json j = BaseEvent();
  j["extra"] = {{"deep", json::array({1, "x", nullptr})}};
  j["meta"]["whatever"] = 3.14;
  j["length"]["other"] = "x";
  ExpectAccepted(j);
}

// ---- event time ----

TEST(Ingest, EventTimeFromTimestampElseMetaDt) {
  Harness h;
  json j = BaseEvent();
  j.erase("timestamp");
  ASSERT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted);
  EXPECT_EQ(h.bronze.column(bronze::kEventTimestamp).GetInt64(0), *ParseIso8601Micros("2024-08-22T10:15:30.250Z"));
  for (const char* dt : {"2018-03-07T23:59:59+00:00", "2018-03-07T23:59:59Z", "2018-03-07T23:59:59.123456Z"}) {
    json k = BaseEvent();
    k.erase("timestamp");
    k["meta"]["dt"] = dt;
    ASSERT_EQ(h.Run(k.dump()), IngestOutcome::kAccepted) << dt;
    size_t row = h.bronze.num_rows() - 1;
    EXPECT_EQ(h.bronze.column(bronze::kEventTimestamp).GetInt64(row), *ParseIso8601Micros(dt));
    EXPECT_EQ(h.bronze.column(bronze::kEventDate).GetString(row), "2018-03-07");
    EXPECT_EQ(h.bronze.column(bronze::kEventHour).GetInt32(row), 23);
  }
  // timestamp wins when both are present, meta_dt keeps its own fraction.
  json k = BaseEvent();
  k["timestamp"] = 1500000000;
  ASSERT_EQ(h.Run(k.dump()), IngestOutcome::kAccepted);
  size_t row = h.bronze.num_rows() - 1;
  EXPECT_EQ(h.bronze.column(bronze::kEventTimestamp).GetInt64(row), 1500000000LL * 1000000);
  EXPECT_EQ(h.bronze.column(bronze::kMetaDt).GetInt64(row), *ParseIso8601Micros("2024-08-22T10:15:30.250Z"));
}

TEST(Ingest, MissingEventTime) {
  json j = BaseEvent();
  j.erase("timestamp");
  j["meta"].erase("dt");
  ExpectDlqJson(j, "missing_field:timestamp");
  j["meta"]["dt"] = "not a time";
  ExpectDlqJson(j, "missing_field:timestamp");
  j["meta"]["dt"] = "2024-02-30T00:00:00Z";
  ExpectDlqJson(j, "missing_field:timestamp");
  j["timestamp"] = nullptr;
  ExpectDlqJson(j, "missing_field:timestamp");
  // An unparseable meta.dt with a usable timestamp is accepted, meta_dt null.
  j["timestamp"] = 1724321730;
  Harness h;
  ASSERT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted);
  EXPECT_TRUE(h.bronze.column(bronze::kMetaDt).IsNull(0));
}

// ---- length_delta ----

TEST(Ingest, LengthDeltaRules) {
  auto delta_of = [](json j) -> std::optional<int32_t> {
    Harness h;
    EXPECT_EQ(h.Run(j.dump()), IngestOutcome::kAccepted);
    const auto& c = h.bronze.column(bronze::kLengthDelta);
    if (c.IsNull(0)) return std::nullopt;
    return c.GetInt32(0);
  };
  json j = BaseEvent();
  j["length"] = {{"old", 9000}, {"new", 100}};
  EXPECT_EQ(delta_of(j), -8900);
  j["type"] = "new";
  j["length"] = {{"new", 4321}};
  EXPECT_EQ(delta_of(j), 4321);
  j["length"] = {{"old", nullptr}, {"new", 50}};
  EXPECT_EQ(delta_of(j), 50);
  j["type"] = "edit";
  EXPECT_EQ(delta_of(j), std::nullopt);  // only new, not a "new" event
  j["length"] = {{"old", 50}};
  EXPECT_EQ(delta_of(j), std::nullopt);
  j.erase("length");
  EXPECT_EQ(delta_of(j), std::nullopt);
  j["length"] = {{"old", -2147483647}, {"new", 2147483647}};
  EXPECT_EQ(delta_of(j), std::nullopt);  // beyond int32: no wrapped value
}

// ---- rule 4 ----

TEST(Ingest, DomainFilter) {
  Harness h;
  json j = BaseEvent();
  j["meta"]["domain"] = "commons.wikimedia.org";
  EXPECT_EQ(h.Run(j.dump()), IngestOutcome::kFiltered);
  EXPECT_EQ(h.ing.counters().filtered, 1);
  EXPECT_EQ(h.bronze.num_rows() + h.dlq.num_rows(), 0u);
  EventIngestor all(DomainFilter::All(), "synthetic");
  SourceRecord rec;
  rec.payload = j.dump();
  EXPECT_EQ(all.Ingest(rec, &h.bronze, &h.dlq), IngestOutcome::kAccepted);
  EXPECT_EQ(h.bronze.column(bronze::kSource).GetString(0), "synthetic");
}

// ---- DLQ row ----

TEST(Ingest, DlqRowAndDeterministicId) {
  Harness h;
  std::string bad = "{not json";
  ASSERT_EQ(h.Run(bad, "pos-1"), IngestOutcome::kDlq);
  ASSERT_EQ(h.Run(bad, "pos-1"), IngestOutcome::kDlq);
  ASSERT_EQ(h.Run(bad, "pos-2"), IngestOutcome::kDlq);
  ASSERT_EQ(h.Run(bad + " ", "pos-1"), IngestOutcome::kDlq);
  const auto& d = h.dlq;
  ASSERT_TRUE(d.Validate().ok());
  std::string id0(d.column(bronze::kDlqId).GetString(0));
  EXPECT_TRUE(std::regex_match(id0, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))) << id0;
  EXPECT_EQ(d.column(bronze::kDlqId).GetString(1), id0);
  EXPECT_NE(d.column(bronze::kDlqId).GetString(2), id0);
  EXPECT_NE(d.column(bronze::kDlqId).GetString(3), id0);
  EXPECT_EQ(DlqIdFor("replay", "pos-1", bad), id0);
  EXPECT_NE(DlqIdFor("kafka", "pos-1", bad), id0);
  EXPECT_EQ(d.column(bronze::kReceivedAt).GetInt64(0), 1724321800000000);
  EXPECT_EQ(d.column(bronze::kReceivedDate).GetString(0), "2024-08-22");
  EXPECT_EQ(d.column(bronze::kDlqSource).GetString(0), "replay");
  EXPECT_EQ(d.column(bronze::kSourcePosition).GetString(0), "pos-1");
  EXPECT_EQ(d.column(bronze::kErrorCode).GetString(0), "invalid_json");
  EXPECT_EQ(d.column(bronze::kPayload).GetString(0), bad);
  EXPECT_EQ(d.column(bronze::kPayloadBytes).GetInt64(0), 9);
  EXPECT_FALSE(d.column(bronze::kPayloadTruncated).GetBool(0));
  EXPECT_EQ(d.column(bronze::kDlqSchemaVersionCol).GetString(0), bronze::kDlqSchemaVersion);
  EXPECT_EQ(h.ing.counters().dlq_by_code.at("invalid_json"), 4);
}

TEST(Ingest, CountersMergeAndDuplicates) {
  IngestCounters a, b;
  a.accepted = 3;
  a.dlq_by_code["invalid_json"] = 2;
  b.accepted = 1;
  b.canary = 1;
  b.filtered = 4;
  b.duplicate = 5;
  b.dlq_by_code["invalid_json"] = 1;
  b.dlq_by_code["too_large"] = 1;
  a.Merge(b);
  EXPECT_EQ(a.accepted, 4);
  EXPECT_EQ(a.canary, 1);
  EXPECT_EQ(a.filtered, 4);
  EXPECT_EQ(a.duplicate, 5);
  EXPECT_EQ(a.dlq_total(), 4);
  EventIngestor ing(DomainFilter(), "replay");
  ing.CountDuplicate();
  ing.CountDuplicate(2);
  EXPECT_EQ(ing.counters().duplicate, 3);
}

TEST(Ingest, ParserReusedAcrossSizes) {
  // A big event then small ones: the reused buffer must not leak bytes of the previous payload.
  Harness h;
  json big = BaseEvent();
  big["comment"] = std::string(200000, 'c');
  ASSERT_EQ(h.Run(big.dump()), IngestOutcome::kAccepted);
  ASSERT_EQ(h.Run("{\"a\":"), IngestOutcome::kDlq);
  ASSERT_EQ(h.Run("[]"), IngestOutcome::kDlq);
  EXPECT_EQ(h.LastCode(), "not_an_object");
  ASSERT_EQ(h.Run(BaseEvent().dump()), IngestOutcome::kAccepted);
  EXPECT_EQ(h.bronze.num_rows(), 2u);
}

}  // namespace
}  // namespace ws::ingest
