// Commit atomicity under injected faults and unknown outcomes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <utility>
#include <thread>

#include "../../src/table/table_internal.h"
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

// The local file system seen as an object store without conditional PUT:
// a no-clobber create checks that the name is free (HEAD), then writes
// (PUT) whatever happened in between, and a plain create just writes.
// `between` runs once, just before the first metadata file is created.
class HeadThenPutFileSystem : public FileSystem {
 public:
  explicit HeadThenPutFileSystem(FileSystem* base) : base_(base) {}
  std::function<void()> between;

  Result<bool> CreatesExclusively(const std::string&) override { return false; }
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& path) override {
    WS_ASSIGN_OR_RETURN(bool taken, base_->Exists(path));
    if (taken) return Status::AlreadyExists("create " + path + ": already exists");
    return Create(path);
  }
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    if (path.ends_with(".metadata.json")) {
      if (auto gap = std::exchange(between, nullptr)) gap();
    }
    return base_->Create(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& p) override { return base_->OpenForRead(p); }
  Result<std::string> ReadAll(const std::string& p) override { return base_->ReadAll(p); }
  Status Rename(const std::string& from, const std::string& to) override { return base_->Rename(from, to); }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  Result<bool> Exists(const std::string& p) override { return base_->Exists(p); }
  Result<std::vector<FileInfo>> List(const std::string& d) override { return base_->List(d); }
  Result<std::vector<FileInfo>> ListRecursive(const std::string& d) override { return base_->ListRecursive(d); }

 private:
  FileSystem* base_;
};

// Two writers commit on the same base where both can pass the "name is
// free" check: the later PUT must not replace the metadata file the
// earlier writer's catalog swap already points at (that lost its rows).
TEST(CommitOutcomeTest, WritersOnAStoreWithoutExclusiveCreatesNeverShareAMetadataFile) {
  TempDir dir;
  HeadThenPutFileSystem store(DefaultFileSystem());
  auto catalog = Catalog::Open(&store, dir.str());
  ASSERT_TRUE(catalog.ok());
  auto t = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto other_catalog = Catalog::Open(&store, dir.str());
  auto other = (*other_catalog)->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(other.ok());
  DataFile theirs = FakeFile(other->get(), {"2024-08-22", "9"}, 1);
  DataFile ours = FakeFile(t->get(), {"2024-08-22", "10"}, 2);
  bool they_committed = false;
  store.between = [&] {
    // Our metadata file is about to be written; the other writer commits all the way.
    they_committed = Append(other->get(), {theirs}).ok();
  };
  auto r = Append(t->get(), {ours});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(they_committed);
  std::optional<int64_t> id;
  EXPECT_EQ(ReadFresh(dir.str(), &id), (std::set<std::string>{theirs.path, ours.path}));
  EXPECT_EQ((*t)->SummaryValue("total-records"), "3");
  const std::string name = std::filesystem::path((*t)->metadata_location()).filename();
  EXPECT_TRUE(name.starts_with("00003-") && name.ends_with(".metadata.json")) << name;
  // The losing attempt's file is removed: one metadata file per version.
  int metadata_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "bronze/raw_events/metadata")) {
    if (e.path().string().ends_with(".metadata.json")) metadata_files++;
  }
  EXPECT_EQ(metadata_files, 3);
}

TEST(MetadataNameTest, VersionIsReadFromBothForms) {
  EXPECT_EQ(MetadataVersion("/wh/t/metadata/v12.metadata.json"), 12);
  EXPECT_EQ(MetadataVersion("s3://b/wh/t/metadata/00012-3f2b8c9e-0000-4000-8000-000000000000.metadata.json"), 12);
  EXPECT_EQ(MetadataVersion("/wh/t/metadata/v12-x.metadata.json"), 0);
  EXPECT_EQ(MetadataVersion("/wh/t/metadata/x.metadata.json"), 0);
  EXPECT_EQ(MetadataVersion("/wh/t/metadata/00012.metadata.json"), 0);
  EXPECT_EQ(MetadataVersion("/wh/t/metadata/v12.avro"), 0);
  const std::string unique = MetadataFileName("/m", 7, /*exclusive_creates=*/false);
  EXPECT_NE(unique, MetadataFileName("/m", 7, false));
  EXPECT_EQ(MetadataVersion(unique), 7);
  EXPECT_EQ(MetadataFileName("/m", 7, /*exclusive_creates=*/true), "/m/v7.metadata.json");
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
