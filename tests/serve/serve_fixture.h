// A small warehouse in memory for the HTTP and dashboard tests: gold, dq and
// ops rows built from JSON objects with the pipeline's real table schemas.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "wikistream/common/time.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/serve/analytics_store.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::serve::testing {

// A TCP socket connected to 127.0.0.1:port (rcvbuf > 0: that receive
// buffer, set before connecting so the window stays small); -1 on failure.
inline int ConnectLoopback(int port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void AppendJsonRow(format::RecordBatch& b, const nlohmann::json& row) {
  for (size_t c = 0; c < b.num_columns(); ++c) {
    const format::Field& f = b.schema()->field(c);
    format::Column& col = b.column(c);
    auto it = row.find(f.name);
    if (it == row.end() || it->is_null()) {
      // The pipeline never writes null into a required column: a fixture
      // row that leaves one out gets that type's zero.
      if (!f.required) {
        col.AppendNull();
        continue;
      }
      switch (f.type) {
        case format::TypeId::kBoolean: col.AppendBool(false); break;
        case format::TypeId::kInt32: col.AppendInt32(0); break;
        case format::TypeId::kInt64: case format::TypeId::kTimestampTz: col.AppendInt64(0); break;
        case format::TypeId::kDouble: col.AppendDouble(0); break;
        case format::TypeId::kString: case format::TypeId::kBinary: col.AppendString(""); break;
      }
      continue;
    }
    switch (f.type) {
      case format::TypeId::kBoolean: col.AppendBool(it->get<bool>()); break;
      case format::TypeId::kInt32: col.AppendInt32(it->get<int32_t>()); break;
      case format::TypeId::kInt64: col.AppendInt64(it->get<int64_t>()); break;
      case format::TypeId::kDouble: col.AppendDouble(it->get<double>()); break;
      case format::TypeId::kTimestampTz:
        col.AppendInt64(it->is_string() ? *ParseIso8601Micros(it->get<std::string>()) : it->get<int64_t>());
        break;
      case format::TypeId::kString:
      case format::TypeId::kBinary:
        col.AppendString(it->is_string() ? it->get<std::string>() : it->dump());
        break;
    }
  }
}

inline format::RecordBatch Rows(const warehouse::TableDef& def, const nlohmann::json& rows) {
  format::RecordBatch b(def.schema);
  for (const auto& r : rows) AppendJsonRow(b, r);
  return b;
}

// Dates 2024-08-21 and 2024-08-22; the newest is 2024-08-22.
inline void FillFixtureStore(InMemoryAnalyticsStore& store) {
  using nlohmann::json;
  auto add = [&](const warehouse::TableDef& def, const json& rows) {
    Status st = store.Append(def.full_name(), Rows(def, rows));
    if (!st.ok()) throw std::runtime_error(st.ToString());
  };
  add(warehouse::DailySummaryTable(),
      json::array({{{"summary_date", "2024-08-21"}, {"total_events", 1000}, {"unique_users", 100}, {"bot_percentage", 20.5},
                    {"platform_health_score", 80.0}, {"peak_hour", 9}},
                   {{"summary_date", "2024-08-22"}, {"total_events", 2000}, {"unique_users", 150}, {"bot_percentage", 30.25},
                    {"platform_health_score", 75.5}, {"peak_hour", 10}, {"high_risk_user_count", 1},
                    {"europe_percentage", 40.0}, {"americas_percentage", 50.0}, {"asia_pacific_percentage", 10.0}}}));
  json hourly = json::array();
  for (int h : {9, 10}) {
    for (const char* d : {"en.wikipedia.org", "de.wikipedia.org"}) {
      hourly.push_back({{"stat_date", "2024-08-22"}, {"stat_hour", h}, {"domain", d},
                        {"region", std::string(d) == "en.wikipedia.org" ? "americas" : "europe"},
                        {"total_events", 100 * h + (std::string(d) == "en.wikipedia.org" ? 1 : 2)},
                        {"unique_users", 10}, {"bot_edits", 20}, {"human_edits", 80}, {"bot_percentage", 20.0},
                        {"gold_processed_at", "2024-08-22T11:00:00Z"}});
    }
  }
  add(warehouse::HourlyStatsTable(), hourly);
  json trending = json::array();
  for (int h : {9, 10}) {
    for (int i = 1; i <= 4; ++i) {
      trending.push_back({{"stat_date", "2024-08-22"}, {"stat_hour", h},
                          {"domain", i % 2 ? "en.wikipedia.org" : "de.wikipedia.org"},
                          {"title", "Page_" + std::to_string(h) + "_" + std::to_string(i)},
                          {"edits", 10 - i}, {"unique_editors", 3}, {"bytes_changed", 100 * i},
                          {"prev_24h_edits", 0}, {"trend_score", 10.0 - i}, {"rank", (i + 1) / 2}});
    }
  }
  add(warehouse::TrendingPagesTable(), trending);
  add(warehouse::TopContributorsTable(),
      json::array({{{"stat_date", "2024-08-22"}, {"domain", "en.wikipedia.org"}, {"user_normalized", "Alice"}, {"edits", 50},
                    {"bytes_added", 500}, {"is_bot", false}, {"user_type", "registered"}, {"rank", 1}},
                   {{"stat_date", "2024-08-22"}, {"domain", "en.wikipedia.org"}, {"user_normalized", "BotX"}, {"edits", 40},
                    {"bytes_added", 900}, {"is_bot", true}, {"user_type", "bot"}, {"rank", 2}},
                   {{"stat_date", "2024-08-22"}, {"domain", "de.wikipedia.org"}, {"user_normalized", "Bernd"}, {"edits", 45},
                    {"bytes_added", 10}, {"is_bot", false}, {"user_type", "registered"}, {"rank", 1}}}));
  add(warehouse::RiskScoresTable(),
      json::array({{{"stat_date", "2024-08-22"}, {"entity_id", "Vandal"}, {"entity_type", "user"}, {"total_edits", 80},
                    {"peak_hour_edits", 60}, {"risk_score", 70}, {"risk_level", "HIGH"}, {"alert_triggered", true},
                    {"evidence", R"({"peak_hour_edits":60,"large_deletions":4,"domains_edited":1,"total_edits":80,"anonymous_edits":0,"factors":["velocity","deletions"]})"}},
                   {{"stat_date", "2024-08-22"}, {"entity_id", "Busy"}, {"entity_type", "user"}, {"total_edits", 30},
                    {"peak_hour_edits", 30}, {"risk_score", 45}, {"risk_level", "MEDIUM"}, {"alert_triggered", false},
                    {"evidence", R"({"factors":["velocity"]})"}},
                   {{"stat_date", "2024-08-22"}, {"entity_id", "Calm"}, {"entity_type", "user"}, {"total_edits", 6},
                    {"peak_hour_edits", 2}, {"risk_score", 0}, {"risk_level", "LOW"}, {"alert_triggered", false},
                    {"evidence", R"({"factors":[]})"}}}));
  add(warehouse::AlertsTable(),
      json::array({{{"alert_id", "a-1"}, {"raised_at", "2024-08-22T10:05:00Z"}, {"alert_date", "2024-08-22"}, {"kind", "risk"},
                    {"severity", "HIGH"}, {"subject", "HIGH risk user Vandal"}, {"entity", "Vandal"},
                    {"details", R"({"risk_score":70})"}, {"delivered", true}}}));
  add(warehouse::QualityResultsTable(),
      json::array({{{"run_id", "r1"}, {"layer", "silver"}, {"table_name", "silver.cleaned_events"}, {"check_name", "event_id_complete"},
                    {"check_type", "completeness"}, {"severity", "error"}, {"status", "PASSED"}, {"metric_value", 1.0},
                    {"run_timestamp", "2024-08-22T10:00:00Z"}, {"run_date", "2024-08-22"}},
                   {{"run_id", "r1"}, {"layer", "silver"}, {"table_name", "silver.cleaned_events"}, {"check_name", "title_complete"},
                    {"check_type", "completeness"}, {"severity", "warn"}, {"status", "WARNING"}, {"metric_value", 0.9},
                    {"run_timestamp", "2024-08-22T10:00:00Z"}, {"run_date", "2024-08-22"}},
                   {{"run_id", "r2"}, {"layer", "gold"}, {"table_name", "gold.hourly_stats"}, {"check_name", "reconciliation"},
                    {"check_type", "reconciliation"}, {"severity", "error"}, {"status", "FAILED"}, {"metric_value", 0.5},
                    {"run_timestamp", "2024-08-22T10:01:00Z"}, {"run_date", "2024-08-22"}}}));
  add(warehouse::PipelineRunsTable(),
      json::array({{{"run_id", "p1"}, {"cycle_id", "c1"}, {"stage", "silver"}, {"attempt", 1}, {"status", "SUCCEEDED"},
                    {"started_at", "2024-08-22T10:00:00Z"}, {"finished_at", "2024-08-22T10:00:01Z"}, {"rows_in", 10},
                    {"rows_out", 10}, {"run_date", "2024-08-22"}},
                   {{"run_id", "p2"}, {"cycle_id", "c1"}, {"stage", "gold"}, {"attempt", 1}, {"status", "FAILED"},
                    {"started_at", "2024-08-22T10:00:02Z"}, {"error", "gate failed"}, {"run_date", "2024-08-22"}}}));
}

// More days and the tables the drill-downs read: risk_scores of 2024-08-21,
// silver events of Vandal and Busy on both days (Vandal edits en and de,
// Busy only en), and two DLQ events.
inline void FillDrillDownFixture(InMemoryAnalyticsStore& store) {
  using nlohmann::json;
  auto add = [&](const std::string& table, const format::SchemaPtr& schema, const json& rows) {
    format::RecordBatch b(schema);
    for (const auto& r : rows) AppendJsonRow(b, r);
    Status st = store.Append(table, b);
    if (!st.ok()) throw std::runtime_error(st.ToString());
  };
  add(warehouse::RiskScoresTable().full_name(), warehouse::RiskScoresTable().schema,
      json::array({{{"stat_date", "2024-08-21"}, {"entity_id", "Vandal"}, {"entity_type", "user"}, {"total_edits", 12},
                    {"peak_hour_edits", 12}, {"risk_score", 10}, {"risk_level", "LOW"}, {"velocity_points", 10},
                    {"alert_triggered", false}, {"user_type", "registered"},
                    {"evidence", R"({"factors":["velocity"],"peak_hour_edits":12})"}},
                   {{"stat_date", "2024-08-21"}, {"entity_id", "203.0.113.9"}, {"entity_type", "user"}, {"total_edits", 30},
                    {"peak_hour_edits", 30}, {"risk_score", 45}, {"risk_level", "MEDIUM"}, {"user_type", "ip"},
                    {"alert_triggered", false}, {"evidence", R"({"factors":["velocity","anonymous"]})"}}}));
  json silver = json::array();
  int n = 0;
  auto event = [&](const std::string& date, int hour, const std::string& user, const std::string& domain,
                   const std::string& title, int delta) {
    const std::string ts = fmt::format("{}T{:02d}:{:02d}:00Z", date, hour, n % 60);
    silver.push_back({{"event_id", "s-" + std::to_string(++n)}, {"event_type", "edit"}, {"domain", domain},
                      {"region", domain == "en.wikipedia.org" ? "americas" : "europe"}, {"title", title},
                      {"user_normalized", user}, {"user_type", "registered"}, {"is_bot", false},
                      {"is_anonymous", false}, {"length_delta", delta}, {"is_large_deletion", delta < -5000},
                      {"event_timestamp", ts}, {"event_date", date}, {"event_hour", hour}});
  };
  for (int i = 0; i < 6; ++i) event("2024-08-22", 10, "Vandal", "en.wikipedia.org", "Page_10_1", -6000);
  for (int i = 0; i < 3; ++i) event("2024-08-22", 9, "Vandal", "de.wikipedia.org", "Seite", 100);
  for (int i = 0; i < 4; ++i) event("2024-08-21", 8, "Vandal", "en.wikipedia.org", "Page_10_1", 50);
  for (int i = 0; i < 5; ++i) event("2024-08-22", 10, "Busy", "en.wikipedia.org", "Other", 10);
  add(warehouse::SilverTable().full_name(), warehouse::SilverTable().schema, silver);
  add("bronze.dlq_events", warehouse::bronze::DlqEventsSchema(),
      json::array({{{"dlq_id", "d1"}, {"received_at", "2024-08-22T10:00:00Z"}, {"received_date", "2024-08-22"},
                    {"source", "replay"}, {"error_code", "invalid_json"}, {"error_message", "not JSON"},
                    {"payload", "{"}, {"payload_bytes", 1}, {"payload_truncated", false}},
                   {{"dlq_id", "d2"}, {"received_at", "2024-08-22T10:01:00Z"}, {"received_date", "2024-08-22"},
                    {"source", "replay"}, {"error_code", "too_large"}, {"error_message", "big"},
                    {"payload", "x"}, {"payload_bytes", 2000000}, {"payload_truncated", true}}}));
}

// Accepted bronze rows for the live aggregator.
inline format::RecordBatch BronzeRows(int n, int64_t ts, const std::string& domain = "en.wikipedia.org",
                              const std::string& user = "Alice", bool bot = false,
                              const std::string& title_prefix = "Live_page_") {
  using namespace ws::warehouse::bronze;
  static int counter = 0;
  format::RecordBatch b(RawEventsSchema());
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < kRawColumnCount; ++c) {
      format::Column& col = b.column(c);
      switch (c) {
        case kEventId: col.AppendString("ev-" + std::to_string(++counter)); break;
        case kEventType: col.AppendString("edit"); break;
        case kDomain: col.AppendString(domain); break;
        case kTitle: col.AppendString(title_prefix + std::to_string(i % 3)); break;
        case kUser: col.AppendString(user); break;
        case kIsBot: col.AppendBool(bot); break;
        case kLengthDelta: col.AppendInt32(-6000); break;
        case kEventTimestamp: case kIngestedAt: case kBronzeProcessedAt: col.AppendInt64(ts); break;
        case kSource: col.AppendString("synthetic"); break;
        case kRaw: col.AppendString("{}"); break;
        case kEventDate: col.AppendString(FormatDate(ts)); break;
        case kEventHour: col.AppendInt32(HourOfDay(ts)); break;
        default: col.AppendNull();
      }
    }
  }
  return b;
}

}  // namespace ws::serve::testing
