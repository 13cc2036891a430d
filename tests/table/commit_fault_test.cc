// Commit atomicity under injected faults and unknown outcomes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "table_test_util.h"
#include "testing/test_util.h"

namespace ws::table {
namespace {

using testing::Append;
using testing::EventsSchema;
using testing::FakeFile;
using testing::LiveFiles;
using testing::RunCommand;
using testing::TempDir;

// The table as a fresh process would see it: must always load and scan.
std::set<std::string> ReadFresh(const std::string& warehouse, std::optional<int64_t>* current) {
  auto c = Catalog::Open(DefaultFileSystem(), warehouse);
  EXPECT_TRUE(c.ok());
  auto t = (*c)->LoadTable("bronze", "raw_events");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  auto snap = (*t)->current_snapshot();
  *current = snap ? std::optional<int64_t>(snap->snapshot_id) : std::nullopt;
  auto files = (*t)->Scan();
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  std::set<std::string> out;
  if (files.ok()) {
    for (const auto& f : *files) {
      EXPECT_TRUE(*DefaultFileSystem()->Exists(f.path)) << f.path;
      out.insert(f.path);
    }
  }
  return out;
}

class FaultTest : public ::testing::TestWithParam<FaultKind> {};

TEST_P(FaultTest, EveryMutatingOperationOfACommitLeavesOldOrNewState) {
  TempDir dir;
  FaultInjectionFileSystem fi(DefaultFileSystem());
  auto catalog = Catalog::Open(&fi, dir.str());
  ASSERT_TRUE(catalog.ok());
  auto table = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(table.ok());
  std::shared_ptr<Table> t = *table;
  // Overwrites touch the most files (rewritten manifests), so count those.
  ASSERT_TRUE(Append(t.get(), {FakeFile(t.get(), {"2024-08-22", "10"}, 1)}).ok());
  auto overwrite = [&](const DataFile& f) {
    CommitRequest req;
    req.operation = CommitOperation::kOverwrite;
    req.overwrite_partitions = {f.partition};
    req.added_files = {f};
    return t->Commit(req);
  };
  fi.FailAt(INT64_MAX, FaultKind::kIOError);
  ASSERT_TRUE(overwrite(FakeFile(t.get(), {"2024-08-22", "10"}, 1)).ok());
  const int64_t ops = fi.operations();
  ASSERT_GE(ops, 10);

  for (int64_t n = 1; n <= ops; ++n) {
    SCOPED_TRACE("fault at operation " + std::to_string(n));
    std::optional<int64_t> before_id;
    std::set<std::string> before = ReadFresh(dir.str(), &before_id);
    DataFile f = FakeFile(t.get(), {"2024-08-22", "10"}, 2);
    fi.FailAt(n, GetParam());
    auto r = overwrite(f);
    fi.Disarm();
    EXPECT_TRUE(fi.fired());
    std::optional<int64_t> after_id;
    std::set<std::string> after = ReadFresh(dir.str(), &after_id);
    if (r.ok()) {
      EXPECT_EQ(after_id, r->snapshot_id);
      EXPECT_EQ(after, (std::set<std::string>{f.path}));
    } else {
      EXPECT_EQ(after_id, before_id) << r.status().ToString();
      EXPECT_EQ(after, before);
      ASSERT_TRUE(t->Refresh().ok());
      auto retry = overwrite(f);
      ASSERT_TRUE(retry.ok()) << retry.status().ToString();
      EXPECT_EQ(ReadFresh(dir.str(), &after_id), (std::set<std::string>{f.path}));
    }
  }
  // Leftovers of failed attempts are orphans, which maintenance removes
  // without touching anything the table needs.
  auto removed = t->RemoveOrphanFiles(INT64_MAX / 2000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  std::optional<int64_t> id;
  EXPECT_EQ(ReadFresh(dir.str(), &id).size(), 1u);
  ASSERT_TRUE(Append(t.get(), {FakeFile(t.get(), {"2024-08-22", "11"}, 1)}).ok());
}

TEST(ExpireFaultTest, FaultAtEveryOperationOfExpiryKeepsCurrentReadable) {
  TempDir dir;
  FaultInjectionFileSystem fi(DefaultFileSystem());
  auto catalog = Catalog::Open(&fi, dir.str());
  ASSERT_TRUE(catalog.ok());
  auto t = *(*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  auto make_history = [&] {
    ASSERT_TRUE(Append(t.get(), {FakeFile(t.get(), {"2024-08-22", "10"}, 1)}).ok());
    CommitRequest ow;
    ow.operation = CommitOperation::kOverwrite;
    ow.overwrite_partitions = {{"2024-08-22", "10"}};
    ow.added_files = {FakeFile(t.get(), {"2024-08-22", "10"}, 2)};
    ASSERT_TRUE(t->Commit(ow).ok());
  };
  ExpireOptions opts;
  opts.retain_last = 1;
  make_history();
  fi.FailAt(INT64_MAX, FaultKind::kIOError);
  ASSERT_TRUE(t->ExpireSnapshots(opts).ok());
  const int64_t ops = fi.operations();
  ASSERT_GE(ops, 5);
  for (int64_t n = 1; n <= ops; ++n) {
    SCOPED_TRACE("fault at operation " + std::to_string(n));
    fi.Disarm();
    make_history();
    std::optional<int64_t> before;
    std::set<std::string> live = ReadFresh(dir.str(), &before);
    fi.FailAt(n, FaultKind::kCrash);
    auto r = t->ExpireSnapshots(opts);
    fi.Disarm();
    std::optional<int64_t> after;
    EXPECT_EQ(ReadFresh(dir.str(), &after), live);  // also checks every live file exists
    EXPECT_EQ(after, before);
    if (!r.ok()) {
      ASSERT_TRUE(t->ExpireSnapshots(opts).ok());
    }
    ASSERT_TRUE(t->Refresh().ok());
    EXPECT_EQ(t->snapshots().size(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultTest,
                         ::testing::Values(FaultKind::kIOError, FaultKind::kNoSpace, FaultKind::kShortWrite,
                                           FaultKind::kCrash));

TEST(CommitOutcomeTest, ErrorAfterSwapIsResolvedByCommitId) {
  TempDir dir;
  int after_swap_failures = 1;
  CatalogOptions opts;
  opts.commit_hook = [&](std::string_view step) {
    if (step == "after-swap" && after_swap_failures > 0) {
      --after_swap_failures;
      return Status::IOError("connection lost after UPDATE");
    }
    return Status::OK();
  };
  auto catalog = Catalog::Open(DefaultFileSystem(), dir.str(), opts);
  ASSERT_TRUE(catalog.ok());
  auto t = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(t.ok());
  DataFile f = FakeFile(t->get(), {"2024-08-22", "10"}, 3);
  auto r = Append(t->get(), {f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(after_swap_failures, 0);
  // Exactly one snapshot: the attempt was recognised as landed, not retried.
  std::optional<int64_t> id;
  EXPECT_EQ(ReadFresh(dir.str(), &id), (std::set<std::string>{f.path}));
  EXPECT_EQ(id, r->snapshot_id);
  EXPECT_EQ((*t)->snapshots().size(), 1u);
  EXPECT_EQ((*t)->SummaryValue("wikistream.commit-id"), r->commit_id);
}

TEST(CommitOutcomeTest, FailureBeforeSwapLeavesOldStateAndRetrySucceeds) {
  TempDir dir;
  bool fail = true;
  CatalogOptions opts;
  opts.commit_hook = [&](std::string_view step) {
    if (step == "before-swap" && fail) return Status::IOError("process killed before swap");
    return Status::OK();
  };
  auto catalog = Catalog::Open(DefaultFileSystem(), dir.str(), opts);
  ASSERT_TRUE(catalog.ok());
  auto t = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(t.ok());
  DataFile f = FakeFile(t->get(), {"2024-08-22", "10"}, 3);
  EXPECT_FALSE(Append(t->get(), {f}).ok());
  std::optional<int64_t> id;
  EXPECT_TRUE(ReadFresh(dir.str(), &id).empty());
  EXPECT_FALSE(id.has_value());
  fail = false;
  // The metadata file of the failed attempt took v2; the retry uses the next free name.
  auto r = Append(t->get(), {f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadFresh(dir.str(), &id), (std::set<std::string>{f.path}));
  EXPECT_EQ((*t)->metadata_location(), dir.str() + "/bronze/raw_events/metadata/v3.metadata.json");
  EXPECT_EQ(testing::ReadFile(dir.path() / "bronze/raw_events/metadata/version-hint.text"), "3");
}

TEST(CommitOutcomeTest, RaceDuringCommitIsRebased) {
  TempDir dir;
  std::shared_ptr<Table> intruder;
  int races = 2;
  CatalogOptions opts;
  opts.commit_hook = [&](std::string_view step) {
    if (step == "before-swap" && races > 0 && intruder) {
      --races;
      // Another writer lands first, through its own catalog connection.
      auto f = FakeFile(intruder.get(), {"2024-08-22", "9"}, 1);
      EXPECT_TRUE(Append(intruder.get(), {f}).ok());
    }
    return Status::OK();
  };
  auto catalog = Catalog::Open(DefaultFileSystem(), dir.str(), opts);
  auto t = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(t.ok());
  auto other = Catalog::Open(DefaultFileSystem(), dir.str());
  intruder = *(*other)->LoadTable("bronze", "raw_events");
  DataFile f = FakeFile(t->get(), {"2024-08-22", "10"}, 1);
  auto r = Append(t->get(), {f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(LiveFiles(t->get()).size(), 3u);
  EXPECT_EQ((*t)->SummaryValue("total-records"), "3");
  EXPECT_EQ((*t)->current_snapshot()->sequence_number, 3);
}

}  // namespace
}  // namespace ws::table

namespace ws::table {
namespace {

// The child side of MultiProcessTest: runs only when started by it.
TEST(MultiProcessChild, Appends) {
  const char* dir = std::getenv("WS_MP_DIR");
  const char* who = std::getenv("WS_MP_WRITER");
  if (!dir || !who) GTEST_SKIP() << "started by MultiProcessTest only";
  auto catalog = Catalog::Open(DefaultFileSystem(), dir);
  ASSERT_TRUE(catalog.ok());
  auto t = (*catalog)->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 10; ++i) {
    CommitRequest req;
    req.added_files = {FakeFile(t->get(), {"2024-08-22", who}, 1)};
    req.max_attempts = 100;
    auto r = (*t)->Commit(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

// Two processes (this test binary re-executed), each with its own catalog
// connection, append concurrently; nothing is lost.
TEST(MultiProcessTest, TwoProcessesCommitToOneWarehouse) {
  TempDir dir;
  {
    auto catalog = Catalog::Open(DefaultFileSystem(), dir.str());
    ASSERT_TRUE(catalog.ok());
    ASSERT_TRUE((*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"}).ok());
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(n, 0);
  self[n] = 0;
  std::vector<std::thread> threads;
  std::vector<int> rcs(2, -1);
  std::vector<std::string> outs(2);
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      rcs[p] = RunCommand("WS_MP_DIR=" + dir.str() + " WS_MP_WRITER=" + std::to_string(p) + " " + self +
                              " --gtest_filter=MultiProcessChild.Appends 2>&1",
                          &outs[p]);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rcs[0], 0) << outs[0];
  EXPECT_EQ(rcs[1], 0) << outs[1];
  std::optional<int64_t> id;
  EXPECT_EQ(ReadFresh(dir.str(), &id).size(), 20u);
}

}  // namespace
}  // namespace ws::table
