#include "wikistream/ingest/ingest_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "testing/scripted_source.h"
#include "testing/test_util.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {
namespace {

using namespace std::chrono_literals;
using ws::testing::TempDir;

// `n` distinct edits.
std::vector<std::string> Edits(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(R"({"meta":{"id":"e-)" + std::to_string(i) +
                  R"(","domain":"en.wikipedia.org","dt":"2026-01-01T10:00:00Z"},"type":"edit","title":"T",)"
                  R"("user":"U","bot":false,"length":{"old":1,"new":5}})");
  }
  return out;
}

// Holds every bronze commit just before its catalog swap while closed: a
// store so slow that a batch is still landing when the next commit point comes.
struct SlowCatalog {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int swaps_reached = 0;

  table::CatalogOptions Options() {
    table::CatalogOptions options;
    options.commit_hook = [this](std::string_view step) -> Status {
      if (step != "before-swap") return Status::OK();
      std::unique_lock<std::mutex> lock(mu);
      ++swaps_reached;
      cv.notify_all();
      cv.wait_for(lock, 30s, [this] { return open; });  // bounded: a broken test must not hang
      return Status::OK();
    };
    return options;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu);
    open = false;
    swaps_reached = 0;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitForSwap(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 30s, [&] { return swaps_reached >= n; });
  }
};

struct LoopRun {
  static constexpr int kEvents = 1000;
  TempDir dir;
  SlowCatalog catalog;
  std::unique_ptr<warehouse::Warehouse> wh =
      std::move(warehouse::Warehouse::Open(DefaultFileSystem(), dir.str(), true, catalog.Options())).value();
  std::unique_ptr<BronzeWriter> writer = std::move(BronzeWriter::Open(wh.get(), "replay")).value();
  // The whole stream, handed out as fast as it is polled.
  const std::atomic<size_t> released{kEvents};
  ws::testing::ScriptedSource source{Edits(kEvents), /*ends=*/true, &released, /*batch=*/10, model::SourceKind::kReplay};
  std::unique_ptr<IngestLoop> loop;
  std::atomic<bool> stop{false};
  Status result;
  std::thread thread;

  explicit LoopRun(size_t max_buffered_bytes) {
    IngestLoopOptions o;
    o.commit_interval_s = 3600;
    o.commit_max_events = 50;
    o.poll_batch = 10;
    o.pipelined_commits = true;
    o.max_buffered_bytes = max_buffered_bytes;
    loop = std::make_unique<IngestLoop>(&source, writer.get(), o);
  }
  void Start() {
    thread = std::thread([this] { result = loop->Run(stop); });
  }
  int64_t Polled() const { return loop->stats().polled; }
  // The bronze snapshots and how often each event id is in the table.
  std::pair<size_t, std::multiset<std::string>> Landed() {
    auto raw = *wh->table("bronze.raw_events");
    EXPECT_TRUE(raw->Refresh().ok());
    auto rows = wh->ReadTable(*raw, warehouse::ProjectSchema(*warehouse::bronze::RawEventsSchema(), {"event_id"}));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::multiset<std::string> ids;
    for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) ids.emplace(rows->column(0).GetString(i));
    return {raw->snapshots().size(), ids};
  }
};

// While a batch is still landing, commit points leave the buffer filling
// instead of waiting: the whole stream is polled while the first batch is
// held, and it lands in one more, bigger commit once the store answers.
TEST(IngestLoopTest, ACommitPointKeepsBufferingWhileTheBatchBeforeLands) {
  LoopRun run(/*max_buffered_bytes=*/64u << 20);
  run.catalog.Close();
  run.Start();
  ASSERT_TRUE(run.catalog.WaitForSwap(1));
  for (int i = 0; i < 3000 && run.Polled() < LoopRun::kEvents; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(run.Polled(), LoopRun::kEvents);
  EXPECT_EQ(run.loop->stats().commits, 0);  // the first batch is still held
  run.catalog.Open();
  run.thread.join();
  ASSERT_TRUE(run.result.ok()) << run.result.ToString();
  auto [snapshots, ids] = run.Landed();
  EXPECT_EQ(snapshots, 2u);  // the first 50 events, then the other 950 at once
  EXPECT_EQ(ids.size(), static_cast<size_t>(LoopRun::kEvents));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(run.writer->resume_position(), std::to_string(LoopRun::kEvents));
}

// At the byte bound a commit point waits for the batch before: polling
// stops at the commit point while the store is held.
TEST(IngestLoopTest, ACommitPointWaitsOnceTheBufferReachesItsBound) {
  LoopRun run(/*max_buffered_bytes=*/1);
  run.catalog.Close();
  run.Start();
  ASSERT_TRUE(run.catalog.WaitForSwap(1));
  std::this_thread::sleep_for(300ms);
  // The first batch (50 events) is held; the second commit point (50 more) waits for it.
  EXPECT_LE(run.Polled(), 100);
  run.catalog.Open();
  run.thread.join();
  ASSERT_TRUE(run.result.ok()) << run.result.ToString();
  auto [snapshots, ids] = run.Landed();
  EXPECT_EQ(snapshots, static_cast<size_t>(LoopRun::kEvents / 50));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), static_cast<size_t>(LoopRun::kEvents));
  EXPECT_EQ(ids.size(), static_cast<size_t>(LoopRun::kEvents));
}

}  // namespace
}  // namespace ws::ingest
