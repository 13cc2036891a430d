// BatchCycle over a real warehouse: a failing silver gate publishes nothing
// and raises one alert delivered to a webhook; late data rewrites only the
// partitions of its own date (and the next, for trending).
#include "wikistream/batch/batch_cycle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <tuple>
#include <thread>

#include "testing/postgres_server.h"
#include "testing/test_util.h"
#include "testing/webhook_receiver.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/transform/dq.h"
#include "wikistream/warehouse/batch_lock.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/ops_tables.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::batch {

namespace bronze = warehouse::bronze;
using alerts::AlertSink;
using format::RecordBatch;
using ingest::BronzeWriter;
using ingest::EventIngestor;
using model::AlertKind;
using model::DomainFilter;
using model::StageName;
using model::StageOutcome;
using model::StageStatus;
using source::SourceRecord;
using warehouse::ProjectSchema;
using warehouse::Warehouse;

namespace {

using ws::testing::TempDir;

std::string Event(const std::string& id, const std::string& dt, int ns = 0, const std::string& user = "Alice") {
  return R"({"meta":{"id":")" + id + R"(","domain":"en.wikipedia.org","dt":")" + dt + R"("},"type":"edit","namespace":)" +
         std::to_string(ns) + R"(,"title":"Page )" + id + R"(","user":")" + user +
         R"(","bot":false,"length":{"old":10,"new":20}})";
}

void Land(Warehouse* wh, const std::vector<std::string>& payloads, const std::string& position) {
  EventIngestor ing(DomainFilter(), "replay");
  auto w = BronzeWriter::Open(wh, "replay");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
  for (const auto& p : payloads) ing.Ingest(SourceRecord{p, NowMicros(), position}, &acc, &dlq);
  ASSERT_TRUE((*w)->AddRows(&acc, &dlq, nullptr).ok());
  auto c = (*w)->Commit(position);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
}

std::set<std::string> FilesOf(Warehouse* wh, const std::string& table, const std::string& date) {
  auto t = *wh->table(table);
  EXPECT_TRUE(t->Refresh().ok());
  std::set<std::string> out;
  auto files = t->Scan();  // keep the Result alive while iterating
  EXPECT_TRUE(files.ok());
  for (const auto& f : *files) {
    if (f.partition[0] == date) out.insert(f.path);
  }
  return out;
}

std::multiset<std::string> EventIds(Warehouse* wh, const std::string& table) {
  auto t = *wh->table(table);
  EXPECT_TRUE(t->Refresh().ok());
  auto rows = wh->ReadTable(*t, ProjectSchema(*t->schema(), {"event_id"}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::multiset<std::string> ids;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) ids.emplace(rows->column(0).GetString(i));
  return ids;
}

using ws::testing::WebhookReceiver;

BatchOptions FastOptions() {
  BatchOptions o;
  o.backoff_base_ms = 1;
  return o;
}

// A warehouse with a batch cycle over it, alerts kept in memory.
struct CycleOverWarehouse {
  TempDir dir;
  std::unique_ptr<Warehouse> wh = std::move(Warehouse::Open(DefaultFileSystem(), dir.str(), true)).value();
  AlertSink alerts{""};
  std::atomic<bool> stop{false};
  BatchCycle cycle{wh.get(), &alerts, FastOptions(), &stop};
};

// Silver's data files on disk, referenced or not.
std::set<std::string> SilverFilesOnDisk(const std::string& dir) {
  std::set<std::string> out;
  auto files = DefaultFileSystem()->ListRecursive(dir);
  EXPECT_TRUE(files.ok());
  for (const auto& f : *files) {
    if (f.path.find("cleaned_events") != std::string::npos && f.path.size() > 8 &&
        f.path.compare(f.path.size() - 8, 8, ".parquet") == 0) {
      out.insert(f.path);
    }
  }
  return out;
}

// With one thread the gate runs before the write; with two, the files are
// written while the gate runs and must be deleted when it fails.
class FailingSilverGate : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Threads, FailingSilverGate, ::testing::Values(1, 2));

TEST_P(FailingSilverGate, LeavesGoldUntouchedNoFilesBehindAndAlertsOnce) {
  TempDir dir;
  auto wh = Warehouse::Open(DefaultFileSystem(), dir.str(), true);
  ASSERT_TRUE(wh.ok());
  WebhookReceiver hook;
  AlertSink alerts(hook.url());
  std::atomic<bool> stop{false};
  BatchOptions options = FastOptions();
  options.threads = GetParam();
  BatchCycle cycle(wh->get(), &alerts, options, &stop);

  Land(wh->get(), {Event("a1", "2026-03-01T10:00:00Z"), Event("a2", "2026-03-01T10:05:00Z")}, "p1");
  CycleReport first = cycle.Run();
  ASSERT_TRUE(first.ok) << first.Summary();
  auto gold_before = FilesOf(wh->get(), "gold.hourly_stats", "2026-03-01");
  ASSERT_FALSE(gold_before.empty());
  auto silver = *(*wh)->table("silver.cleaned_events");
  auto silver_snapshot = silver->current_snapshot()->snapshot_id;
  const std::set<std::string> silver_files = SilverFilesOnDisk(dir.str());
  ASSERT_FALSE(silver_files.empty());

  // namespace -10 violates the silver gate's "namespace >= -2" error check.
  Land(wh->get(), {Event("bad", "2026-03-01T11:00:00Z", -10), Event("a3", "2026-03-01T11:01:00Z")}, "p2");
  for (int run = 0; run < 2; ++run) {
    CycleReport r = cycle.Run();
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.silver_gate_failed);
    // A gate failure is its own outcome, recorded once (not retried), not an error Status.
    ASSERT_EQ(r.attempts.size(), 1u);
    EXPECT_EQ(r.attempts[0].status, StageStatus::kFailed);
    EXPECT_EQ(r.attempts[0].result.outcome, StageOutcome::kGateFailed);
    EXPECT_TRUE(r.attempts[0].result.error.ok());
    EXPECT_EQ(r.attempts[0].result.ErrorText(), "silver gate failed: valid_namespace");
  }
  ASSERT_TRUE(silver->Refresh().ok());
  EXPECT_EQ(silver->current_snapshot()->snapshot_id, silver_snapshot) << "silver published despite the gate";
  EXPECT_EQ(FilesOf(wh->get(), "gold.hourly_stats", "2026-03-01"), gold_before) << "gold changed";
  EXPECT_EQ(SilverFilesOnDisk(dir.str()), silver_files) << "the audited rows' files were left behind";

  // The FAILED check is recorded.
  auto q = *(*wh)->table("dq_audit.quality_results");
  auto rows = (*wh)->ReadTable(*q, ProjectSchema(*q->schema(), {"layer", "status", "check_name"}));
  ASSERT_TRUE(rows.ok());
  int failed = 0;
  for (size_t i = 0; i < rows->num_rows(); ++i) {
    if (rows->column(0).GetString(i) == "silver" && rows->column(1).GetString(i) == "FAILED") ++failed;
  }
  EXPECT_GE(failed, 2);  // once per audited attempt

  // One alert, delivered once to the webhook, although the gate failed twice.
  alerts.Shutdown();
  auto bodies = hook.bodies();
  int dq_alerts = 0;
  for (const auto& b : bodies) dq_alerts += b.find("\"dq\"") != std::string::npos;
  EXPECT_EQ(dq_alerts, 1) << bodies.size();
}

TEST(BatchCycleTest, LateDataRewritesOnlyItsOwnDates) {
  CycleOverWarehouse t;
  Warehouse* wh = t.wh.get();
  BatchCycle& cycle = t.cycle;
  Land(wh, {Event("d1", "2026-03-01T10:00:00Z"), Event("d10", "2026-03-10T10:00:00Z")}, "p1");
  ASSERT_TRUE(cycle.Run().ok);
  auto march10 = FilesOf(wh, "gold.hourly_stats", "2026-03-10");
  auto march1 = FilesOf(wh, "gold.hourly_stats", "2026-03-01");
  ASSERT_FALSE(march10.empty());

  // A late event for March 1st.
  Land(wh, {Event("late", "2026-03-01T12:00:00Z")}, "p2");
  CycleReport r = cycle.Run();
  ASSERT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(r.gold_dates, (std::vector<std::string>{"2026-03-01", "2026-03-02"}));
  EXPECT_EQ(FilesOf(wh, "gold.hourly_stats", "2026-03-10"), march10) << "an untouched date was rewritten";
  EXPECT_NE(FilesOf(wh, "gold.hourly_stats", "2026-03-01"), march1);

  // A cycle with no new input changes nothing.
  auto hourly = *wh->table("gold.hourly_stats");
  auto before = hourly->current_snapshot()->snapshot_id;
  CycleReport idle = cycle.Run();
  EXPECT_TRUE(idle.ok);
  ASSERT_TRUE(hourly->Refresh().ok());
  EXPECT_EQ(hourly->current_snapshot()->snapshot_id, before);
}

// Silver is one row per event_id ever, even when bronze holds an event twice
// (two writers that did not know each other's rows, like Kafka consumers
// around a rebalance). Silver looks the ids up per event hour, reading only
// the silver files whose event_hour bounds reach the hours an input touches.
TEST(BatchCycleTest, SilverKeepsOneRowPerEventIdWhenBronzeHoldsItTwice) {
  CycleOverWarehouse t;
  Warehouse* wh = t.wh.get();
  BatchCycle& cycle = t.cycle;
  // Opened before anything is in bronze: its dedup index will not know the rows landed below.
  auto late_writer = BronzeWriter::Open(wh, "other");
  ASSERT_TRUE(late_writer.ok());

  Land(wh, {Event("x1", "2026-03-01T03:00:00Z"), Event("x2", "2026-03-01T20:00:00Z")}, "p1");
  ASSERT_TRUE(cycle.Run().ok);
  Land(wh, {Event("x3", "2026-03-01T10:00:00Z")}, "p2");
  ASSERT_TRUE(cycle.Run().ok);

  EventIngestor ing(DomainFilter(), "other");
  RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
  for (const auto& p : {Event("x2", "2026-03-01T20:00:00Z"), Event("x3", "2026-03-01T10:00:00Z"),
                        Event("x4", "2026-03-01T20:00:00Z")}) {
    ing.Ingest(SourceRecord{p, NowMicros(), "q1"}, &acc, &dlq);
  }
  ASSERT_TRUE((*late_writer)->AddRows(&acc, &dlq, nullptr).ok());
  ASSERT_TRUE((*late_writer)->Commit("q1").ok());
  ASSERT_EQ(EventIds(wh, "bronze.raw_events").size(), 6u);

  CycleReport r = cycle.Run();
  ASSERT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(r.silver_rows_added, 1);
  EXPECT_EQ(EventIds(wh, "silver.cleaned_events"), (std::multiset<std::string>{"x1", "x2", "x3", "x4"}));
}

// (check_name, status) of every dq_audit.quality_results row of a layer, in commit order.
std::vector<std::pair<std::string, std::string>> CheckStatuses(Warehouse* wh, const std::string& layer) {
  auto q = *wh->table("dq_audit.quality_results");
  EXPECT_TRUE(q->Refresh().ok());
  auto rows = wh->ReadTable(*q, ProjectSchema(*q->schema(), {"layer", "check_name", "status", "run_timestamp"}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::tuple<int64_t, std::string, std::string>> found;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) {
    if (rows->column(0).GetString(i) != layer) continue;
    found.emplace_back(rows->column(3).GetInt64(i), std::string(rows->column(1).GetString(i)),
                       std::string(rows->column(2).GetString(i)));
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [t, name, status] : found) out.emplace_back(name, status);
  return out;
}

std::string LastStatusOf(Warehouse* wh, const std::string& layer, const std::string& check) {
  std::string status;
  for (const auto& [name, s] : CheckStatuses(wh, layer)) {
    if (name == check) status = s;
  }
  return status;
}

// Whether the ingest lag means anything comes from the bronze rows' `source`,
// whoever runs the cycle: `wikistream batch` and serve's admin batch use
// default options, and replayed rows must not be judged by their lag.
TEST(BatchCycleTest, IngestLagIsSkippedOnReplayedRowsWhoeverRunsTheCycle) {
  CycleOverWarehouse t;
  AlertSink alerts("");
  std::atomic<bool> stop{false};
  BatchCycle defaults(t.wh.get(), &alerts, BatchOptions{}, &stop);  // as `batch` and serve build it
  Land(t.wh.get(), {Event("r1", "2026-03-01T10:00:00Z"), Event("r2", "2026-03-01T10:05:00Z")}, "p1");
  CycleReport r = defaults.Run();
  ASSERT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(LastStatusOf(t.wh.get(), "silver", "timely_ingest_lag_p95"), "SKIPPED");
}

// The volume check compares with the silver runs recorded in
// ops.pipeline_runs, so a batch started by cron (a new process, a new
// BatchCycle each time) has the history a long-running `run` has.
TEST(BatchCycleTest, VolumeCheckUsesTheRunsOfEarlierProcesses) {
  CycleOverWarehouse t;
  for (int run = 0; run <= transform::kVolumeRunsNeeded; ++run) {
    const std::string id = "v" + std::to_string(run);
    Land(t.wh.get(), {Event(id + "a", "2026-03-01T10:00:00Z"), Event(id + "b", "2026-03-01T10:05:00Z")},
         "p" + std::to_string(run));
    AlertSink alerts("");
    std::atomic<bool> stop{false};
    BatchCycle fresh(t.wh.get(), &alerts, FastOptions(), &stop);  // a new process each time
    CycleReport r = fresh.Run(StageName::kSilver);
    ASSERT_TRUE(r.ok) << r.Summary();
    const std::string want = run < transform::kVolumeRunsNeeded ? "SKIPPED" : "PASSED";
    EXPECT_EQ(LastStatusOf(t.wh.get(), "silver", "volume_vs_recent_median"), want) << "run " << run;
  }
}

namespace {

// The (kind|entity|date) of every ops.alerts row.
std::multiset<std::string> AlertIdentities(Warehouse* wh) {
  auto table = *wh->table("ops.alerts");
  EXPECT_TRUE(table->Refresh().ok());
  auto rows = wh->ReadTable(*table, ProjectSchema(*table->schema(), {"kind", "entity", "alert_date"}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::multiset<std::string> identities;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) {
    identities.insert(std::string(rows->column(0).GetString(i)) + "|" + std::string(rows->column(1).GetString(i)) +
                      "|" + std::string(rows->column(2).GetString(i)));
  }
  return identities;
}

}  // namespace

// ops.alerts holds one row per (kind, entity, date): a gate failing on two
// different inputs the same day alerts once, and so does a new process that
// finds the first alert in the table.
TEST(BatchCycleTest, AGateAlertsOncePerLayerAndDayAcrossInputsAndProcesses) {
  CycleOverWarehouse t;
  Warehouse* wh = t.wh.get();
  Land(wh, {Event("ok1", "2026-03-01T10:00:00Z")}, "p1");
  ASSERT_TRUE(t.cycle.Run().ok);
  for (int input = 0; input < 2; ++input) {
    const std::string n = std::to_string(input);
    Land(wh, {Event("bad" + n, "2026-03-01T11:00:00Z", -10)}, "q" + n);  // a new bronze snapshot each time
    EXPECT_TRUE(t.cycle.Run().silver_gate_failed);
  }
  {
    AlertSink alerts("");
    ASSERT_TRUE(LoadRaisedAlertKeys(wh, &alerts, "2000-01-01").ok());
    std::atomic<bool> stop{false};
    BatchCycle next_process(wh, &alerts, FastOptions(), &stop);
    EXPECT_TRUE(next_process.Run().silver_gate_failed);
    EXPECT_TRUE(alerts.Recent(10).empty()) << "raised again by a new process";
  }
  std::multiset<std::string> identities = AlertIdentities(wh);
  EXPECT_EQ(identities.size(), 1u);
  EXPECT_EQ(identities.count("dq|silver|" + FormatDate(NowMicros())), 1u);
}

// A process that started before another recorded an alert (serve beside a
// cron `batch`) re-runs an old date: the alert already in ops.alerts is read
// under the cycle's lock, not raised again and not recorded twice.
TEST(BatchCycleTest, ReRunningAnOldDateRaisesNoAlertAnotherProcessRecorded) {
  CycleOverWarehouse t;
  Warehouse* wh = t.wh.get();
  Land(wh, {Event("ok1", "2026-03-01T10:00:00Z")}, "p1");
  ASSERT_TRUE(t.cycle.Run().ok);
  AlertSink earlier_alerts("");
  ASSERT_TRUE(LoadRaisedAlertKeys(wh, &earlier_alerts, FormatDate(NowMicros() - 2 * kMicrosPerDay)).ok());
  std::atomic<bool> stop{false};
  BatchCycle earlier_process(wh, &earlier_alerts, FastOptions(), &stop);

  Land(wh, {Event("bad0", "2026-03-01T11:00:00Z", -10)}, "q0");
  EXPECT_TRUE(t.cycle.Run().silver_gate_failed);
  Land(wh, {Event("bad1", "2026-03-01T11:00:00Z", -10)}, "q1");  // the old date again
  EXPECT_TRUE(earlier_process.Run().silver_gate_failed);
  EXPECT_TRUE(earlier_alerts.Recent(10).empty()) << "raised again by the process that started earlier";
  std::multiset<std::string> identities = AlertIdentities(wh);
  EXPECT_EQ(identities.size(), 1u);
  EXPECT_EQ(identities.count("dq|silver|" + FormatDate(NowMicros())), 1u);
}

// Alerts no batch cycle raised (ingest, live risk) are checked when they are
// recorded: one row per (kind, entity, date) whichever process records it.
TEST(BatchCycleTest, RecordingAnAlertTwiceKeepsOneRow) {
  CycleOverWarehouse t;
  model::Alert a;
  a.kind = AlertKind::kIngest;
  a.severity = model::AlertSeverity::kWarning;
  a.entity = "replay";
  a.alert_date = "2026-03-01";
  a.subject = "ingest stalled";
  for (int process = 0; process < 2; ++process) ASSERT_TRUE(warehouse::AppendAlerts(t.wh.get(), {a, a}).ok());
  EXPECT_EQ(AlertIdentities(t.wh.get()), std::multiset<std::string>{"ingest|replay|2026-03-01"});
}

// `wikistream dq` checks its deadline before it commits its audit rows.
TEST(BatchCycleTest, TheDqStageCommitsNothingAfterItsDeadline) {
  CycleOverWarehouse t;
  Warehouse* wh = t.wh.get();
  Land(wh, {Event("e1", "2026-03-01T10:00:00Z")}, "p1");
  ASSERT_TRUE(t.cycle.Run().ok);
  auto results = *wh->table("dq_audit.quality_results");
  ASSERT_TRUE(results->Refresh().ok());
  const int64_t before = results->current_snapshot()->snapshot_id;

  BatchOptions expired = FastOptions();
  expired.stage_timeout_s = 0;  // every attempt starts past its deadline
  expired.stage_attempts = 1;
  std::atomic<bool> stop{false};
  BatchCycle late(wh, &t.alerts, expired, &stop);
  CycleReport r = late.Run(StageName::kDq);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_EQ(r.attempts[0].stage, StageName::kDq);
  EXPECT_EQ(r.attempts[0].result.error.code(), Status::Code::kTimeout) << r.attempts[0].result.ErrorText();
  ASSERT_TRUE(results->Refresh().ok());
  EXPECT_EQ(results->current_snapshot()->snapshot_id, before) << "dq committed after its deadline";

  // Within its deadline it audits and records the gold checks (and only those).
  BatchCycle in_time(wh, &t.alerts, FastOptions(), &stop);
  CycleReport ok = in_time.Run(StageName::kDq);
  ASSERT_TRUE(ok.ok) << ok.Summary();
  ASSERT_TRUE(results->Refresh().ok());
  EXPECT_NE(results->current_snapshot()->snapshot_id, before);
}

}  // namespace
}  // namespace ws::batch

namespace ws::batch {
namespace {

// Terminates the PostgreSQL sessions holding advisory locks (as a server
// restart or a network cut would end them) and waits until they are gone.
void KillAdvisoryLockHolders(testing::PostgresServer& pg) {
  std::string out;
  EXPECT_EQ(pg.Psql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted", &out), 0)
      << out;
  for (int i = 0; i < 100; ++i) {
    out.clear();
    if (pg.Psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", &out) == 0 && out.rfind("0", 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A warehouse on a PostgreSQL catalog whose batch lock the test holds; the
// lock's session can be killed as a server restart or a network cut would.
class LostLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::PostgresServer::Available()) GTEST_SKIP() << "no PostgreSQL binaries (scripts/setup installs them)";
    std::string error;
    ASSERT_TRUE(pg_.Start(&error)) << error;
    catalog_.uri = pg_.Uri();
    auto wh = Warehouse::Open(DefaultFileSystem(), dir_.str(), true, catalog_);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
  }

  // Runs a cycle holding the lock; the lock's session is killed at the
  // `kill_at`-th check (1: before silver).
  CycleReport RunLosingTheLockAt(BatchOptions options, int kill_at) {
    BatchCycle cycle(wh_.get(), &alerts_, options, &stop_);
    auto lock = warehouse::BatchLock::Acquire(dir_.str(), /*wait=*/false, catalog_);
    EXPECT_TRUE(lock.ok()) << lock.status().ToString();
    if (!lock.ok()) return {};
    CycleReport r = cycle.Run(std::nullopt, [&]() -> Status {
      if (++checks_ == kill_at) KillAdvisoryLockHolders(pg_);
      return (*lock)->Check();
    });
    return r;
  }

  bool Alerted(const std::string& stage) {
    bool alerted = false;
    for (const auto& a : alerts_.Recent(10)) alerted |= a.kind == AlertKind::kPipeline && a.entity == stage;
    return alerted;
  }

  testing::PostgresServer pg_;
  TempDir dir_;
  table::CatalogOptions catalog_;
  std::unique_ptr<Warehouse> wh_;
  AlertSink alerts_{""};
  std::atomic<bool> stop_{false};
  int checks_ = 0;
};

// A cycle that lost its batch lock stops before its next stage instead of
// committing it: the PostgreSQL session holding the advisory lock is
// terminated after silver committed; gold must not run, and the lock is
// free for others.
TEST_F(LostLockTest, ACycleThatLostItsPostgresLockStopsBeforeTheNextStage) {
  Land(wh_.get(), {Event("l1", "2026-03-01T10:00:00Z"), Event("l2", "2026-03-01T10:05:00Z")}, "p1");
  // Checks: before silver, before its one commit, before gold (silver is done).
  CycleReport r = RunLosingTheLockAt(FastOptions(), 3);
  EXPECT_EQ(checks_, 3);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.stopped.find("before gold"), std::string::npos) << r.Summary();
  EXPECT_NE(r.stopped.find("lost"), std::string::npos) << r.Summary();
  EXPECT_NE(r.Summary().find("stopped before gold"), std::string::npos) << r.Summary();
  EXPECT_EQ(EventIds(wh_.get(), "silver.cleaned_events").size(), 2u) << "silver ran while the lock was held";
  for (const char* gold : {"gold.hourly_stats", "gold.daily_analytics_summary"}) {
    auto t = *wh_->table(gold);
    ASSERT_TRUE(t->Refresh().ok());
    EXPECT_FALSE(t->current_snapshot().has_value()) << gold << " was committed after the lock was lost";
  }
  for (const auto& a : r.attempts) EXPECT_NE(a.stage, StageName::kGold);
  EXPECT_TRUE(Alerted("gold"));
  // The server released it with the session: another batch can take it now.
  EXPECT_TRUE(warehouse::BatchLock::Acquire(dir_.str(), /*wait=*/false, catalog_).ok());
}

// Silver's chunks are committed one by one: a lock lost between two chunk
// commits stops the cycle before the next commit (no retry, no gold), and
// the chunk already committed stays.
TEST_F(LostLockTest, ACycleThatLostItsPostgresLockStopsBeforeTheNextSilverChunk) {
  Land(wh_.get(), {Event("c1", "2026-03-01T10:00:00Z")}, "p1");
  Land(wh_.get(), {Event("c2", "2026-03-01T10:05:00Z")}, "p2");
  Land(wh_.get(), {Event("c3", "2026-03-01T10:10:00Z")}, "p3");
  BatchOptions options = FastOptions();
  options.silver_chunk_rows = 1;  // one chunk per bronze commit
  // Checks: before silver, before chunk 1's commit, before chunk 2's.
  CycleReport r = RunLosingTheLockAt(options, 3);
  EXPECT_EQ(checks_, 3);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.stopped.find("before silver commit 2/3"), std::string::npos) << r.Summary();
  EXPECT_NE(r.stopped.find("lost"), std::string::npos) << r.Summary();
  EXPECT_EQ(EventIds(wh_.get(), "silver.cleaned_events"), std::multiset<std::string>{"c1"});
  ASSERT_EQ(r.attempts.size(), 1u) << "a silver that lost its lock was retried";
  EXPECT_EQ(r.attempts[0].stage, StageName::kSilver);
  EXPECT_EQ(r.attempts[0].status, StageStatus::kFailed);
  auto gold = *wh_->table("gold.hourly_stats");
  ASSERT_TRUE(gold->Refresh().ok());
  EXPECT_FALSE(gold->current_snapshot().has_value());
  EXPECT_TRUE(Alerted("silver"));
  EXPECT_EQ(SilverFilesOnDisk(dir_.str()).size(), 1u) << "the uncommitted chunk's files were left behind";
}

// Gold commits one table at a time: a lock lost before the first gold
// commit stops the cycle there, with no gold table committed and no retry.
TEST_F(LostLockTest, ACycleThatLostItsPostgresLockStopsBeforeTheNextGoldCommit) {
  Land(wh_.get(), {Event("g1", "2026-03-01T10:00:00Z")}, "p1");
  // Checks: before silver, before its commit, before gold, before gold's first commit.
  CycleReport r = RunLosingTheLockAt(FastOptions(), 4);
  EXPECT_EQ(checks_, 4);
  EXPECT_NE(r.stopped.find("before gold commit of gold.hourly_stats"), std::string::npos) << r.Summary();
  EXPECT_EQ(EventIds(wh_.get(), "silver.cleaned_events").size(), 1u);
  for (const auto* def : warehouse::GoldTables()) {
    auto t = *wh_->table(def->full_name());
    ASSERT_TRUE(t->Refresh().ok());
    EXPECT_FALSE(t->current_snapshot().has_value()) << def->full_name() << " was committed after the lock was lost";
  }
  size_t gold_attempts = 0;
  for (const auto& a : r.attempts) gold_attempts += a.stage == StageName::kGold;
  EXPECT_EQ(gold_attempts, 1u) << "a gold that lost its lock was retried";
  EXPECT_TRUE(Alerted("gold"));
}

}  // namespace
}  // namespace ws::batch
