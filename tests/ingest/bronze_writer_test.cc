#include "wikistream/ingest/bronze_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::ingest {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using model::DomainFilter;
using source::SourceRecord;
using warehouse::ProjectSchema;
using warehouse::Warehouse;

namespace {

using ws::testing::TempDir;

std::string Event(const std::string& id, const std::string& dt, const std::string& domain = "en.wikipedia.org") {
  return R"({"meta":{"id":")" + id + R"(","domain":")" + domain + R"(","dt":")" + dt +
         R"("},"type":"edit","title":"T","user":"U","bot":false,"length":{"old":1,"new":5}})";
}

// Feeds payloads through the real ingest rules into the writer.
void Feed(BronzeWriter* w, EventIngestor* ing, const std::vector<std::string>& payloads, int64_t first_pos) {
  RecordBatch acc(bronze::RawEventsSchema()), dlq(bronze::DlqEventsSchema());
  int64_t pos = first_pos;
  for (const auto& p : payloads) {
    SourceRecord r{p, NowMicros(), std::to_string(pos++)};
    ing->Ingest(r, &acc, &dlq);
  }
  auto kept = w->Add(&acc, &dlq);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
}

std::vector<std::string> EventIds(Warehouse* wh) {
  auto t = *wh->table("bronze.raw_events");
  EXPECT_TRUE(t->Refresh().ok());
  auto rows = wh->ReadTable(*t, ProjectSchema(*bronze::RawEventsSchema(), {"event_id"}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> ids;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) ids.emplace_back(rows->column(0).GetString(i));
  return ids;
}

// A writer of source "replay" over a warehouse on a fault-injecting file system.
struct WriterOnFaultyDisk {
  TempDir dir;
  FaultInjectionFileSystem fs{DefaultFileSystem()};
  std::unique_ptr<Warehouse> wh = std::move(Warehouse::Open(&fs, dir.str(), true)).value();
  EventIngestor ing{DomainFilter(), "replay"};
  std::unique_ptr<BronzeWriter> writer = std::move(BronzeWriter::Open(wh.get(), "replay")).value();
};

TEST(BronzeWriterTest, CommitsRowsWithPositionAndDropsDuplicates) {
  TempDir dir;
  auto wh = Warehouse::Open(DefaultFileSystem(), dir.str(), true);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  EventIngestor ing(DomainFilter(), "replay");
  {
    auto w = BronzeWriter::Open(wh->get(), "replay");
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->resume_position(), "");
    Feed(w->get(), &ing,
         {Event("a", "2026-01-01T10:00:00Z"), Event("b", "2026-01-01T11:00:00Z"), Event("a", "2026-01-01T10:00:00Z"),
          "{not json"},
         0);
    EXPECT_EQ((*w)->duplicates(), 1);
    auto c = (*w)->Commit("pos-4");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->rows, 2);
    EXPECT_EQ(c->dlq_rows, 1);
  }
  // A restarted writer resumes at the stored position and still knows the ids.
  auto w = BronzeWriter::Open(wh->get(), "replay");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->resume_position(), "pos-4");
  Feed(w->get(), &ing, {Event("b", "2026-01-01T11:00:00Z"), Event("c", "2026-01-01T11:30:00Z")}, 4);
  EXPECT_EQ((*w)->duplicates(), 1);
  ASSERT_TRUE((*w)->Commit("pos-6").ok());
  auto ids = EventIds(wh->get());
  std::multiset<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, (std::multiset<std::string>{"a", "b", "c"}));
  auto raw = *(*wh)->table("bronze.raw_events");
  EXPECT_EQ(raw->SummaryValue("wikistream.source.replay").value_or(""), "pos-6");
}

TEST(BronzeWriterTest, SecondWriterOfTheSameSourceIsFenced) {
  TempDir dir;
  auto wh = Warehouse::Open(DefaultFileSystem(), dir.str(), true);
  ASSERT_TRUE(wh.ok());
  EventIngestor ing(DomainFilter(), "replay");
  auto w1 = BronzeWriter::Open(wh->get(), "replay");
  auto w2 = BronzeWriter::Open(wh->get(), "replay");
  ASSERT_TRUE(w1.ok() && w2.ok());
  Feed(w1->get(), &ing, {Event("a", "2026-01-01T10:00:00Z")}, 0);
  Feed(w2->get(), &ing, {Event("a", "2026-01-01T10:00:00Z")}, 0);
  ASSERT_TRUE((*w1)->Commit("1").ok());
  auto second = (*w2)->Commit("1");
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(EventIds(wh->get()).size(), 1u);
}

// Fail each mutating file operation of a commit in turn (one writer, one
// warehouse, a new batch per step): every commit lands whole or not at all,
// and the retry lands each row exactly once.
TEST(BronzeWriterTest, FaultAtEveryStepOfACommitLosesAndDoublesNothing) {
  WriterOnFaultyDisk t;
  FaultInjectionFileSystem& fs = t.fs;
  EventIngestor& ing = t.ing;
  Warehouse* wh = t.wh.get();
  BronzeWriter* w = t.writer.get();

  // How many mutating operations one commit (DLQ + bronze) performs.
  fs.FailAt(INT64_MAX, FaultKind::kIOError);
  Feed(w, &ing, {Event("warmup", "2026-01-01T09:00:00Z"), "[0]"}, 0);
  ASSERT_TRUE(w->Commit("p0").ok());
  const int64_t ops_per_commit = fs.operations();
  ASSERT_GT(ops_per_commit, 10);

  std::multiset<std::string> expected{"warmup"};
  for (int64_t nth = 1; nth <= ops_per_commit; ++nth) {
    std::string a = "a" + std::to_string(nth), b = "b" + std::to_string(nth);
    Feed(w, &ing, {Event(a, "2026-01-01T10:00:00Z"), Event(b, "2026-01-01T12:00:00Z"), "[1]"}, nth * 10);
    fs.FailAt(nth, nth % 2 ? FaultKind::kIOError : FaultKind::kNoSpace);
    auto first = w->Commit("p" + std::to_string(nth));
    fs.Disarm();
    if (!first.ok()) {
      auto retry = w->Commit("p" + std::to_string(nth));
      ASSERT_TRUE(retry.ok()) << "fault " << nth << ": " << retry.status().ToString();
    }
    expected.insert(a);
    expected.insert(b);
    auto ids = EventIds(wh);
    ASSERT_EQ(std::multiset<std::string>(ids.begin(), ids.end()), expected) << "fault at operation " << nth;
  }
  // A fresh writer (a restarted process) resumes at the last position.
  auto again = BronzeWriter::Open(wh, "replay");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->resume_position(), "p" + std::to_string(ops_per_commit));
}

// Pipelined commits (StartCommit): one batch lands (files and table
// commits) in the background while the next batch fills; batches land in
// order with their positions, the writer's own position moves only when the
// caller finishes the batch, and a failed write puts its rows back so that
// the next commit lands them exactly once, with the newer position.
TEST(BronzeWriterTest, PipelinedCommitsLandInOrderAndAFailedWriteIsRetriedWhole) {
  WriterOnFaultyDisk t;
  FaultInjectionFileSystem& fs = t.fs;
  EventIngestor& ing = t.ing;
  Warehouse* wh = t.wh.get();
  BronzeWriter* w = t.writer.get();
  auto raw = *wh->table("bronze.raw_events");
  auto position = [&] {
    EXPECT_TRUE(raw->Refresh().ok());
    return raw->SummaryValue("wikistream.source.replay").value_or("");
  };
  auto ids = [&] {
    auto v = EventIds(wh);
    return std::multiset<std::string>(v.begin(), v.end());
  };

  Feed(w, &ing, {Event("a1", "2026-01-01T10:00:00Z"), Event("a2", "2026-01-01T11:00:00Z"), "[1]"}, 0);
  auto started = w->StartCommit("p1");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->rows, 0);  // nothing was in flight before
  EXPECT_TRUE(w->commit_in_flight());
  EXPECT_EQ(w->buffered_rows(), 0u);
  EXPECT_EQ(w->uncommitted_rows(), 3u);
  // The next batch fills meanwhile; a1 is already known though not yet in the table.
  Feed(w, &ing, {Event("b1", "2026-01-01T11:00:00Z"), Event("a1", "2026-01-01T10:00:00Z")}, 3);
  EXPECT_EQ(w->duplicates(), 1);
  for (int i = 0; i < 1000 && !w->commit_landed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(w->commit_landed());
  EXPECT_EQ(position(), "p1");                   // in the table
  EXPECT_EQ(w->resume_position(), "");           // but the writer's until it is finished
  EXPECT_EQ(w->buffered_rows(), 1u);
  EXPECT_GT(w->uncommitted_rows(), 1u);  // the batch counts until it is finished
  auto landed = w->FinishCommit();
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  EXPECT_EQ(landed->rows, 2);
  EXPECT_EQ(landed->dlq_rows, 1);
  EXPECT_EQ(ids(), (std::multiset<std::string>{"a1", "a2"}));
  EXPECT_EQ(w->resume_position(), "p1");
  EXPECT_EQ(w->uncommitted_rows(), 1u);

  // The bronze data file of the next batch cannot be written.
  fs.FailAt(1, FaultKind::kNoSpace, "/bronze/raw_events/data/");
  ASSERT_TRUE(w->StartCommit("p2").ok());
  auto failed = w->FinishCommit();
  fs.Disarm();
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(w->commit_in_flight());
  EXPECT_EQ(w->buffered_rows(), 1u);  // b1 is back in the buffer
  EXPECT_EQ(position(), "p1");

  Feed(w, &ing, {Event("c1", "2026-01-01T12:00:00Z"), Event("b1", "2026-01-01T11:00:00Z")}, 5);
  EXPECT_EQ(w->duplicates(), 2);
  auto last = w->Commit("p3");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->rows, 2);
  EXPECT_EQ(ids(), (std::multiset<std::string>{"a1", "a2", "b1", "c1"}));
  EXPECT_EQ(position(), "p3");
  auto again = BronzeWriter::Open(wh, "replay");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->resume_position(), "p3");
}

}  // namespace
}  // namespace ws::ingest
