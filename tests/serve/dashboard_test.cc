// The dashboard in a real browser: the gtest serves web/ with a fixture
// store and a live aggregator it keeps feeding, and
// tests/interop/dashboard_check.mjs drives headless Chromium against it.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "serve/serve_fixture.h"
#include "testing/test_util.h"
#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/serve/http_server.h"

namespace ws::serve {

using alerts::AlertSink;

namespace {

using ws::testing::RunCommand;
using ws::testing::SourceDir;

TEST(Dashboard, EveryViewFillsIsAccessibleAndFollowsTheKeyboard) {
  if (!std::filesystem::exists("/usr/bin/chromium")) GTEST_SKIP() << "Debian chromium is not installed";
  if (!std::filesystem::exists(SourceDir() / "node_modules/playwright-core")) GTEST_SKIP() << "npm ci was not run";
  log::SetLevel(log::Level::kError);
  InMemoryAnalyticsStore store;
  serve::testing::FillFixtureStore(store);
  serve::testing::FillDrillDownFixture(store);
  AlertSink sink("");
  live::LiveAggregator live(live::LiveOptions{}, &sink);
  prometheus::Registry registry;
  ServerOptions o;
  o.port = 0;
  o.web_root = (SourceDir() / "web").string();
  o.sse_interval_ms = 200;
  HttpServer server(o, &store, &live, &sink, &registry, {});
  ASSERT_TRUE(server.Start().ok());

  // Events keep arriving while the browser watches, as in `wikistream run`.
  std::atomic<bool> stop{false};
  std::thread feeder([&] {
    live.Observe(serve::testing::BronzeRows(2, NowMicros(), "de.wikipedia.org", "Bot1", true));
    int i = 0;
    while (!stop) {
      // Markup in a title must show as text, never run (busy enough to trend).
      live.Observe(serve::testing::BronzeRows(9, NowMicros(), "fr.wikipedia.org", "Mallet", false,
                                              "<img src=x onerror=console.error('xss')>"));
      live.Observe(serve::testing::BronzeRows(5, NowMicros(), i % 2 ? "en.wikipedia.org" : "ja.wikipedia.org",
                                              "Editor" + std::to_string(i % 4)));
      // A burst from one user in one hour: a HIGH risk alert during the test.
      if (i == 10) live.Observe(serve::testing::BronzeRows(60, NowMicros(), "en.wikipedia.org", "Vandal"));
      ++i;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  std::string output;
  const std::string cmd = "timeout 300 node " + (SourceDir() / "tests/interop/dashboard_check.mjs").string() + " " +
                          server.url() + "/";
  const int rc = RunCommand(cmd, &output);
  stop = true;
  feeder.join();
  server.Stop();
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("dashboard ok"), std::string::npos) << output;
}

}  // namespace
}  // namespace ws::serve
