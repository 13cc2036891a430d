#include "wikistream/transform/dq.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>

#include "transform_fixture.h"
#include "wikistream/transform/gold.h"
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

using format::Column;
using format::Field;
using format::RecordBatch;
using format::Schema;
using format::TypeId;
using warehouse::GoldTables;
using warehouse::ProfileMetricsTable;
using warehouse::SilverTable;
using warehouse::TableDef;

namespace {

using testing::At;
using testing::Ev;
using testing::MakeBronze;

std::vector<Ev> CleanEvents(int n = 20) {
  std::vector<Ev> evs;
  const char* wikis[] = {"en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "commons.wikimedia.org"};
  for (int i = 0; i < n; ++i) {
    evs.push_back(Ev{.id = "ev" + std::to_string(i), .domain = wikis[i % 4], .title = "T" + std::to_string(i % 3),
                     .user = "U" + std::to_string(i % 5), .len_old = 100, .len_new = 100 + i,
                     .ts_us = At("2024-04-01T10:00:00Z") + i * kMicrosPerSecond});
  }
  return evs;
}

// A copy of `b` with one cell replaced by what `set` appends.
RecordBatch WithCell(const RecordBatch& b, const std::string& column, size_t row,
                     const std::function<void(Column&)>& set) {
  RecordBatch out(b.schema());
  int target = b.schema()->FieldIndex(column);
  for (size_t c = 0; c < b.num_columns(); ++c) {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      if (static_cast<int>(c) == target && r == row) {
        set(out.column(c));
      } else {
        out.column(c).AppendFrom(b.column(c), r);
      }
    }
  }
  return out;
}

struct CheckRow {
  std::string status, severity, type, message, evidence;
  std::optional<double> metric, threshold;
  int64_t checked = 0, passed = 0, failed = 0;
};

std::map<std::string, CheckRow> Checks(const GateOutcome& g) {
  std::map<std::string, CheckRow> out;
  const RecordBatch& q = g.quality_results;
  EXPECT_TRUE(q.Validate().ok()) << q.Validate().ToString();
  for (size_t r = 0; r < q.num_rows(); ++r) {
    CheckRow c;
    c.status = q.column("status").GetString(r);
    c.severity = q.column("severity").GetString(r);
    c.type = q.column("check_type").GetString(r);
    c.message = q.column("message").GetString(r);
    c.evidence = q.column("evidence").GetString(r);
    if (q.column("metric_value").IsValid(r)) c.metric = q.column("metric_value").GetDouble(r);
    if (q.column("threshold_value").IsValid(r)) c.threshold = q.column("threshold_value").GetDouble(r);
    c.checked = q.column("records_checked").GetInt64(r);
    c.passed = q.column("records_passed").GetInt64(r);
    c.failed = q.column("records_failed").GetInt64(r);
    out[std::string(q.column("check_name").GetString(r))] = c;
  }
  return out;
}

SilverGateContext Ctx() {
  SilverGateContext ctx;
  ctx.run_id = "run-1";
  ctx.run_time_us = At("2024-04-01T10:30:00Z");
  return ctx;
}

struct Fixture {
  RecordBatch bronze;
  RecordBatch silver;
};

Fixture Clean(int n = 20) {
  Fixture f;
  f.bronze = MakeBronze(CleanEvents(n));
  f.silver = BuildSilver(f.bronze, nullptr, 1);
  return f;
}

TEST(SilverGateTest, CleanRowsPassEveryCheck) {
  Fixture f = Clean();
  GateOutcome g = RunSilverGate(f.bronze, f.silver, Ctx());
  EXPECT_TRUE(g.passed);
  EXPECT_TRUE(g.failed_checks.empty());
  auto checks = Checks(g);
  std::vector<std::string> expected = {
      "completeness_event_id", "completeness_event_type", "completeness_domain", "completeness_region",
      "completeness_event_timestamp", "completeness_title", "completeness_user_normalized", "valid_event_type",
      "valid_region", "valid_event_hour", "valid_namespace", "unique_event_id", "accurate_length_delta",
      "consistent_region_mapping", "timely_event_not_future", "timely_ingest_lag_p95", "volume_vs_recent_median"};
  ASSERT_EQ(checks.size(), expected.size());
  for (const auto& name : expected) {
    ASSERT_TRUE(checks.count(name)) << name;
    const CheckRow& c = checks[name];
    if (name == "timely_ingest_lag_p95" || name == "volume_vs_recent_median") {
      EXPECT_EQ(c.status, "SKIPPED") << name;
    } else {
      EXPECT_EQ(c.status, "PASSED") << name << ": " << c.message;
    }
    EXPECT_TRUE(nlohmann::json::accept(c.evidence)) << name;
  }
  EXPECT_EQ(checks["completeness_event_id"].checked, 20);
  EXPECT_EQ(checks["completeness_event_id"].metric, 1.0);
  EXPECT_EQ(checks["completeness_event_id"].severity, "error");
  EXPECT_EQ(checks["completeness_title"].severity, "warn");
  EXPECT_EQ(checks["completeness_title"].threshold, 0.95);
  EXPECT_EQ(checks["unique_event_id"].type, "uniqueness");
  EXPECT_EQ(checks["accurate_length_delta"].type, "accuracy");
  EXPECT_EQ(checks["timely_event_not_future"].type, "timeliness");
  EXPECT_EQ(checks["volume_vs_recent_median"].type, "volume");
  const RecordBatch& q = g.quality_results;
  EXPECT_EQ(q.column("run_id").GetString(0), "run-1");
  EXPECT_EQ(q.column("layer").GetString(0), "silver");
  EXPECT_EQ(q.column("table_name").GetString(0), "silver.cleaned_events");
  EXPECT_EQ(q.column("run_date").GetString(0), "2024-04-01");
  // One profile row per silver column.
  EXPECT_EQ(g.profile_metrics.num_rows(), SilverTable().schema->num_fields());
  EXPECT_TRUE(g.profile_metrics.Validate().ok());
}

void ExpectFails(const RecordBatch& bronze, const RecordBatch& silver, const std::string& check,
                 const SilverGateContext& ctx = Ctx()) {
  GateOutcome g = RunSilverGate(bronze, silver, ctx);
  auto checks = Checks(g);
  EXPECT_FALSE(g.passed) << check;
  EXPECT_EQ(checks[check].status, "FAILED") << check;
  EXPECT_NE(std::find(g.failed_checks.begin(), g.failed_checks.end(), check), g.failed_checks.end()) << check;
  EXPECT_GE(checks[check].failed, 1) << check;
}

void ExpectWarns(const RecordBatch& bronze, const RecordBatch& silver, const std::string& check,
                 const SilverGateContext& ctx = Ctx()) {
  GateOutcome g = RunSilverGate(bronze, silver, ctx);
  auto checks = Checks(g);
  EXPECT_TRUE(g.passed) << check;
  EXPECT_EQ(checks[check].status, "WARNING") << check;
  EXPECT_EQ(g.warning_checks, std::vector<std::string>{check});
}

TEST(SilverGateTest, EachErrorCheckFailsOnABadRow) {
  Fixture f = Clean();
  auto null_cell = [](Column& c) { c.AppendNull(); };
  ExpectFails(f.bronze, WithCell(f.silver, "event_id", 3, null_cell), "completeness_event_id");
  ExpectFails(f.bronze, WithCell(f.silver, "event_type", 3, null_cell), "completeness_event_type");
  ExpectFails(f.bronze, WithCell(f.silver, "domain", 3, [](Column& c) { c.AppendString(""); }), "completeness_domain");
  ExpectFails(f.bronze, WithCell(f.silver, "region", 3, null_cell), "completeness_region");
  ExpectFails(f.bronze, WithCell(f.silver, "event_timestamp", 3, null_cell), "completeness_event_timestamp");
  ExpectFails(f.bronze, WithCell(f.silver, "region", 3, [](Column& c) { c.AppendString("mars"); }), "valid_region");
  ExpectFails(f.bronze, WithCell(f.silver, "event_hour", 3, [](Column& c) { c.AppendInt32(24); }), "valid_event_hour");
  ExpectFails(f.bronze, WithCell(f.silver, "event_hour", 3, [](Column& c) { c.AppendInt32(-1); }), "valid_event_hour");
  ExpectFails(f.bronze, WithCell(f.silver, "namespace", 3, [](Column& c) { c.AppendInt32(-3); }), "valid_namespace");
  ExpectFails(f.bronze, WithCell(f.silver, "event_id", 3, [](Column& c) { c.AppendString("ev4"); }), "unique_event_id");
  ExpectFails(f.bronze, WithCell(f.silver, "length_delta", 3, [](Column& c) { c.AppendInt32(999); }),
              "accurate_length_delta");
  ExpectFails(f.bronze, WithCell(f.silver, "length_delta", 3, null_cell), "accurate_length_delta");
  // de.wikipedia.org is row 1: europe, not americas.
  ExpectFails(f.bronze, WithCell(f.silver, "region", 1, [](Column& c) { c.AppendString("americas"); }),
              "consistent_region_mapping");
  ExpectFails(f.bronze, WithCell(f.silver, "language", 1, [](Column& c) { c.AppendString("en"); }),
              "consistent_region_mapping");

  // Boundaries that pass: namespace -2, a null namespace, a delta without both lengths.
  RecordBatch ok = WithCell(f.silver, "namespace", 3, [](Column& c) { c.AppendInt32(-2); });
  ok = WithCell(ok, "namespace", 4, null_cell);
  EXPECT_TRUE(RunSilverGate(f.bronze, ok, Ctx()).passed);

  // Evidence names the offending event ids.
  GateOutcome g = RunSilverGate(f.bronze, WithCell(f.silver, "event_hour", 7, [](Column& c) { c.AppendInt32(30); }), Ctx());
  auto ev = nlohmann::json::parse(Checks(g)["valid_event_hour"].evidence);
  EXPECT_EQ(ev["examples"], nlohmann::json::array({"ev7"}));
  EXPECT_EQ(Checks(g)["valid_event_hour"].passed, 19);
}

TEST(SilverGateTest, WarnChecksWarnButPass) {
  Fixture f = Clean();
  ExpectWarns(f.bronze, WithCell(f.silver, "event_type", 2, [](Column& c) { c.AppendString("142"); }),
              "valid_event_type");
  // 1 of 20 titles missing = 0.95: passes; 2 of 20 = 0.90: warns.
  RecordBatch one = WithCell(f.silver, "title", 2, [](Column& c) { c.AppendNull(); });
  GateOutcome g = RunSilverGate(f.bronze, one, Ctx());
  EXPECT_EQ(Checks(g)["completeness_title"].status, "PASSED");
  EXPECT_EQ(Checks(g)["completeness_title"].metric, 0.95);
  ExpectWarns(f.bronze, WithCell(one, "title", 5, [](Column& c) { c.AppendNull(); }), "completeness_title");
  ExpectWarns(f.bronze,
              WithCell(WithCell(f.silver, "user_normalized", 2, [](Column& c) { c.AppendNull(); }), "user_normalized", 9,
                       [](Column& c) { c.AppendNull(); }),
              "completeness_user_normalized");
}

TEST(SilverGateTest, UniquenessOverTouchedPartitions) {
  Fixture f = Clean();
  SilverGateContext ctx = Ctx();
  ctx.touched_partition_rows = 500;
  ctx.touched_partition_duplicates = 0;
  GateOutcome g = RunSilverGate(f.bronze, f.silver, ctx);
  EXPECT_TRUE(g.passed);
  EXPECT_EQ(Checks(g)["unique_event_id"].checked, 500);
  ctx.touched_partition_duplicates = 2;
  ctx.duplicate_examples = {"old-1"};
  ExpectFails(f.bronze, f.silver, "unique_event_id", ctx);
  g = RunSilverGate(f.bronze, f.silver, ctx);
  auto ev = nlohmann::json::parse(Checks(g)["unique_event_id"].evidence);
  EXPECT_EQ(ev["examples"][0], "old-1");
  EXPECT_DOUBLE_EQ(*Checks(g)["unique_event_id"].metric, 498.0 / 500.0);
}

TEST(SilverGateTest, Timeliness) {
  std::vector<Ev> evs = CleanEvents();
  evs[4].ingest_lag_us = -10 * 60 * kMicrosPerSecond;  // exactly 10 min in the future: allowed
  RecordBatch bronze = MakeBronze(evs);
  RecordBatch silver = BuildSilver(bronze, nullptr, 1);
  EXPECT_TRUE(RunSilverGate(bronze, silver, Ctx()).passed);
  evs[4].ingest_lag_us = -10 * 60 * kMicrosPerSecond - 1;
  bronze = MakeBronze(evs);
  ExpectFails(bronze, BuildSilver(bronze, nullptr, 1), "timely_event_not_future");
  GateOutcome g = RunSilverGate(bronze, BuildSilver(bronze, nullptr, 1), Ctx());
  EXPECT_EQ(nlohmann::json::parse(Checks(g)["timely_event_not_future"].evidence)["examples"][0], "ev4");

  // Bronze rows of events not added by this run (duplicates) are not judged.
  RecordBatch only_first = BuildSilver(bronze, [](std::string_view id) { return id == "ev4"; }, 1);
  EXPECT_TRUE(RunSilverGate(bronze, only_first, Ctx()).passed);

  // Live source: p95 ingest lag ≤ 180 s.
  std::vector<Ev> lagged = CleanEvents();
  for (auto& e : lagged) {
    e.ingest_lag_us = 100 * kMicrosPerSecond;
    e.source = "eventstreams";
  }
  bronze = MakeBronze(lagged);
  g = RunSilverGate(bronze, BuildSilver(bronze, nullptr, 1), Ctx());
  EXPECT_EQ(Checks(g)["timely_ingest_lag_p95"].status, "PASSED");
  EXPECT_DOUBLE_EQ(*Checks(g)["timely_ingest_lag_p95"].metric, 100.0);
  for (size_t i = 0; i < lagged.size(); ++i) lagged[i].ingest_lag_us = (i < 18 ? 10 : 400) * kMicrosPerSecond;
  bronze = MakeBronze(lagged);
  // p95 of 18×10 s and 2×400 s (linear) = 10 + 0.05·390 ... well above 180 s.
  ExpectWarns(bronze, BuildSilver(bronze, nullptr, 1), "timely_ingest_lag_p95", Ctx());
}

// Whether the ingest lag means anything is read from each row's bronze
// `source`, not told by the caller: replayed and synthetic rows are never
// measured, and a chunk of only those skips the check.
TEST(SilverGateTest, IngestLagOnlyMeasuresRowsFromLiveSources) {
  std::vector<Ev> evs = CleanEvents();
  for (auto& e : evs) e.ingest_lag_us = 400 * kMicrosPerSecond;  // a replay lands years after its events
  for (const char* offline : {"replay", "synthetic"}) {
    for (auto& e : evs) e.source = offline;
    RecordBatch bronze = MakeBronze(evs);
    GateOutcome g = RunSilverGate(bronze, BuildSilver(bronze, nullptr, 1), Ctx());
    EXPECT_EQ(Checks(g)["timely_ingest_lag_p95"].status, "SKIPPED") << offline;
  }
  // Mixed: only the live rows count (2 of them, 10 s late).
  for (size_t i = 0; i < 2; ++i) {
    evs[i].source = i == 0 ? "eventstreams" : "kafka";
    evs[i].ingest_lag_us = 10 * kMicrosPerSecond;
  }
  RecordBatch bronze = MakeBronze(evs);
  GateOutcome g = RunSilverGate(bronze, BuildSilver(bronze, nullptr, 1), Ctx());
  EXPECT_EQ(Checks(g)["timely_ingest_lag_p95"].status, "PASSED");
  EXPECT_EQ(Checks(g)["timely_ingest_lag_p95"].checked, 2);
  EXPECT_DOUBLE_EQ(*Checks(g)["timely_ingest_lag_p95"].metric, 10.0);
}

TEST(SilverGateTest, ScanDuplicateEventIdsFillsTheContext) {
  Fixture f = Clean();
  RecordBatch touched = f.silver;
  touched.Append(WithCell(f.silver, "event_id", 0, [](Column& c) { c.AppendString("ev0"); }));  // all 20 again
  SilverGateContext ctx = Ctx();
  ScanDuplicateEventIds(f.silver, &ctx);
  EXPECT_EQ(ctx.touched_partition_rows, 20);
  EXPECT_EQ(ctx.touched_partition_duplicates, 0);
  EXPECT_TRUE(RunSilverGate(f.bronze, f.silver, ctx).passed);
  ScanDuplicateEventIds(touched, &ctx);
  EXPECT_EQ(ctx.touched_partition_rows, 40);
  EXPECT_EQ(ctx.touched_partition_duplicates, 20);
  EXPECT_EQ(ctx.duplicate_examples.size(), 5u);
  EXPECT_EQ(ctx.duplicate_examples[0], "ev0");
  ExpectFails(f.bronze, f.silver, "unique_event_id", ctx);
}

TEST(SilverGateTest, VolumeAgainstMedianOfLastTenRuns) {
  Fixture f = Clean(20);
  SilverGateContext ctx = Ctx();
  ctx.recent_run_volumes = {100, 100, 100, 100, 100, 100, 100, 100, 100};
  EXPECT_EQ(Checks(RunSilverGate(f.bronze, f.silver, ctx))["volume_vs_recent_median"].status, "SKIPPED");
  ctx.recent_run_volumes = {1, 100, 100, 100, 100, 100, 100, 100, 100, 200, 200};  // last 10: median 100
  GateOutcome g = RunSilverGate(f.bronze, f.silver, ctx);
  EXPECT_EQ(Checks(g)["volume_vs_recent_median"].status, "PASSED");  // 20 ≥ 10
  EXPECT_EQ(Checks(g)["volume_vs_recent_median"].threshold, 100.0);
  ctx.recent_run_volumes = std::vector<int64_t>(10, 201);  // lower bound 20.1
  ExpectWarns(f.bronze, f.silver, "volume_vs_recent_median", ctx);
  ctx.recent_run_volumes = std::vector<int64_t>(10, 2);  // upper bound 20: 20 rows pass
  EXPECT_EQ(Checks(RunSilverGate(f.bronze, f.silver, ctx))["volume_vs_recent_median"].status, "PASSED");
  ctx.recent_run_volumes = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2};  // median 1.5: upper 15
  ExpectWarns(f.bronze, f.silver, "volume_vs_recent_median", ctx);
}

TEST(SilverGateTest, MissingColumnIsErrorAndFailsTheGate) {
  Fixture f = Clean();
  std::vector<Field> fields;
  for (const auto& fl : f.silver.schema()->fields()) {
    if (fl.name != "region") fields.push_back(fl);
  }
  RecordBatch proj(std::make_shared<const Schema>(0, fields));
  for (size_t c = 0, o = 0; c < f.silver.num_columns(); ++c) {
    if (f.silver.schema()->field(c).name == "region") continue;
    for (size_t r = 0; r < f.silver.num_rows(); ++r) proj.column(o).AppendFrom(f.silver.column(c), r);
    ++o;
  }
  GateOutcome g = RunSilverGate(f.bronze, proj, Ctx());
  EXPECT_FALSE(g.passed);
  EXPECT_EQ(Checks(g)["completeness_region"].status, "ERROR");
  EXPECT_EQ(Checks(g)["valid_region"].status, "ERROR");
}

TEST(ProfileTest, NumericAndStringColumns) {
  auto schema = std::make_shared<const Schema>(
      0, std::vector<Field>{{1, "n", TypeId::kInt32, false, ""}, {2, "s", TypeId::kString, false, ""},
                            {3, "b", TypeId::kBoolean, false, ""}, {4, "t", TypeId::kTimestampTz, false, ""}});
  RecordBatch b(schema);
  int vals[] = {4, 1, 3, 2};
  const char* strs[] = {"pear", "apple", "pear", "fig"};
  for (int i = 0; i < 4; ++i) {
    b.column(0).AppendInt32(vals[i]);
    b.column(1).AppendString(strs[i]);
    b.column(2).AppendBool(i % 2);
    b.column(3).AppendInt64(At("2024-01-01T00:00:00Z") + i * kMicrosPerSecond);
  }
  b.column(0).AppendNull();
  b.column(1).AppendNull();
  b.column(2).AppendNull();
  b.column(3).AppendNull();
  RecordBatch out(ProfileMetricsTable().schema);
  ProfileTable(b, "x", "t.t", "r", At("2024-01-02T00:00:00Z"), &out);
  ASSERT_EQ(out.num_rows(), 4u);
  ASSERT_TRUE(out.Validate().ok());
  EXPECT_EQ(out.column("column_name").GetString(0), "n");
  EXPECT_EQ(out.column("record_count").GetInt64(0), 5);
  EXPECT_EQ(out.column("null_count").GetInt64(0), 1);
  EXPECT_DOUBLE_EQ(out.column("null_rate").GetDouble(0), 0.2);
  EXPECT_EQ(out.column("distinct_count").GetInt64(0), 4);
  EXPECT_EQ(out.column("min_value").GetString(0), "1");
  EXPECT_EQ(out.column("max_value").GetString(0), "4");
  EXPECT_DOUBLE_EQ(out.column("mean_value").GetDouble(0), 2.5);
  EXPECT_NEAR(out.column("stddev_value").GetDouble(0), std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_DOUBLE_EQ(out.column("p50").GetDouble(0), 2.5);
  EXPECT_NEAR(out.column("p95").GetDouble(0), 3.85, 1e-12);
  EXPECT_EQ(out.column("distinct_count").GetInt64(1), 3);
  EXPECT_EQ(out.column("min_value").GetString(1), "apple");
  EXPECT_EQ(out.column("max_value").GetString(1), "pear");
  EXPECT_TRUE(out.column("mean_value").IsNull(1));
  EXPECT_EQ(out.column("min_value").GetString(2), "false");
  EXPECT_EQ(out.column("max_value").GetString(2), "true");
  EXPECT_TRUE(out.column("p50").IsNull(2));
  EXPECT_EQ(out.column("min_value").GetString(3), FormatIso8601(At("2024-01-01T00:00:00Z")));
  EXPECT_TRUE(out.column("mean_value").IsNull(3));
  EXPECT_EQ(out.column("run_date").GetString(0), "2024-01-02");
}

GoldResult SomeGold(std::map<std::string, int64_t>* rows_per_date) {
  std::vector<Ev> evs;
  for (int i = 0; i < 30; ++i) {
    evs.push_back(Ev{.id = "g" + std::to_string(i), .user = "U" + std::to_string(i % 2), .len_old = 9000,
                     .len_new = i % 3 ? 9100 : 1000, .ts_us = At(i < 20 ? "2024-04-02T01:00:00Z" : "2024-04-03T05:00:00Z") + i});
  }
  RecordBatch s = BuildSilver(MakeBronze(evs), nullptr, 1);
  (*rows_per_date)["2024-04-02"] = 20;
  (*rows_per_date)["2024-04-03"] = 10;
  (*rows_per_date)["2024-04-04"] = 0;
  return ComputeGold(s, {"2024-04-02", "2024-04-03", "2024-04-04"}, 5);
}

TEST(GoldGateTest, PassesOnConsistentGoldAndFailsOnEachInjectedFault) {
  std::map<std::string, int64_t> rows;
  GoldResult gold = SomeGold(&rows);
  ASSERT_GT(gold.risk_scores.num_rows(), 0u);
  GoldGateContext ctx{"run-g", At("2024-04-04T00:00:00Z")};
  GateOutcome g = RunGoldGate(gold, rows, ctx);
  EXPECT_TRUE(g.passed) << (g.failed_checks.empty() ? "" : g.failed_checks[0]);
  auto checks = Checks(g);
  for (const char* name : {"reconcile_hourly_total_events", "hourly_total_ge_unique_users", "hourly_bot_percentage_range",
                           "risk_score_range", "risk_level_consistent", "reconcile_daily_total_events"}) {
    ASSERT_TRUE(checks.count(name)) << name;
    EXPECT_EQ(checks[name].status, "PASSED") << name;
    EXPECT_EQ(checks[name].severity, "error") << name;
  }
  EXPECT_EQ(checks["reconcile_hourly_total_events"].type, "reconciliation");
  EXPECT_EQ(checks["reconcile_hourly_total_events"].checked, 3);
  EXPECT_EQ(g.quality_results.column("layer").GetString(0), "gold");
  size_t cols = 0;
  for (const TableDef* t : GoldTables()) cols += t->schema->num_fields();
  EXPECT_EQ(g.profile_metrics.num_rows(), cols);

  auto fails = [&](const GoldResult& bad, const std::map<std::string, int64_t>& r, const std::string& check) {
    GateOutcome o = RunGoldGate(bad, r, ctx);
    EXPECT_FALSE(o.passed) << check;
    EXPECT_EQ(Checks(o)[check].status, "FAILED") << check;
  };
  auto r2 = rows;
  r2["2024-04-03"] = 11;
  fails(gold, r2, "reconcile_hourly_total_events");
  fails(gold, r2, "reconcile_daily_total_events");
  r2 = rows;
  r2.erase("2024-04-03");  // gold rows for a date that was not reconciled
  fails(gold, r2, "reconcile_hourly_total_events");

  GoldResult bad = gold;
  bad.hourly_stats = WithCell(gold.hourly_stats, "unique_users", 0, [](Column& c) { c.AppendInt64(1000); });
  fails(bad, rows, "hourly_total_ge_unique_users");
  bad = gold;
  bad.hourly_stats = WithCell(gold.hourly_stats, "bot_percentage", 0, [](Column& c) { c.AppendDouble(100.01); });
  fails(bad, rows, "hourly_bot_percentage_range");
  bad.hourly_stats = WithCell(gold.hourly_stats, "bot_percentage", 0, [](Column& c) { c.AppendDouble(-0.5); });
  fails(bad, rows, "hourly_bot_percentage_range");
  bad = gold;
  bad.risk_scores = WithCell(gold.risk_scores, "risk_score", 0, [](Column& c) { c.AppendInt32(101); });
  fails(bad, rows, "risk_score_range");
  bad = gold;
  bad.risk_scores = WithCell(gold.risk_scores, "risk_level", 0, [](Column& c) { c.AppendString("HIGH"); });
  fails(bad, rows, "risk_level_consistent");
  bad = gold;
  bad.daily_summary = WithCell(gold.daily_summary, "total_events", 0, [](Column& c) { c.AppendInt64(19); });
  fails(bad, rows, "reconcile_daily_total_events");
}

// p50/p95 of numeric columns interpolate between order statistics
// (numpy's default "linear"), whatever the input order.
TEST(ProfileTest, QuantilesInterpolateBetweenOrderStatistics) {
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "v", TypeId::kInt64, false, ""}});
  RecordBatch values(schema);
  for (int64_t v : {7, 3, 10, 1, 9, 2, 8, 4, 6, 5}) values.column(0).AppendInt64(v);
  RecordBatch out(ProfileMetricsTable().schema);
  ProfileTable(values, "silver", "t", "run", 0, &out);
  ASSERT_EQ(out.num_rows(), 1u);
  EXPECT_DOUBLE_EQ(out.column("p50").GetDouble(0), 5.5);
  EXPECT_DOUBLE_EQ(out.column("p95").GetDouble(0), 9.55);
  EXPECT_DOUBLE_EQ(out.column("mean_value").GetDouble(0), 5.5);
}

}  // namespace
}  // namespace ws::transform
