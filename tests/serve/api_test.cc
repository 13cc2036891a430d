// The API's range, filter, paging, CSV, ETag, gzip and OpenAPI behaviour,
// over a real server on 127.0.0.1 (the routes every table endpoint shares,
// the drill-down routes, and the document that describes them).
#include "wikistream/serve/api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "serve/serve_fixture.h"
#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/alerts/alert_sink.h"
#include "wikistream/serve/http_server.h"

namespace ws::serve {
namespace {

using alerts::AlertSink;
using model::Alert;
using nlohmann::json;

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "";
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "";
}

// RFC 4180 CSV -> rows of fields.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// The subset of JSON Schema the document uses: type (one or a list),
// properties, required, items, enum, anyOf, additionalProperties.
void Validate(const json& schema, const json& v, const std::string& where, std::vector<std::string>* errors) {
  if (schema.contains("anyOf")) {
    for (const auto& s : schema["anyOf"]) {
      std::vector<std::string> e;
      Validate(s, v, where, &e);
      if (e.empty()) return;
    }
    errors->push_back(where + ": matches no anyOf branch");
    return;
  }
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_string()) types.push_back(schema["type"]);
    else for (const auto& t : schema["type"]) types.push_back(t);
    auto is = [&](const std::string& t) {
      if (t == "null") return v.is_null();
      if (t == "object") return v.is_object();
      if (t == "array") return v.is_array();
      if (t == "string") return v.is_string();
      if (t == "boolean") return v.is_boolean();
      if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<int64_t>(v.get<double>()));
      if (t == "number") return v.is_number();
      return false;
    };
    if (std::none_of(types.begin(), types.end(), is)) {
      errors->push_back(where + ": " + v.dump().substr(0, 80) + " is not " + schema["type"].dump());
      return;
    }
  }
  if (schema.contains("enum") && !v.is_null()) {
    if (std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
      errors->push_back(where + ": " + v.dump() + " not in enum");
    }
  }
  if (v.is_object()) {
    if (schema.contains("required")) {
      for (const auto& k : schema["required"]) {
        if (!v.contains(k.get<std::string>())) errors->push_back(where + ": missing " + k.get<std::string>());
      }
    }
    if (schema.contains("properties")) {
      for (const auto& [k, s] : schema["properties"].items()) {
        if (v.contains(k)) Validate(s, v[k], where + "." + k, errors);
      }
    }
    if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
      for (const auto& [k, x] : v.items()) Validate(schema["additionalProperties"], x, where + "." + k, errors);
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size() && i < 50; ++i) Validate(schema["items"], v[i], where + "[" + std::to_string(i) + "]", errors);
  }
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetLevel(log::Level::kOff);
    serve::testing::FillFixtureStore(store_);
    serve::testing::FillDrillDownFixture(store_);
    live_ = std::make_unique<live::LiveAggregator>(live::LiveOptions{}, &sink_);
    ServerOptions o;
    o.port = 0;
    o.admin_token = "t0ken";
    server_ = std::make_unique<HttpServer>(o, &store_, live_.get(), &sink_, nullptr, ServerCallbacks{});
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override { server_->Stop(); }

  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    return client_->Get(path.c_str(), headers);
  }

  json GetJson(const std::string& path, int status = 200) {
    auto res = Get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return json();
    EXPECT_EQ(res->status, status) << path << " " << res->body;
    json j = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path;
    return j;
  }

  void ExpectBad(const std::string& path) {
    json j = GetJson(path, 400);
    ASSERT_TRUE(j.contains("error")) << path;
    EXPECT_EQ(j["error"].get<std::string>().find('\n'), std::string::npos);
  }

  InMemoryAnalyticsStore store_;
  AlertSink sink_{""};
  std::unique_ptr<live::LiveAggregator> live_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiTest, SummaryOverASpan) {
  json j = GetJson("/api/summary?from=2024-08-21&to=2024-08-22");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["summary_date"], "2024-08-21");  // oldest first
  EXPECT_EQ(j["rows"][1]["total_events"], 2000);
  EXPECT_EQ(j["from"], "2024-08-21");
  EXPECT_TRUE(j["summary"].is_null());
  EXPECT_EQ(j["total"], 2);
  // One end: to defaults to the newest date, from to six days before to.
  EXPECT_EQ(GetJson("/api/summary?from=2024-08-22")["rows"].size(), 1u);
  j = GetJson("/api/summary?to=2024-08-22");
  EXPECT_EQ(j["from"], "2024-08-16");
  EXPECT_EQ(j["rows"].size(), 2u);
  // date= keeps its meaning.
  EXPECT_EQ(GetJson("/api/summary?date=2024-08-21")["summary"]["total_events"], 1000);
  ExpectBad("/api/summary?date=2024-08-21&from=2024-08-20");
  ExpectBad("/api/summary?from=2024-08-22&to=2024-08-21");
  ExpectBad("/api/summary?from=2020-01-01&to=2024-08-21");  // longer than 400 days
  ExpectBad("/api/summary?from=2024-02-30");
  ExpectBad("/api/summary?format=xml");
}

TEST_F(ApiTest, PagingWithLimitAndOffset) {
  json all = GetJson("/api/trending?limit=4");
  ASSERT_EQ(all["rows"].size(), 4u);
  EXPECT_EQ(all["total"], 4);
  EXPECT_TRUE(all["next_offset"].is_null());
  json first = GetJson("/api/trending?limit=3");
  EXPECT_EQ(first["next_offset"], 3);
  json rest = GetJson("/api/trending?limit=3&offset=3");
  ASSERT_EQ(rest["rows"].size(), 1u);
  EXPECT_EQ(rest["rows"][0], all["rows"][3]);
  EXPECT_TRUE(GetJson("/api/trending?offset=99")["rows"].empty());
  ExpectBad("/api/trending?offset=-1");
  ExpectBad("/api/trending?offset=x");
}

TEST_F(ApiTest, GoldRanksAreServedAsGoldWroteThem) {
  // Within one wiki the order is gold's rank (1, 2, ...), never a re-sort.
  for (const char* path : {"/api/trending?domain=en.wikipedia.org", "/api/contributors?domain=en.wikipedia.org"}) {
    json j = GetJson(path);
    ASSERT_FALSE(j["rows"].empty()) << path;
    for (size_t i = 0; i < j["rows"].size(); ++i) EXPECT_EQ(j["rows"][i]["rank"], i + 1) << path;
  }
}

TEST_F(ApiTest, FiltersByRegionUserTypeAndLevel) {
  json j = GetJson("/api/hourly?region=europe");
  ASSERT_EQ(j["rows"].size(), 2u);
  for (const auto& r : j["rows"]) EXPECT_EQ(r["domain"], "de.wikipedia.org");
  EXPECT_EQ(j["domains"], json::array({"de.wikipedia.org"}));
  j = GetJson("/api/trending?region=europe&hour=9");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["domain"], "de.wikipedia.org");
  j = GetJson("/api/contributors?user_type=bot");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["user_normalized"], "BotX");
  j = GetJson("/api/contributors?user_type=human&region=americas");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["user_normalized"], "Alice");
  EXPECT_EQ(j["by_type"]["registered"]["edits"], 50);
  EXPECT_EQ(GetJson("/api/risk?risk_level=medium")["rows"][0]["entity_id"], "Busy");
  j = GetJson("/api/risk?from=2024-08-21&to=2024-08-22&user_type=anonymous");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["entity_id"], "203.0.113.9");
  ExpectBad("/api/hourly?region=mars");
  ExpectBad("/api/contributors?user_type=robot");
  ExpectBad("/api/risk?level=HIGH&risk_level=LOW");
  ExpectBad("/api/wikis?sort=name");
}

TEST_F(ApiTest, RiskScopedToTheWikisUsersEdited) {
  // Vandal edited en and de on 2024-08-22, Busy only en: only Vandal edited Europe.
  json j = GetJson("/api/risk?date=2024-08-22&region=europe");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["entity_id"], "Vandal");
  EXPECT_EQ(j["rows"][0]["edits_in_scope"], 3);
  EXPECT_EQ(j["rows"][0]["wikis_in_scope"], json::parse(R"([{"domain":"de.wikipedia.org","edits":3}])"));
  EXPECT_EQ(j["counts"]["HIGH"], 1);
  EXPECT_EQ(j["counts"]["MEDIUM"], 0);
  j = GetJson("/api/risk?date=2024-08-22&domain=en.wikipedia.org");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][1]["entity_id"], "Busy");
  ExpectBad("/api/risk?region=europe&from=2024-01-01&to=2024-08-22");  // silver: at most 31 days
}

TEST_F(ApiTest, WikisComparedOverASpan) {
  json j = GetJson("/api/wikis?from=2024-08-21&to=2024-08-22");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["domain"], "de.wikipedia.org");  // 902 + 1002 > 901 + 1001
  EXPECT_EQ(j["rows"][0]["total_events"], 1904);
  EXPECT_EQ(j["rows"][0]["region"], "europe");
  EXPECT_EQ(j["rows"][0]["active_days"], 1);
  EXPECT_EQ(j["series"].size(), 2u);
  j = GetJson("/api/wikis?region=americas");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["domain"], "en.wikipedia.org");
}

TEST_F(ApiTest, OverviewHasEveryDayOfTheSpan) {
  json j = GetJson("/api/overview?from=2024-08-20&to=2024-08-22");
  ASSERT_EQ(j["days"].size(), 3u);
  EXPECT_EQ(j["days"][0]["date"], "2024-08-20");
  EXPECT_EQ(j["days"][0]["total_events"], 0);
  EXPECT_EQ(j["days"][2]["total_events"], 2000);
  EXPECT_EQ(j["days"][2]["bot_events"], 80);
  EXPECT_EQ(j["days"][2]["europe_percentage"], 40.0);
  EXPECT_EQ(j["days"][2]["dlq_events"], 2);
  EXPECT_EQ(j["days"][2]["dlq_by_code"]["too_large"], 1);
  EXPECT_EQ(j["days"][2]["dq_runs"], 2);
  EXPECT_EQ(j["days"][2]["dq_gate_failures"], 1);
  EXPECT_EQ(j["days"][2]["health_low_risk_points"], 0.0);  // the one scored user is HIGH
  EXPECT_EQ(j["days"][1]["health_low_risk_points"], 40.0);  // nobody scored: 40
  EXPECT_EQ(j["hours"].size(), 2u);
}

TEST_F(ApiTest, UserPageHoldsTheEvidence) {
  Alert a;
  a.alert_id = "live-9";
  a.raised_at_us = *ParseIso8601Micros("2024-08-22T10:06:00Z");
  a.alert_date = "2024-08-22";
  a.kind = model::AlertKind::kRisk;
  a.severity = model::AlertSeverity::kHigh;
  a.entity = "Vandal";
  a.details = "{}";
  ASSERT_TRUE(sink_.Raise(a));
  json j = GetJson("/api/risk/user?user=Vandal&from=2024-08-21&to=2024-08-22");
  ASSERT_EQ(j["scores"].size(), 2u);
  EXPECT_EQ(j["scores"][0]["stat_date"], "2024-08-21");
  EXPECT_EQ(j["scores"][1]["risk_level"], "HIGH");
  EXPECT_EQ(j["scores"][1]["evidence"]["factors"], json::array({"velocity", "deletions"}));
  EXPECT_EQ(j["events_total"], 13);
  ASSERT_EQ(j["wikis"].size(), 2u);
  EXPECT_EQ(j["wikis"][0]["domain"], "en.wikipedia.org");
  EXPECT_EQ(j["wikis"][0]["large_deletions"], 6);
  EXPECT_EQ(j["pages"][0]["title"], "Page_10_1");
  EXPECT_EQ(j["pages"][0]["events"], 10);
  EXPECT_EQ(j["hourly"].size(), 3u);
  ASSERT_EQ(j["alerts"].size(), 2u);  // the committed one and the one raised since
  EXPECT_EQ(j["alerts"][0]["alert_id"], "live-9");
  EXPECT_EQ(j["alerts"][1]["delivered"], true);
  // A date: only that day is read.
  j = GetJson("/api/risk/user?user=Vandal&date=2024-08-21");
  EXPECT_EQ(j["events_total"], 4);
  EXPECT_TRUE(j["alerts"].empty());
  EXPECT_TRUE(GetJson("/api/risk/user?user=Nobody")["scores"].empty());
  ExpectBad("/api/risk/user");
  ExpectBad("/api/risk/user?user=Vandal&from=2024-01-01&to=2024-08-22");
  ExpectBad("/api/risk/user?user=" + std::string(300, 'x'));
}

TEST_F(ApiTest, PageViewHoldsItsEditsOverTime) {
  json j = GetJson("/api/trending/page?domain=en.wikipedia.org&title=Page_10_1&from=2024-08-21&to=2024-08-22");
  ASSERT_EQ(j["trending"].size(), 1u);
  EXPECT_EQ(j["trending"][0]["rank"], 1);
  EXPECT_EQ(j["events_total"], 10);
  EXPECT_EQ(j["editors_total"], 1);
  ASSERT_EQ(j["hours"].size(), 2u);
  EXPECT_EQ(j["hours"][1]["edits"], 6);
  EXPECT_EQ(j["hours"][1]["bytes_changed"], 36000);
  EXPECT_EQ(j["edits"].size(), 10u);
  ExpectBad("/api/trending/page?title=x");
  ExpectBad("/api/trending/page?domain=en.wikipedia.org");
}

TEST_F(ApiTest, DqRunsDlqAndCycles) {
  json j = GetJson("/api/dq/runs");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["layer"], "gold");
  EXPECT_EQ(j["rows"][0]["passed"], false);
  EXPECT_EQ(j["rows"][1]["warnings"], 1);
  EXPECT_EQ(GetJson("/api/dq?layer=silver&status=warning")["rows"].size(), 1u);
  j = GetJson("/api/dlq");
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(j["rows"][0]["dlq_id"], "d2");  // newest first
  EXPECT_FALSE(j["rows"][0].contains("payload"));
  EXPECT_EQ(GetJson("/api/dlq?error_code=invalid_json")["rows"].size(), 1u);
  j = GetJson("/api/pipeline/cycles");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["status"], "FAILED");
  EXPECT_EQ(j["rows"][0]["failed_stage"], "gold");
  EXPECT_EQ(j["rows"][0]["error"], "gate failed");
  EXPECT_EQ(j["rows"][0]["stages"], "silver:SUCCEEDED gold:FAILED");
  EXPECT_EQ(GetJson("/api/pipeline?status=failed")["rows"].size(), 1u);
  EXPECT_EQ(GetJson("/api/alerts?kind=dq")["rows"].size(), 0u);
  EXPECT_EQ(GetJson("/api/alerts?date=2024-08-22&severity=high")["rows"].size(), 1u);
  ExpectBad("/api/dq?layer=bronze");
  ExpectBad("/api/alerts?kind=fire");
}

TEST_F(ApiTest, CsvHasTheColumnNamesAndTheSameRowsAsTheJson) {
  for (const std::string path : {"/api/risk?from=2024-08-21&to=2024-08-22", "/api/hourly", "/api/contributors",
                                 "/api/trending?limit=3", "/api/dq", "/api/alerts", "/api/summary?from=2024-08-21",
                                 "/api/wikis", "/api/overview?from=2024-08-21", "/api/dlq", "/api/pipeline/cycles",
                                 "/api/dq/runs", "/api/risk?region=europe"}) {
    json j = GetJson(path);
    auto res = Get(path + (path.find('?') == std::string::npos ? "?" : "&") + "format=csv");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_NE(res->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
    auto rows = ParseCsv(res->body);
    const json& list = j.contains("rows") ? j["rows"] : j["days"];
    ASSERT_EQ(rows.size(), list.size() + 1) << path << "\n" << res->body;
    const auto& header = rows[0];
    for (size_t i = 0; i < list.size(); ++i) {
      ASSERT_EQ(rows[i + 1].size(), header.size()) << path;
      for (size_t c = 0; c < header.size(); ++c) {
        ASSERT_TRUE(list[i].contains(header[c])) << path << " column " << header[c];
        const json& v = list[i][header[c]];
        const std::string want = v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
        if (v.is_object() || v.is_array()) {
          EXPECT_EQ(json::parse(rows[i + 1][c]), v) << path << " " << header[c];
        } else {
          EXPECT_EQ(rows[i + 1][c], want) << path << " " << header[c];
        }
      }
    }
    // Table endpoints: the header is the table's columns.
    if (path.rfind("/api/risk?from", 0) == 0) {
      EXPECT_EQ(header.front(), "stat_date");
      EXPECT_EQ(std::count(header.begin(), header.end(), "schema_version"), 0);
      EXPECT_EQ(header.size(), warehouse::RiskScoresTable().schema->num_fields() - 1);
    }
  }
}

TEST_F(ApiTest, ETagAnswers304UntilTheSnapshotChanges) {
  auto first = Get("/api/summary");
  ASSERT_TRUE(first);
  const std::string etag = first->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first->get_header_value("Cache-Control"), "no-cache");
  auto again = Get("/api/summary", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(Get("/api/summary", {{"If-None-Match", "\"other\", " + etag}})->status, 304);
  // Another request (other parameters) has another tag.
  auto other = Get("/api/summary?date=2024-08-21");
  EXPECT_NE(other->get_header_value("ETag"), etag);
  EXPECT_EQ(Get("/api/summary?date=2024-08-21", {{"If-None-Match", etag}})->status, 200);
  // A new snapshot of the table changes the tag and the body.
  ASSERT_TRUE(store_.Append(warehouse::DailySummaryTable().full_name(),
                            serve::testing::Rows(warehouse::DailySummaryTable(),
                                                 json::array({{{"summary_date", "2024-08-23"}, {"total_events", 5}}})))
                  .ok());
  auto changed = Get("/api/summary", {{"If-None-Match", etag}});
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200);
  EXPECT_NE(changed->get_header_value("ETag"), etag);
  EXPECT_EQ(json::parse(changed->body)["date"], "2024-08-23");
  // Live and merged responses are not tagged.
  EXPECT_TRUE(Get("/api/alerts")->get_header_value("ETag").empty());
  EXPECT_EQ(Get("/api/alerts")->get_header_value("Cache-Control"), "no-store");
}

TEST_F(ApiTest, GzipWhenAskedFor) {
  auto plain = Get("/api/openapi.json");
  ASSERT_TRUE(plain);
  ASSERT_GT(plain->body.size(), kGzipMinBytes);
  EXPECT_TRUE(plain->get_header_value("Content-Encoding").empty());
  // httplib's client would inflate for us: ask on a raw request instead.
  httplib::Client raw("127.0.0.1", server_->port());
  raw.set_decompress(false);
  for (const std::string path : {"/api/openapi.json", "/api/risk?format=csv&from=2024-08-21", "/api/trending"}) {
    auto z = raw.Get(path.c_str(), {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(z);
    auto p = raw.Get(path.c_str());
    if (p->body.size() < kGzipMinBytes) continue;
    EXPECT_EQ(z->get_header_value("Content-Encoding"), "gzip") << path;
    EXPECT_EQ(z->get_header_value("Vary"), "Accept-Encoding") << path;
    EXPECT_LT(z->body.size(), p->body.size()) << path;
    EXPECT_EQ(Gunzip(z->body), p->body) << path;
  }
  auto refused = raw.Get("/api/openapi.json", {{"Accept-Encoding", "gzip;q=0, identity"}});
  EXPECT_TRUE(refused->get_header_value("Content-Encoding").empty());
  EXPECT_EQ(refused->body, plain->body);
}

TEST_F(ApiTest, OpenApiDescribesEveryRouteTheServerAnswers) {
  json doc = GetJson("/api/openapi.json");
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented, routed;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      documented.emplace(m, path);
    }
  }
  for (const auto& r : server_->api().routes()) routed.emplace(r.method, r.path);
  EXPECT_EQ(documented, routed);
  for (const char* path : {"/api/summary", "/api/overview", "/api/wikis", "/api/risk/user", "/api/trending/page",
                           "/api/dq/runs", "/api/dlq", "/api/pipeline/cycles", "/api/live", "/healthz"}) {
    EXPECT_TRUE(routed.count({"GET", path})) << path;
  }

  // Every documented GET route answers as documented: with no parameters,
  // with each parameter's example, and (enums) 400 for a value outside it.
  for (const auto& [path, ops] : doc["paths"].items()) {
    if (!ops.contains("get")) continue;
    const json& op = ops["get"];
    if (op["responses"]["200"]["content"].contains("text/event-stream")) continue;
    const bool is_json = op["responses"]["200"]["content"].contains("application/json");
    std::vector<std::string> queries;
    std::string required;
    for (const auto& p : op.value("parameters", json::array())) {
      if (p["required"].get<bool>()) required += "&" + p["name"].get<std::string>() + "=" + p["example"].get<std::string>();
    }
    queries.push_back(required);
    for (const auto& p : op.value("parameters", json::array())) {
      const std::string name = p["name"];
      if (p["required"].get<bool>() || name == "format") continue;
      if ((name == "from" || name == "to") && required.find("date=") != std::string::npos) continue;
      queries.push_back(required + "&" + name + "=" + httplib::detail::encode_query_param(p["example"].get<std::string>()));
      if (p["schema"].contains("enum")) {
        ExpectBad(path + "?" + required.substr(required.empty() ? 0 : 1) + (required.empty() ? "" : "&") + name + "=not-a-value");
      }
    }
    for (const auto& q : queries) {
      const std::string url = path + (q.empty() ? "" : "?" + q.substr(1));
      auto res = Get(url);
      ASSERT_TRUE(res) << url;
      ASSERT_EQ(res->status, 200) << url << " " << res->body;
      if (!is_json) continue;
      EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << url;
      std::vector<std::string> errors;
      Validate(op["responses"]["200"]["content"]["application/json"]["schema"], json::parse(res->body), url, &errors);
      EXPECT_TRUE(errors.empty()) << url << ":\n" << errors.front();
      if (op["responses"].contains("304")) {
        EXPECT_FALSE(res->get_header_value("ETag").empty()) << url;
      }
    }
    if (op["responses"]["200"]["content"].contains("text/csv")) {
      auto res = Get(path + "?format=csv" + required);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200) << path;
      EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8") << path;
    }
  }
}

}  // namespace
}  // namespace ws::serve
