// Probes: what /healthz and /readyz of bronze, produce and the batch loop
// answer, driven by a fake clock.
#include "wikistream/runtime/probes.h"

#include <gtest/gtest.h>

#include "runtime_fakes.h"

namespace ws::runtime {
namespace {

using testing::FakeClock;

TEST(ProbesTest, HealthFollowsTheLoopsBeatsAndReadinessItsReasons) {
  FakeClock clock(1700000000000000);
  Probes probes("the test loop", 10 * 1000000LL, &clock);
  EXPECT_TRUE(probes.Health().ok());  // the window runs from construction
  clock.Advance(11 * 1000000LL, 0);
  EXPECT_EQ(probes.Health().message(), "the test loop made no progress for 11 s");
  probes.Beat();
  EXPECT_TRUE(probes.Health().ok());

  EXPECT_EQ(probes.Ready().message(), "starting");
  probes.NotReady("opening the warehouse");
  EXPECT_EQ(probes.Ready().message(), "opening the warehouse");
  probes.SetReady();
  EXPECT_TRUE(probes.Ready().ok());
  bool assigned = false;
  probes.SetCheck([&] { return assigned ? Status::OK() : Status::Unavailable("no partitions"); });
  EXPECT_EQ(probes.Ready().message(), "no partitions");
  assigned = true;
  EXPECT_TRUE(probes.Ready().ok());
  probes.BeginShutdown();
  EXPECT_EQ(probes.Ready().message(), "shutting down");
  EXPECT_TRUE(probes.Health().ok()) << "a process that shuts down in order is still alive";

  serve::ServerCallbacks cb = probes.Callbacks();
  EXPECT_EQ(cb.ready().message(), "shutting down");
  EXPECT_TRUE(cb.health().ok());
}

// A batch cycle or maintenance runs within its own budget: a long one is not
// a stall while it stays within it, and each beat meanwhile is progress.
TEST(ProbesTest, AnActivityIsHealthyWithinItsBudgetThenTheLoopsWindowApplies) {
  FakeClock clock(1700000000000000);
  Probes probes("the batch loop", 60 * 1000000LL, &clock);
  probes.Begin("maintenance", 600 * 1000000LL);
  clock.Advance(500 * 1000000LL, 0);
  EXPECT_TRUE(probes.Health().ok()) << "a running maintenance within its bound is not a stall";
  probes.Beat();  // one step done
  clock.Advance(500 * 1000000LL, 0);
  EXPECT_TRUE(probes.Health().ok()) << "the bound runs from the last step";
  clock.Advance(101 * 1000000LL, 0);
  EXPECT_EQ(probes.Health().message(), "the batch loop made no progress for 601 s (maintenance, bound 600 s)");
  probes.End();
  EXPECT_TRUE(probes.Health().ok());
  clock.Advance(61 * 1000000LL, 0);
  EXPECT_EQ(probes.Health().message(), "the batch loop made no progress for 61 s");
}

}  // namespace
}  // namespace ws::runtime
