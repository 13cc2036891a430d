// PipelineService driven by a fake clock and a scripted source over a real
// warehouse in a temporary directory: the supervisor's restarts and backoff,
// the --once bound, stall alerts, the batch schedule, the --once flow and
// an orderly stop (docs/operations.md, "The pipeline service").
#include "wikistream/runtime/pipeline_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <prometheus/registry.h>

#include "runtime_fakes.h"
#include "testing/test_util.h"
#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/file_system.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/source/synthetic_source.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {
namespace {

using batch::CycleReport;
using testing::FakeClock;
using testing::ScriptedSource;
using testing::SyntheticPayloads;
using ws::testing::TempDir;

constexpr int64_t kSecond = 1000000;

// Polls `pred` in real time for up to 20 s.
template <class Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 20000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

class PipelineServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    payloads_ = SyntheticPayloads(200);
    ASSERT_EQ(payloads_.size(), 200u);
    auto wh = warehouse::Warehouse::Open(&fs_, dir_.str(), /*create=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    warehouse_ = std::move(wh).value();
  }

  PipelineServiceOptions Options(bool ends) {
    PipelineServiceOptions o;
    o.source_label = "eventstreams";
    o.position_name = "eventstreams";
    o.loop.domains = model::DomainFilter::All();
    o.loop.commit_interval_s = 3600;  // commits by size or at the end only
    o.loop.commit_max_events = 50;
    o.once = ends;
    return o;
  }

  PipelineServiceDeps Deps(bool ends) {
    PipelineServiceDeps d;
    d.clock = &clock_;
    d.warehouse = warehouse_.get();
    d.open_source = [this, ends]() -> Result<std::unique_ptr<source::Source>> {
      ++sources_opened_;
      return std::unique_ptr<source::Source>(std::make_unique<ScriptedSource>(payloads_, ends, &released_, 10));
    };
    d.run_cycle = [this]() -> Result<CycleReport> {
      if (running_.fetch_add(1) != 0) overlapped_ = true;
      cycle_times_.push_back(clock_.MonotonicMicros());
      std::this_thread::sleep_for(std::chrono::milliseconds(cycle_sleep_ms_));
      CycleReport r;
      r.ok = cycle_ok_;
      running_.fetch_sub(1);
      return r;
    };
    d.alerts = &alerts_;
    return d;
  }

  // The event ids bronze holds, each as often as it is there.
  std::multiset<std::string> BronzeIds() {
    auto t = warehouse_->table("bronze.raw_events");
    EXPECT_TRUE(t.ok());
    EXPECT_TRUE((*t)->Refresh().ok());
    auto rows = warehouse_->ReadTable(**t, warehouse::ProjectSchema(*(*t)->schema(), {"event_id"}));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::multiset<std::string> ids;
    for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) ids.insert(rows->column(0).ValueToString(i));
    return ids;
  }

  std::string CommittedPosition() {
    auto w = ingest::BronzeWriter::Open(warehouse_.get(), "eventstreams");
    EXPECT_TRUE(w.ok());
    return w.ok() ? (*w)->resume_position() : "";
  }

  // Every mutating file operation fails from now on, as on a full disk
  // (FailAt counts operations from the call).
  void FillDisk() { fs_.FailAt(1, FaultKind::kCrash); }
  void FreeDisk() { fs_.Disarm(); }

  std::vector<model::Alert> AlertsOf(model::AlertKind kind) {
    std::vector<model::Alert> out;
    for (auto& a : alerts_.Recent(100)) {
      if (a.kind == kind) out.push_back(a);
    }
    return out;
  }

  TempDir dir_;
  FaultInjectionFileSystem fs_{DefaultFileSystem()};
  std::unique_ptr<warehouse::Warehouse> warehouse_;
  std::vector<std::string> payloads_;
  // 2024-08-22T23:50:00Z: ten minutes before a new UTC date.
  FakeClock clock_{*ParseIso8601Micros("2024-08-22T23:50:00Z")};
  alerts::AlertSink alerts_{""};
  std::atomic<size_t> released_{SIZE_MAX};  // how far the scripted source may go
  std::atomic<int> sources_opened_{0};
  std::atomic<int> running_{0};
  std::atomic<bool> overlapped_{false};
  std::vector<int64_t> cycle_times_;
  int cycle_sleep_ms_ = 0;
  bool cycle_ok_ = true;
};

TEST_F(PipelineServiceTest, RestartsAFailedLoopFromTheCommittedPositionWithBackoff) {
  auto options = Options(/*ends=*/false);
  options.batch_interval_us = 3600 * kSecond;  // no cycle in this test
  released_ = 100;
  PipelineService service(options, Deps(false));
  // The first commits land, then the disk fills.
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return service.ingest_stats().committed_rows == 100; }));
  FillDisk();
  released_ = SIZE_MAX;
  // Five failed commits in a row end the loop; the supervisor waits 2 s...
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(2 * kSecond); }));
  EXPECT_FALSE(service.ingest_healthy());
  auto ingest_alerts = AlertsOf(model::AlertKind::kIngest);
  ASSERT_EQ(ingest_alerts.size(), 1u);
  EXPECT_EQ(ingest_alerts[0].severity, model::AlertSeverity::kCritical);
  EXPECT_EQ(ingest_alerts[0].entity, "eventstreams");
  EXPECT_EQ(ingest_alerts[0].alert_date, "2024-08-22");
  // ... then 4 s, 8 s for each further failure in a row (the disk is still full).
  clock_.Advance(2 * kSecond, 1);
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(4 * kSecond); }));
  clock_.Advance(4 * kSecond, 1);
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(8 * kSecond); }));
  EXPECT_EQ(sources_opened_.load(), 3);
  // One alert per source and day, however often it restarts.
  EXPECT_EQ(AlertsOf(model::AlertKind::kIngest).size(), 1u);
  // Space is back: the next session resumes at the committed position and
  // lands every event exactly once.
  FreeDisk();
  clock_.Advance(8 * kSecond, 1);
  // (A session's stats are its own: it reads the 100 events not yet committed.)
  ASSERT_TRUE(Eventually([&] { return service.ingest_healthy() && service.ingest_stats().polled == 100; }));
  service.Stop();
  PipelineService::Outcome out = run.get();
  EXPECT_EQ(out.exit_code, 0) << out.error;
  EXPECT_TRUE(out.stopped);
  const auto ids = BronzeIds();
  EXPECT_EQ(ids.size(), payloads_.size());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), payloads_.size());
  EXPECT_EQ(CommittedPosition(), std::to_string(payloads_.size()));
  EXPECT_TRUE(cycle_times_.empty());
}

TEST_F(PipelineServiceTest, OnceGivesUpAfterBoundedFailuresAndTheRerunLosesNothing) {
  auto options = Options(/*ends=*/true);
  options.max_failures_in_a_row = 3;
  FillDisk();
  {
    PipelineService service(options, Deps(true));
    ASSERT_TRUE(service.Start().ok());
    std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
    ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(2 * kSecond); }));
    clock_.Advance(2 * kSecond, 1);
    ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(4 * kSecond); }));
    clock_.Advance(4 * kSecond, 0);
    PipelineService::Outcome out = run.get();
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_NE(out.error.find("failed 3 times in a row, giving up"), std::string::npos) << out.error;
    EXPECT_EQ(out.error.find('\n'), std::string::npos);
    EXPECT_FALSE(out.once_cycle.has_value());  // no cycle over a partial ingest
    EXPECT_TRUE(cycle_times_.empty());
  }
  EXPECT_TRUE(BronzeIds().empty());
  FreeDisk();
  PipelineService rerun(options, Deps(true));
  ASSERT_TRUE(rerun.Start().ok());
  PipelineService::Outcome out = rerun.Run();
  EXPECT_EQ(out.exit_code, 0) << out.error;
  EXPECT_EQ(BronzeIds().size(), payloads_.size());
  EXPECT_EQ(cycle_times_.size(), 1u);
}

TEST_F(PipelineServiceTest, AQuietLiveSourceRaisesOneStallAlertPerDay) {
  payloads_.clear();  // nothing ever arrives
  auto options = Options(/*ends=*/false);
  options.live_source = true;
  options.source_label = "eventstreams";
  options.batch_interval_us = 24 * 3600 * kSecond;
  PipelineService service(options, Deps(false));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(kSecond); }));
  clock_.AdvanceBy(300 * kSecond, kSecond);  // 23:55:00: not yet
  EXPECT_TRUE(AlertsOf(model::AlertKind::kIngest).empty());
  clock_.AdvanceBy(2 * kSecond, kSecond);  // 23:55:02: stalled for more than 5 minutes
  auto alerts = AlertsOf(model::AlertKind::kIngest);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].severity, model::AlertSeverity::kWarning);
  EXPECT_EQ(alerts[0].entity, "eventstreams");
  EXPECT_EQ(alerts[0].alert_date, "2024-08-22");
  clock_.AdvanceBy(4 * 60 * kSecond, kSecond);  // 23:59:02: still the same day
  EXPECT_EQ(AlertsOf(model::AlertKind::kIngest).size(), 1u);
  clock_.AdvanceBy(2 * 60 * kSecond, kSecond);  // 00:01:02 of a new day: one more
  alerts = AlertsOf(model::AlertKind::kIngest);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].alert_date, "2024-08-23");  // newest first
  clock_.AdvanceBy(3600 * kSecond, 10 * kSecond);
  EXPECT_EQ(AlertsOf(model::AlertKind::kIngest).size(), 2u);
  service.Stop();
  EXPECT_EQ(run.get().exit_code, 0);
}

TEST_F(PipelineServiceTest, AFiniteSourceIsNotLiveAndNeverStalls) {
  auto options = Options(/*ends=*/false);
  options.live_source = false;
  options.batch_interval_us = 24 * 3600 * kSecond;
  PipelineService service(options, Deps(false));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(kSecond); }));
  clock_.AdvanceBy(3600 * kSecond, 10 * kSecond);
  EXPECT_TRUE(AlertsOf(model::AlertKind::kIngest).empty());
  service.Stop();
  EXPECT_EQ(run.get().exit_code, 0);
}

TEST_F(PipelineServiceTest, CyclesRunOnScheduleAndNeverTwoAtOnce) {
  auto options = Options(/*ends=*/false);
  options.batch_interval_us = 30 * kSecond;
  cycle_sleep_ms_ = 20;
  PipelineService service(options, Deps(false));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(kSecond); }));
  clock_.AdvanceBy(29 * kSecond, kSecond);
  EXPECT_TRUE(cycle_times_.empty());
  clock_.AdvanceBy(kSecond, kSecond);
  ASSERT_EQ(cycle_times_.size(), 1u);
  EXPECT_EQ(cycle_times_[0], 30 * kSecond);
  // Admin-triggered cycles while the scheduler's cycles run: they queue.
  std::vector<std::thread> admins;
  for (int i = 0; i < 3; ++i) {
    admins.emplace_back([&] { EXPECT_TRUE(service.RunCycleNow().ok()); });
  }
  clock_.AdvanceBy(60 * kSecond, kSecond);
  for (auto& t : admins) t.join();
  service.Stop();
  EXPECT_EQ(run.get().exit_code, 0);
  EXPECT_FALSE(overlapped_.load());
  ASSERT_EQ(cycle_times_.size(), 6u);  // 30 s, 60 s, 90 s and the three admin cycles
  std::vector<int64_t> scheduled;
  for (int64_t t : cycle_times_) {
    if (t % (30 * kSecond) == 0 && t > 0) scheduled.push_back(t);
  }
  EXPECT_GE(scheduled.size(), 3u);
}

double MaintenanceRuns(prometheus::Registry& registry, const std::string& outcome) {
  return testing::CounterValue(registry, "wikistream_maintenance_runs_total", outcome);
}

TEST_F(PipelineServiceTest, MaintenanceRunsAfterACycleOnceItsIntervalPassedAndAFailureIsRetried) {
  auto options = Options(/*ends=*/false);
  options.batch_interval_us = 30 * kSecond;
  options.maintain_interval_us = 60 * kSecond;
  prometheus::Registry registry;
  IngestMetrics metrics(&registry);
  auto deps = Deps(false);
  deps.metrics = &metrics;
  std::vector<int64_t> maintained;
  deps.run_maintenance = [&]() -> Result<std::string> {
    if (running_.fetch_add(1) != 0) overlapped_ = true;
    maintained.push_back(clock_.MonotonicMicros());
    running_.fetch_sub(1);
    if (maintained.size() == 1) return Status::IOError("s3 is down");
    return std::string("maintain: 1 partitions compacted");
  };
  PipelineService service(options, std::move(deps));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(kSecond); }));
  // Cycles at 30, 60, 90, 120 s (each from the end of the previous one);
  // maintenance after the 60 s one fails and is due again 60 s later.
  clock_.AdvanceBy(59 * kSecond, kSecond);
  EXPECT_TRUE(maintained.empty());
  clock_.AdvanceBy(kSecond, kSecond);
  ASSERT_EQ(maintained.size(), 1u);
  EXPECT_EQ(maintained[0], 60 * kSecond);
  EXPECT_EQ(MaintenanceRuns(registry, "failed"), 1);
  clock_.AdvanceBy(65 * kSecond, kSecond);
  service.Stop();
  EXPECT_EQ(run.get().exit_code, 0);  // the failure did not stop the service
  ASSERT_EQ(maintained.size(), 2u);
  EXPECT_EQ(maintained[1], 120 * kSecond);
  EXPECT_EQ(MaintenanceRuns(registry, "ok"), 1);
  EXPECT_EQ(cycle_times_.size(), 4u);
  EXPECT_FALSE(overlapped_.load());
}

TEST_F(PipelineServiceTest, NoMaintenanceWhenItsIntervalIsZero) {
  auto options = Options(/*ends=*/false);
  options.batch_interval_us = 30 * kSecond;
  options.maintain_interval_us = 0;
  auto deps = Deps(false);
  int maintained = 0;
  deps.run_maintenance = [&]() -> Result<std::string> {
    ++maintained;
    return std::string("maintain");
  };
  PipelineService service(options, std::move(deps));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.HasWaiterFor(kSecond); }));
  clock_.AdvanceBy(3 * 3600 * kSecond, 30 * kSecond);
  service.Stop();
  EXPECT_EQ(run.get().exit_code, 0);
  EXPECT_GE(cycle_times_.size(), 100u);
  EXPECT_EQ(maintained, 0);
}

TEST_F(PipelineServiceTest, OnceRunsExactlyOneCycleAfterTheLastCommitAndReports) {
  size_t bronze_rows_at_cycle = 0;
  auto deps = Deps(true);
  auto inner = deps.run_cycle;
  deps.run_cycle = [&, inner]() {
    bronze_rows_at_cycle = BronzeIds().size();
    return inner();
  };
  PipelineService service(Options(/*ends=*/true), deps);
  ASSERT_TRUE(service.Start().ok());
  PipelineService::Outcome out = service.Run();
  EXPECT_EQ(out.exit_code, 0) << out.error;
  EXPECT_FALSE(out.stopped);
  EXPECT_EQ(cycle_times_.size(), 1u);
  EXPECT_EQ(bronze_rows_at_cycle, payloads_.size());
  ASSERT_TRUE(out.once_cycle.has_value());
  EXPECT_EQ(out.once_report.rfind("200 events polled, 200 accepted, 0 duplicates, 0 dlq, 0 filtered, 0 canary", 0), 0u)
      << out.once_report;
  EXPECT_NE(out.once_report.find("batch total"), std::string::npos);
}

TEST_F(PipelineServiceTest, OnceExitsOneWhenItsCycleFails) {
  cycle_ok_ = false;
  PipelineService service(Options(/*ends=*/true), Deps(true));
  ASSERT_TRUE(service.Start().ok());
  PipelineService::Outcome out = service.Run();
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(cycle_times_.size(), 1u);
  EXPECT_FALSE(out.once_report.empty());
}

TEST_F(PipelineServiceTest, StopCommitsWhatIsBufferedWithThePosition) {
  auto options = Options(/*ends=*/false);
  options.loop.commit_max_events = 1000000;  // nothing commits before the stop
  PipelineService service(options, Deps(false));
  ASSERT_TRUE(service.Start().ok());
  std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
  ASSERT_TRUE(Eventually([&] { return service.ingest_stats().polled == 200; }));
  EXPECT_TRUE(BronzeIds().empty());
  service.Stop();
  PipelineService::Outcome out = run.get();
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(BronzeIds().size(), payloads_.size());
  EXPECT_EQ(CommittedPosition(), "200");
}

// A stop whose final commit cannot land (a full disk) has lost nothing: the
// position did not advance, so the next run reads those events again.
TEST_F(PipelineServiceTest, StopOnAFullDiskExitsZeroAndTheNextRunLandsEverything) {
  auto options = Options(/*ends=*/false);
  options.loop.commit_max_events = 1000000;
  {
    PipelineService service(options, Deps(false));
    ASSERT_TRUE(service.Start().ok());
    std::future<PipelineService::Outcome> run = std::async(std::launch::async, [&] { return service.Run(); });
    ASSERT_TRUE(Eventually([&] { return service.ingest_stats().polled == 200; }));
    FillDisk();
    service.Stop();
    PipelineService::Outcome out = run.get();
    EXPECT_EQ(out.exit_code, 0) << out.error;
    EXPECT_TRUE(out.stopped);
    EXPECT_NE(out.ingest.last_error, "");
  }
  EXPECT_TRUE(BronzeIds().empty());
  EXPECT_EQ(CommittedPosition(), "");
  FreeDisk();
  PipelineService rerun(Options(/*ends=*/true), Deps(true));
  ASSERT_TRUE(rerun.Start().ok());
  EXPECT_EQ(rerun.Run().exit_code, 0);
  EXPECT_EQ(BronzeIds().size(), payloads_.size());
}

}  // namespace
}  // namespace ws::runtime
