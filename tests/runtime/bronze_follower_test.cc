// BronzeFollower: a reader on its own catalog connection (as `serve` on
// another host) sees each bronze commit of a writer exactly once, compaction
// adds nothing, the first poll's backfill and each poll's row budget bound
// what is read, and expired history is skipped, not fatal.
#include "wikistream/runtime/bronze_follower.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::runtime {
namespace {

using format::RecordBatch;
using ws::testing::TempDir;

std::string Event(const std::string& id, const std::string& dt) {
  return R"({"meta":{"id":")" + id + R"(","domain":"en.wikipedia.org","dt":")" + dt +
         R"("},"type":"edit","title":"T","user":"U","bot":false,"length":{"old":1,"new":5}})";
}

live::LiveOptions FollowEventTime() {
  live::LiveOptions o;
  o.follow_event_time = true;
  return o;
}

BronzeFollowerOptions Budget(int64_t max_rows_per_poll, int64_t backfill_ms) {
  BronzeFollowerOptions o;
  o.max_rows_per_poll = max_rows_per_poll;
  o.backfill_ms = backfill_ms;
  return o;
}

class BronzeFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = warehouse::Warehouse::Open(DefaultFileSystem(), dir_.str(), /*create=*/true);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    writer_wh_ = std::move(w).value();
    // The follower's own warehouse object: its own catalog, like a process on another host.
    auto r = warehouse::Warehouse::Open(DefaultFileSystem(), dir_.str(), /*create=*/false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reader_wh_ = std::move(r).value();
    auto writer = ingest::BronzeWriter::Open(writer_wh_.get(), "replay");
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
  }

  // One bronze commit of events `ids`, all in one hour (one data file).
  void Commit(const std::vector<std::string>& ids, const std::string& hour = "2026-01-01T10") {
    RecordBatch acc(warehouse::bronze::RawEventsSchema()), dlq(warehouse::bronze::DlqEventsSchema());
    for (const auto& id : ids) {
      source::SourceRecord rec{Event(id, hour + ":00:00Z"), NowMicros(), std::to_string(++position_)};
      ingestor_.Ingest(rec, &acc, &dlq);
    }
    ASSERT_TRUE(writer_->Add(&acc, &dlq).ok());
    auto c = writer_->Commit(std::to_string(position_));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }

  BronzeFollower Follower(BronzeFollowerOptions options = {}) {
    return BronzeFollower(reader_wh_.get(), [this](const RecordBatch& rows) {
      EXPECT_EQ(rows.schema()->fields().size(), BronzeFollower::LiveColumns().size());
      for (size_t i = 0; i < rows.num_rows(); ++i) seen_.insert(rows.column("event_timestamp").ValueToString(i));
      seen_rows_ += static_cast<int64_t>(rows.num_rows());
      live_.Observe(rows);
    }, options);
  }

  int64_t Poll(BronzeFollower& f) {
    auto n = f.Poll();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  std::unique_ptr<warehouse::Warehouse> writer_wh_, reader_wh_;
  std::unique_ptr<ingest::BronzeWriter> writer_;
  ingest::EventIngestor ingestor_{model::DomainFilter(), "replay"};
  int64_t position_ = 0;
  std::multiset<std::string> seen_;
  int64_t seen_rows_ = 0;
  live::LiveAggregator live_{FollowEventTime(), nullptr};
};

TEST_F(BronzeFollowerTest, HandsOverEachCommitOnceAndCompactionAddsNothing) {
  BronzeFollower f = Follower();
  EXPECT_EQ(Poll(f), 0);  // an empty table
  Commit({"a", "b", "c"});
  EXPECT_EQ(Poll(f), 3);
  EXPECT_EQ(Poll(f), 0);  // nothing new
  Commit({"d"});
  Commit({"e"}, "2026-01-01T11");
  EXPECT_EQ(Poll(f), 2);
  EXPECT_EQ(seen_rows_, 5);

  // Compaction rewrites the 10:00 partition's two files into one (a
  // `replace` snapshot): the follower reads nothing twice.
  auto raw = writer_wh_->table("bronze.raw_events");
  ASSERT_TRUE(raw.ok());
  auto compacted = (*raw)->Compact({"2026-01-01", "10"});
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  ASSERT_GT(compacted->attempts, 0);
  EXPECT_EQ(Poll(f), 0);
  Commit({"f"});
  EXPECT_EQ(Poll(f), 1);

  EXPECT_EQ(seen_rows_, 6);
  EXPECT_EQ(live_.observed_rows(), 6u);
  EXPECT_EQ(live_.DayTotals().total_events, 6);
  EXPECT_EQ(f.skipped_rows(), 0);
}

TEST_F(BronzeFollowerTest, FirstPollBackfillsOnlyTheWindow) {
  Commit({"a", "b"});
  BronzeFollower recent = Follower();  // default: the last hour of commits
  EXPECT_EQ(Poll(recent), 2);
  BronzeFollower none = Follower(Budget(200'000, -60'000));  // a window in the future: nothing
  EXPECT_EQ(Poll(none), 0);
  Commit({"c"});
  EXPECT_EQ(Poll(none), 1);
}

TEST_F(BronzeFollowerTest, APollReadsAtMostItsBudgetNewestFirst) {
  BronzeFollower f = Follower(Budget(2, 3'600'000));
  EXPECT_EQ(Poll(f), 0);
  Commit({"a"});
  Commit({"b", "c"}, "2026-01-01T11");
  EXPECT_EQ(Poll(f), 2);  // the newest file fits, the older one is skipped
  EXPECT_EQ(f.skipped_rows(), 1);
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_.count(*seen_.begin()), 2u);  // both rows of the 11:00 file
}

TEST_F(BronzeFollowerTest, ExpiredHistoryIsSkippedAndFollowingContinues) {
  BronzeFollower f = Follower();
  Commit({"a"});
  EXPECT_EQ(Poll(f), 1);
  Commit({"b"});
  Commit({"c"});
  auto raw = writer_wh_->table("bronze.raw_events");
  ASSERT_TRUE(raw.ok());
  table::ExpireOptions expire;
  expire.older_than_ms = NowMicros() / 1000 + 1000;
  expire.retain_last = 1;
  ASSERT_TRUE((*raw)->ExpireSnapshots(expire).ok());
  EXPECT_EQ(Poll(f), 0);  // b and c's history is gone: nothing to read it from
  Commit({"d"});
  EXPECT_EQ(Poll(f), 1);
  EXPECT_EQ(seen_rows_, 2);
}

}  // namespace
}  // namespace ws::runtime
