// The `batch --every` loop (RunBatchLoop) over a real warehouse in a
// temporary directory holding many small bronze commits: with a
// maintenance interval it compacts them and expires old snapshots after a
// cycle, without one it leaves them (docs/operations.md, "Maintenance").
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>

#include "runtime_fakes.h"
#include "testing/test_util.h"
#include "wikistream/runtime/batch_runner.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/runtime/sources.h"

namespace ws::runtime {
namespace {

using testing::ScriptedSource;
using ws::testing::TempDir;

struct BronzeShape {
  size_t data_files = 0;
  size_t snapshots = 0;
};

BronzeShape ShapeOf(warehouse::Warehouse* wh) {
  auto t = wh->table("bronze.raw_events");
  EXPECT_TRUE(t.ok());
  if (!t.ok()) return {};
  EXPECT_TRUE((*t)->Refresh().ok());
  auto files = (*t)->Scan();
  EXPECT_TRUE(files.ok());
  return {files.ok() ? files->size() : 0, (*t)->snapshots().size()};
}

double MaintenanceRuns(prometheus::Registry& registry, const std::string& outcome) {
  return testing::CounterValue(registry, "wikistream_maintenance_runs_total", outcome);
}

TEST(BatchLoopTest, MaintenanceAfterACycleCompactsSmallBronzeFilesAndExpiresSnapshots) {
  TempDir dir;
  Config config;
  config.warehouse = dir.str();
  config.threads = 1;
  config.snapshot_retention_s = 0;  // every snapshot is old enough...
  config.retain_snapshots = 2;      // ...but the newest two stay
  auto wh = OpenWarehouse(config, /*create=*/true);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();

  // 20 bronze commits of 10 events: 20 small files and 20 snapshots.
  std::atomic<size_t> released{SIZE_MAX};
  ingest::IngestLoopOptions loop;
  loop.domains = model::DomainFilter::All();
  loop.commit_interval_s = 3600;
  loop.commit_max_events = 10;
  auto session = OpenIngestSession(std::make_unique<ScriptedSource>(testing::SyntheticPayloads(200, 5), true, &released, 10),
                                   wh->get(), "eventstreams", loop);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::atomic<bool> no_stop{false};
  ASSERT_TRUE((*session)->loop->Run(no_stop).ok());
  const BronzeShape before = ShapeOf(wh->get());
  ASSERT_GE(before.data_files, 20u);
  ASSERT_GE(before.snapshots, 20u);

  prometheus::Registry registry;
  BatchMetrics metrics(&registry);
  std::atomic<bool> stop{false};
  BatchRunner runner(config, wh->get(), &stop);
  auto one_round = [](int64_t) { return true; };  // stop at the first wait

  // Maintenance off: one cycle, bronze untouched.
  RunBatchLoop(&runner, 1000000, /*maintain_every_us=*/0, stop, &metrics, nullptr, one_round);
  const BronzeShape untouched = ShapeOf(wh->get());
  EXPECT_EQ(untouched.data_files, before.data_files);
  EXPECT_EQ(untouched.snapshots, before.snapshots);
  EXPECT_EQ(MaintenanceRuns(registry, "ok"), 0);

  // Due at once: the cycle, then maintenance under the batch lock, each
  // within its bound on /healthz, every step a beat.
  testing::FakeClock clock(1700000000000000);
  Probes probes("the batch loop", 60 * 1000000LL, &clock);
  int steps = 0;
  auto wait_once = [&](int64_t) {
    // The loop's wait: maintenance is over, the waiting window applies.
    clock.Advance(61 * 1000000LL, 0);
    EXPECT_EQ(probes.Health().message(), "the batch loop made no progress for 61 s");
    return true;
  };
  RunBatchLoop(&runner, 1000000, /*maintain_every_us=*/1, stop, &metrics, &probes, wait_once);
  const BronzeShape after = ShapeOf(wh->get());
  EXPECT_LT(after.data_files, before.data_files / 4);
  EXPECT_LE(after.snapshots, 2u);
  EXPECT_EQ(MaintenanceRuns(registry, "ok"), 1);
  EXPECT_EQ(MaintenanceRuns(registry, "failed"), 0);
  // Maintenance reports progress after each compaction and each table.
  auto maintained = runner.Maintain(LockWait::kFail, [&] { ++steps; });
  ASSERT_TRUE(maintained.ok()) << maintained.status().ToString();
  EXPECT_GE(steps, static_cast<int>(warehouse::AllTableSpecs().size()));
  EXPECT_EQ(BatchWorkBoundUs(runner.options()), static_cast<int64_t>((2.0 * 3 * (300 + 30) + 60) * 1e6));
  EXPECT_TRUE(runner.Close().ok());
}

}  // namespace
}  // namespace ws::runtime
