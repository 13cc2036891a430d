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

}  // namespace
}  // namespace ws::runtime
