// The Kafka offset fence of BronzeWriter (BronzeFence::kKafkaOffsets): two
// consumers of one group that both read a partition (it moved in a
// rebalance) land each record once, whichever commits first, also when the
// other consumer's commit lands inside our compare-and-swap retry. The last
// test runs two ingest loops against librdkafka's mock cluster.
#include "wikistream/ingest/kafka_fence.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "testing/kafka_mock_cluster.h"
#include "testing/test_util.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/source/kafka.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {
namespace {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using model::DomainFilter;
using source::SourceRecord;
using warehouse::ProjectSchema;
using warehouse::Warehouse;
using ws::testing::TempDir;

constexpr const char* kP0 = "raw-events/0";
constexpr const char* kP1 = "raw-events/1";

// The payload of offset `offset` of `partition`; every tenth one of
// partition 0 is malformed (a DLQ row).
std::string Payload(const std::string& partition, int64_t offset) {
  if (partition == kP0 && offset % 10 == 5) return "{not json " + std::to_string(offset);
  return R"({"meta":{"id":")" + partition + "#" + std::to_string(offset) +
         R"(","domain":"en.wikipedia.org","dt":"2026-01-01T10:00:00Z"},"type":"edit","title":"T","user":"U",)"
         R"("bot":false,"length":{"old":1,"new":5}})";
}

// One consumer: its writer (its own Warehouse object, as a process would
// have) and the next offset it reads of each partition.
struct Consumer {
  std::unique_ptr<Warehouse> wh;
  std::unique_ptr<BronzeWriter> writer;
  EventIngestor ingestor{DomainFilter(), "kafka"};
  std::map<std::string, int64_t> next;

  Consumer(const std::string& dir, const table::CatalogOptions& options = {}) {
    wh = std::move(Warehouse::Open(DefaultFileSystem(), dir, true, options)).value();
    writer = std::move(BronzeWriter::Open(wh.get(), "kafka", BronzeFence::kKafkaOffsets)).value();
  }
  // Polls [from, to) of `partition` (the way IngestLoop hands rows over).
  void Read(const std::string& partition, int64_t from, int64_t to) {
    RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
    std::vector<SourceRecord> records;
    for (int64_t o = from; o < to; ++o) {
      records.push_back(SourceRecord{Payload(partition, o), NowMicros(), partition + "@" + std::to_string(o)});
    }
    std::vector<std::string_view> positions;
    for (const SourceRecord& r : records) {
      if (ingestor.Ingest(r, &acc, &dlq) == IngestOutcome::kAccepted) positions.push_back(r.position);
    }
    ASSERT_TRUE(writer->AddRows(&acc, &dlq, nullptr, &positions).ok());
    next[partition] = to;
  }
  std::string Position() const {
    std::string json = "{";
    for (const auto& [p, n] : next) json += (json.size() > 1 ? "," : "") + ("\"" + p + "\":" + std::to_string(n));
    return json + "}";
  }
  void Commit() {
    auto r = writer->Commit(Position());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
};

// How often each event id / DLQ source position is in the tables.
std::map<std::string, int> Count(Warehouse* wh, const std::string& table, const std::string& column) {
  auto t = *wh->table(table);
  EXPECT_TRUE(t->Refresh().ok());
  auto schema = table == "bronze.raw_events" ? bronze::RawEventsSchema() : bronze::DlqEventsSchema();
  auto rows = wh->ReadTable(*t, ProjectSchema(*schema, {column}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::map<std::string, int> n;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) ++n[std::string(rows->column(0).GetString(i))];
  return n;
}

// Every offset of [0, end) of each partition exactly once, in the right table.
void ExpectExactlyOnce(Warehouse* wh, const std::map<std::string, int64_t>& end) {
  std::map<std::string, int> raw, dlq;
  for (const auto& [partition, n] : end) {
    for (int64_t o = 0; o < n; ++o) {
      if (Payload(partition, o)[0] == '{' && Payload(partition, o)[1] == 'n') {
        dlq[partition + "@" + std::to_string(o)] = 1;
      } else {
        raw[partition + "#" + std::to_string(o)] = 1;
      }
    }
  }
  EXPECT_EQ(Count(wh, "bronze.raw_events", "event_id"), raw);
  EXPECT_EQ(Count(wh, "bronze.dlq_events", "source_position"), dlq);
}

TEST(KafkaFenceTest, ParsesRecordPositions) {
  std::string_view partition;
  int64_t offset = 0;
  ASSERT_TRUE(source::ParseKafkaRecordPosition("raw-events/3@42", &partition, &offset));
  EXPECT_EQ(partition, "raw-events/3");
  EXPECT_EQ(offset, 42);
  for (const char* bad : {"", "raw-events/3", "raw-events@4", "raw-events/x@4", "t/1@", "t/1@4x", "/1@4", "7"}) {
    EXPECT_FALSE(source::ParseKafkaRecordPosition(bad, &partition, &offset)) << bad;
  }
}

// The partition's new owner commits [0, 80) first; the old owner's stale
// batch [0, 50) then adds nothing.
TEST(KafkaFenceTest, AStaleCommitOfTheFormerOwnerLandsNothingTwice) {
  TempDir dir;
  Consumer a(dir.str()), b(dir.str());
  a.Read(kP0, 0, 50);
  b.Read(kP0, 0, 80);
  b.Commit();
  a.Commit();
  ExpectExactlyOnce(a.wh.get(), {{kP0, 80}});
  EXPECT_EQ(a.writer->fenced_rows(), 45);
  EXPECT_EQ(a.writer->fenced_dlq_rows(), 5);
  EXPECT_EQ(b.writer->fenced_rows() + b.writer->fenced_dlq_rows(), 0);
}

// The reverse order: the new owner's batch drops what the old owner landed.
TEST(KafkaFenceTest, TheNewOwnerDropsWhatTheFormerOwnerLandedFirst) {
  TempDir dir;
  Consumer a(dir.str()), b(dir.str());
  a.Read(kP0, 0, 50);
  a.Read(kP1, 0, 20);
  b.Read(kP0, 0, 80);
  a.Commit();
  b.Commit();
  ExpectExactlyOnce(a.wh.get(), {{kP0, 80}, {kP1, 20}});
  EXPECT_EQ(b.writer->fenced_rows(), 45);
  EXPECT_EQ(b.writer->fenced_dlq_rows(), 5);
}

// Ownership of partition 0 goes back and forth in small batches; B owns
// partition 1 throughout, so its rows are never fenced. A commits through
// the pipelined path.
TEST(KafkaFenceTest, InterleavedSmallBatchesLandEachOffsetOnce) {
  TempDir dir;
  Consumer a(dir.str()), b(dir.str());
  auto a_commit = [&] {
    ASSERT_TRUE(a.writer->StartCommit(a.Position()).ok());
    auto r = a.writer->FinishCommit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  a.Read(kP0, 0, 10);
  a_commit();
  a.Read(kP0, 10, 20);
  a_commit();
  // B took partition 0 over when 10 was the committed position.
  b.Read(kP0, 10, 17);
  b.Read(kP1, 0, 9);
  b.Commit();  // all of partition 0 fenced
  a.Read(kP0, 20, 30);
  a_commit();
  b.Read(kP0, 17, 31);  // [17, 30) fenced, 30 lands
  b.Read(kP1, 9, 15);
  b.Commit();
  a.Read(kP0, 30, 40);  // 30 fenced
  a_commit();
  b.Read(kP0, 31, 45);  // [31, 40) fenced
  b.Commit();
  ExpectExactlyOnce(a.wh.get(), {{kP0, 45}, {kP1, 15}});
  EXPECT_EQ(a.writer->fenced_rows() + a.writer->fenced_dlq_rows(), 1);
  EXPECT_EQ(b.writer->fenced_rows() + b.writer->fenced_dlq_rows(), 7 + 13 + 9);
}

// The case the fence exists for: the other consumer's commit lands between
// our validation and our swap, so the compare-and-swap fails, and the retry
// validates against the new state and drops the rows now committed. With
// `dlq`, the race is in the DLQ table's commit (which comes first), else in
// bronze's.
void RaceInsideTheSwap(bool dlq) {
  TempDir dir;
  Consumer b(dir.str());
  bool armed = false;
  table::CatalogOptions options;
  options.commit_hook = [&](std::string_view step) -> Status {
    if (step == "before-swap" && armed) {
      armed = false;
      b.Commit();  // lands first
    }
    return Status::OK();
  };
  Consumer a(dir.str(), options);
  // Offsets 5, 15, ... are DLQ rows: skip them unless the race is there.
  const int64_t a_end = dlq ? 50 : 5;
  a.Read(kP0, 0, a_end);
  b.Read(kP0, 0, 80);
  armed = true;
  a.Commit();
  EXPECT_FALSE(armed);
  ExpectExactlyOnce(a.wh.get(), {{kP0, 80}});
  EXPECT_EQ(a.writer->fenced_rows(), dlq ? 45 : 5);
  EXPECT_EQ(a.writer->fenced_dlq_rows(), dlq ? 5 : 0);
}

TEST(KafkaFenceTest, ACommitThatLandsInsideOurBronzeSwapRetryIsFenced) { RaceInsideTheSwap(false); }
TEST(KafkaFenceTest, ACommitThatLandsInsideOurDlqSwapRetryIsFenced) { RaceInsideTheSwap(true); }

// The committed offsets are the maximum over every snapshot, not the latest
// one's: a consumer keeps the stale offsets of partitions it lost in the
// maps it stores.
TEST(KafkaFenceTest, CommittedOffsetsMergeEverySnapshot) {
  TempDir dir;
  Consumer a(dir.str()), b(dir.str());
  b.Read(kP0, 0, 30);
  b.Commit();
  a.Read(kP1, 0, 5);
  a.next[kP0] = 10;  // a stale entry for a partition A no longer owns
  a.Commit();
  auto raw = *a.wh->table("bronze.raw_events");
  ASSERT_TRUE(raw->Refresh().ok());
  CommittedOffsets committed(BronzeWriter::PositionKey("kafka"));
  auto current = raw->current_snapshot();
  committed.Update(*raw, &*current);
  EXPECT_EQ(committed.next_offset(kP0), 30);
  EXPECT_EQ(committed.next_offset(kP1), 5);
  EXPECT_EQ(committed.next_offset("raw-events/9"), 0);
}


// End to end through IngestLoop and KafkaSource: consumer B joins the group,
// takes a partition over from A, and its read of the committed positions
// "fails", so it starts that partition from its own (empty) map: at the
// beginning, re-reading everything A landed. B's writer was opened before A
// committed, so its event_id index does not know A's rows either: only the
// fence keeps them single. Records produced after the rebalance land once.
class KafkaFenceClusterTest : public ::testing::Test {
 protected:
  ws::testing::ScopedLogLevel quiet_{log::Level::kError};
};

TEST_F(KafkaFenceClusterTest, AConsumerStartingFromStalePositionsAfterARebalanceLandsNothingTwice) {
  using namespace std::chrono_literals;
  ws::testing::MockKafkaCluster cluster(2);
  ASSERT_FALSE(cluster.brokers().empty());
  constexpr int kFirst = 300, kLater = 100;
  auto produce = [&](int from, int to) {
    source::KafkaSinkOptions so;
    so.brokers = cluster.brokers();
    so.connect_timeout = 5s;
    so.extra_config = {{"log_level", "3"}};
    auto sink = source::KafkaEventSink::Open(so);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    for (int i = from; i < to; ++i) {
      // Keys spread the records over both partitions; every tenth is malformed.
      std::string payload = i % 10 == 9 ? "{not json " + std::to_string(i) : Payload("e", i);
      ASSERT_TRUE((*sink)->SendRaw({payload, NowMicros(), "up-" + std::to_string(i)}).ok());
    }
    ASSERT_TRUE((*sink)->Flush(5s).ok());
  };
  auto consumer = [&](bool stale) {
    source::KafkaSourceOptions o;
    o.brokers = cluster.brokers();
    o.group = "fence";
    o.connect_timeout = 5s;
    o.extra_config = {{"session.timeout.ms", "2500"}, {"heartbeat.interval.ms", "200"}, {"log_level", "3"}};
    if (stale) o.refresh_positions = []() -> Result<std::string> { return Status::Unavailable("catalog down"); };
    return std::move(source::KafkaSource::Open(o)).value();
  };
  IngestLoopOptions lo;
  lo.commit_interval_s = 0.2;
  TempDir dir;
  Consumer a(dir.str()), b(dir.str());
  produce(0, kFirst);

  auto src_a = consumer(false);
  IngestLoop loop_a(src_a.get(), a.writer.get(), lo);
  std::atomic<bool> stop_a{false}, stop_b{false};
  Status ran_a, ran_b;
  std::thread thread_a([&] { ran_a = loop_a.Run(stop_a); });
  auto landed = [](const IngestLoop& loop) {
    IngestLoopStats s = loop.stats();
    return s.committed_rows + s.committed_dlq_rows;
  };
  auto wait_for = [](const std::function<bool()>& done) {
    const int64_t deadline = MonotonicMicros() + 30 * kMicrosPerSecond;  // against a hang only
    while (!done() && MonotonicMicros() < deadline) std::this_thread::sleep_for(20ms);
    return done();
  };
  EXPECT_TRUE(wait_for([&] { return landed(loop_a) == kFirst; })) << landed(loop_a);

  // What A landed per partition: everything B will re-read of its partitions.
  auto raw = *a.wh->table("bronze.raw_events");
  ASSERT_TRUE(raw->Refresh().ok());
  CommittedOffsets committed(BronzeWriter::PositionKey("kafka"));
  auto current = raw->current_snapshot();
  ASSERT_TRUE(current.has_value());
  committed.Update(*raw, &*current);

  auto src_b = consumer(true);
  IngestLoop loop_b(src_b.get(), b.writer.get(), lo);
  std::thread thread_b([&] { ran_b = loop_b.Run(stop_b); });
  int64_t reread = -1;
  EXPECT_TRUE(wait_for([&] {
    std::vector<std::string> assigned = src_b->stats().assigned;
    if (assigned.empty()) return false;
    reread = 0;
    for (const std::string& p : assigned) reread += committed.next_offset(p);
    IngestLoopStats s = loop_b.stats();
    return reread > 0 && s.fenced_rows + s.fenced_dlq_rows == reread;
  })) << "B re-read " << loop_b.stats().polled << " of " << reread;

  produce(kFirst, kFirst + kLater);
  EXPECT_TRUE(wait_for([&] { return landed(loop_a) + landed(loop_b) == kFirst + kLater; }))
      << landed(loop_a) << " + " << landed(loop_b);
  stop_a = stop_b = true;
  thread_a.join();
  thread_b.join();
  EXPECT_TRUE(ran_a.ok()) << ran_a.ToString();
  EXPECT_TRUE(ran_b.ok()) << ran_b.ToString();

  std::map<std::string, int> raw_ids, dlq_payloads;
  for (int i = 0; i < kFirst + kLater; ++i) {
    if (i % 10 != 9) raw_ids["e#" + std::to_string(i)] = 1;
  }
  EXPECT_EQ(Count(a.wh.get(), "bronze.raw_events", "event_id"), raw_ids);
  std::map<std::string, int> dlq = Count(a.wh.get(), "bronze.dlq_events", "source_position");
  EXPECT_EQ(dlq.size(), static_cast<size_t>((kFirst + kLater) / 10));
  for (const auto& [position, n] : dlq) EXPECT_EQ(n, 1) << position;
}

}  // namespace
}  // namespace ws::ingest
