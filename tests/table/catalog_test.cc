#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <filesystem>
#include <thread>

#include "table_test_util.h"
#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/format/avro.h"

namespace ws::table {

using format::AvroFileReader;

namespace {

using testing::Append;
using testing::EventsSchema;
using testing::FakeFile;
using testing::LiveFiles;
using testing::Paths;
using testing::TempDir;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::Open(DefaultFileSystem(), dir_.str());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto t = catalog_->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"},
                                              {{"owner", "tests"}});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = *t;
  }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Table> table_;
};

// Processes started together on a new warehouse (two bronze consumers of one
// group, say) all create the catalog at once; every one of them must open it.
TEST(CatalogOpenTest, ManyOpeningOneFreshWarehouseAtOnceAllSucceed) {
  constexpr int kOpeners = 8;
  for (int round = 0; round < 25; ++round) {
    TempDir dir;
    std::atomic<int> ready{0};
    std::vector<Status> results(kOpeners);
    std::vector<std::thread> threads;
    for (int i = 0; i < kOpeners; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kOpeners) std::this_thread::yield();
        auto catalog = Catalog::Open(DefaultFileSystem(), dir.str());
        results[i] = catalog.status();
        if (!catalog.ok()) return;
        auto table = (*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(),
                                                        {"event_date", "event_hour"});
        results[i] = table.status();
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kOpeners; ++i) ASSERT_TRUE(results[i].ok()) << "round " << round << ": " << results[i].ToString();
  }
}

TEST_F(TableTest, CreateRegistersInSqlCatalogLayout) {
  // Creating again loads the same table.
  auto again = catalog_->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->metadata_location(), table_->metadata_location());
  EXPECT_EQ(table_->metadata_location(), dir_.str() + "/bronze/raw_events/metadata/v1.metadata.json");
  EXPECT_EQ(testing::ReadFile(dir_.path() / "bronze/raw_events/metadata/version-hint.text"), "1");
  EXPECT_EQ(table_->partition_columns(), (std::vector<std::string>{"event_date", "event_hour"}));
  EXPECT_FALSE(table_->current_snapshot().has_value());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.str() + "/catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT catalog_name, table_namespace, table_name, metadata_location, "
                               "previous_metadata_location FROM iceberg_tables",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wikistream");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), "bronze");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)), "raw_events");
  // The row holds a URI; the API speaks the file system's paths.
  EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 3)), "file://" + table_->metadata_location());
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name='wikistream'",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "bronze");
  sqlite3_finalize(st);
  sqlite3_close(db);

  auto list = catalog_->ListTables();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], (TableIdentifier{"bronze", "raw_events"}));
  EXPECT_TRUE(catalog_->LoadTable("bronze", "nope").status().IsNotFound());
  EXPECT_FALSE(catalog_->CreateTableIfNotExists("bronze", "bad", EventsSchema(), {"n"}).ok());  // optional column
}

TEST_F(TableTest, AppendOverwriteScanAndTimeTravel) {
  DataFile a = FakeFile(table_.get(), {"2024-08-22", "10"}, 10);
  DataFile b = FakeFile(table_.get(), {"2024-08-22", "11"}, 20);
  EXPECT_NE(a.path.find("/bronze/raw_events/data/event_date=2024-08-22/event_hour=10/"), std::string::npos);
  auto c1 = Append(table_.get(), {a, b}, {{"wikistream.source.sse", "[{\"offset\":1}]"}});
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_EQ(c1->attempts, 1);
  EXPECT_EQ(table_->SummaryValue("added-data-files"), "2");
  EXPECT_EQ(table_->SummaryValue("total-records"), "30");
  EXPECT_EQ(table_->SummaryValue("changed-partition-count"), "2");
  EXPECT_EQ(table_->SummaryValue("wikistream.source.sse"), "[{\"offset\":1}]");
  EXPECT_EQ(table_->SummaryValue("wikistream.commit-id"), c1->commit_id);
  EXPECT_EQ(LiveFiles(table_.get()), (std::set<std::string>{a.path, b.path}));

  DataFile c = FakeFile(table_.get(), {"2024-08-22", "10"}, 5);
  auto c2 = Append(table_.get(), {c});
  ASSERT_TRUE(c2.ok());

  // Overwrite hour 10 (a and c) with d.
  DataFile d = FakeFile(table_.get(), {"2024-08-22", "10"}, 7);
  CommitRequest ow;
  ow.operation = CommitOperation::kOverwrite;
  ow.overwrite_partitions = {{"2024-08-22", "10"}};
  ow.added_files = {d};
  auto c3 = table_->Commit(ow);
  ASSERT_TRUE(c3.ok()) << c3.status().ToString();
  EXPECT_EQ(LiveFiles(table_.get()), (std::set<std::string>{b.path, d.path}));
  EXPECT_EQ(table_->SummaryValue("operation"), "overwrite");
  EXPECT_EQ(table_->SummaryValue("deleted-data-files"), "2");
  EXPECT_EQ(table_->SummaryValue("deleted-records"), "15");
  EXPECT_EQ(table_->SummaryValue("total-records"), "27");
  EXPECT_EQ(table_->SummaryValue("total-data-files"), "2");
  // The source position is found on an older snapshot.
  auto with_pos = table_->LatestSnapshotWithSummary("wikistream.source.sse");
  ASSERT_TRUE(with_pos.has_value());
  EXPECT_EQ(with_pos->snapshot_id, c1->snapshot_id);

  // Stats survive the round trip through the manifest.
  auto files = table_->Scan();
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) {
    ASSERT_EQ(f.stats.columns.size(), 2u);
    EXPECT_EQ(f.stats.columns[0].lower_bound, "a");
    EXPECT_FALSE(f.stats.columns[1].lower_bound.has_value());
    EXPECT_EQ(f.stats.split_offsets, std::vector<int64_t>{4});
    EXPECT_GT(f.sequence_number, 0);
  }

  // Time travel: each snapshot still shows its own files.
  ScanOptions at1;
  at1.snapshot_id = c1->snapshot_id;
  auto old = table_->Scan(at1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Paths(*old), (std::set<std::string>{a.path, b.path}));
  at1.snapshot_id = c2->snapshot_id;
  EXPECT_EQ(Paths(*table_->Scan(at1)), (std::set<std::string>{a.path, b.path, c.path}));
  auto as_of = table_->SnapshotAsOf(table_->snapshot(c1->snapshot_id)->timestamp_ms);
  ASSERT_TRUE(as_of.ok());
  EXPECT_LE(as_of->sequence_number, 3);
  EXPECT_TRUE(table_->SnapshotAsOf(0).status().IsNotFound());
  at1.snapshot_id = 12345;
  EXPECT_TRUE(table_->Scan(at1).status().IsNotFound());

  // Partition pruning.
  ScanOptions pruned;
  pruned.partition_filter = [](const PartitionValues& p) { return p[1] == "11"; };
  EXPECT_EQ(Paths(*table_->Scan(pruned)), (std::set<std::string>{b.path}));

  // A second catalog on the same warehouse sees the same state.
  auto other = Catalog::Open(DefaultFileSystem(), dir_.str());
  ASSERT_TRUE(other.ok());
  auto t2 = (*other)->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(LiveFiles(t2->get()), (std::set<std::string>{b.path, d.path}));
  EXPECT_EQ((*t2)->snapshots().size(), 3u);
  EXPECT_EQ(testing::ReadFile(dir_.path() / "bronze/raw_events/metadata/version-hint.text"), "4");
}

TEST_F(TableTest, ReplaceAndFilesAddedBetween) {
  DataFile a = FakeFile(table_.get(), {"2024-08-22", "10"}, 1);
  DataFile b = FakeFile(table_.get(), {"2024-08-22", "10"}, 2);
  auto s1 = Append(table_.get(), {a});
  auto s2 = Append(table_.get(), {b});
  ASSERT_TRUE(s1.ok() && s2.ok());
  DataFile ab = FakeFile(table_.get(), {"2024-08-22", "10"}, 3);
  CommitRequest compact;
  compact.operation = CommitOperation::kReplace;
  compact.deleted_files = {a.path, b.path};
  compact.added_files = {ab};
  auto s3 = table_->Commit(compact);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(LiveFiles(table_.get()), (std::set<std::string>{ab.path}));
  EXPECT_EQ(table_->SummaryValue("total-records"), "3");
  DataFile c = FakeFile(table_.get(), {"2024-08-23", "0"}, 4);
  auto s4 = Append(table_.get(), {c});
  ASSERT_TRUE(s4.ok());

  // Incremental readers see appends only: the compacted file repeats rows.
  auto inc = table_->FilesAddedBetween(s1->snapshot_id, s4->snapshot_id);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  ASSERT_EQ(inc->size(), 2u);
  EXPECT_EQ((*inc)[0].path, b.path);
  EXPECT_EQ((*inc)[1].path, c.path);
  auto all = table_->FilesAddedBetween(std::nullopt, s4->snapshot_id);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto none = table_->FilesAddedBetween(s4->snapshot_id, s4->snapshot_id);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(table_->FilesAddedBetween(999, s4->snapshot_id).status().IsNotFound());

  // Replacing files that are gone is a conflict, not a silent no-op.
  CommitRequest stale = compact;
  stale.added_files = {FakeFile(table_.get(), {"2024-08-22", "10"}, 3)};
  auto r = table_->Commit(stale);
  EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_EQ(LiveFiles(table_.get()), (std::set<std::string>{ab.path, c.path}));
}

// More snapshots than the manifest-list cache keeps (64): the lists it let go
// are read again from the table, so every history is still complete.
TEST_F(TableTest, HistoryLongerThanTheManifestListCacheReadsCompletely) {
  constexpr int kCommits = 150;
  std::vector<DataFile> files;
  std::vector<int64_t> snapshots;
  for (int i = 0; i < kCommits; ++i) {
    files.push_back(FakeFile(table_.get(), {"2024-08-22", std::to_string(i % 24)}, i + 1));
    auto s = Append(table_.get(), {files.back()});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    snapshots.push_back(s->snapshot_id);
  }
  auto all = table_->FilesAddedBetween(std::nullopt, snapshots.back());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Paths(*all), Paths(files));
  auto tail = table_->FilesAddedBetween(snapshots[99], snapshots.back());
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(Paths(*tail), Paths(std::vector<DataFile>(files.begin() + 100, files.end())));
  for (int at : {9, 70, kCommits - 1}) {
    ScanOptions scan;
    scan.snapshot_id = snapshots[at];
    auto live = table_->Scan(scan);
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    EXPECT_EQ(live->size(), static_cast<size_t>(at + 1)) << "at snapshot " << at;
  }
}

TEST_F(TableTest, ValidateHookAndBadRequests) {
  CommitRequest req;
  req.added_files = {FakeFile(table_.get(), {"2024-08-22", "1"}, 1)};
  req.validate = [](const SnapshotInfo* cur) {
    return cur == nullptr ? Status::OK() : Status::Conflict("position moved");
  };
  ASSERT_TRUE(table_->Commit(req).ok());
  req.added_files = {FakeFile(table_.get(), {"2024-08-22", "1"}, 1)};
  EXPECT_TRUE(table_->Commit(req).status().IsConflict());
  req.validate = nullptr;
  req.added_files[0].partition = {"2024-08-22"};
  EXPECT_EQ(table_->Commit(req).status().code(), Status::Code::kInvalidArgument);
  req.added_files[0].partition = {"2024-08-22", "not-a-number"};
  EXPECT_FALSE(table_->Commit(req).ok());
  EXPECT_EQ(table_->snapshots().size(), 1u);
}

TEST_F(TableTest, ManyAppendsMergeManifests) {
  // A low merge threshold keeps the test fast; the default is 100 manifests.
  auto t = catalog_->CreateTableIfNotExists("bronze", "merged", EventsSchema(), {"event_date", "event_hour"},
                                            {{"commit.manifest.min-count-to-merge", "5"},
                                             {"write.metadata.previous-versions-max", "3"}});
  ASSERT_TRUE(t.ok());
  std::set<std::string> expected;
  for (int i = 0; i < 13; ++i) {
    DataFile f = FakeFile(t->get(), {"2024-08-22", std::to_string(i % 24)}, 1);
    expected.insert(f.path);
    ASSERT_TRUE(Append(t->get(), {f}).ok());
  }
  EXPECT_EQ(LiveFiles(t->get()), expected);
  EXPECT_EQ((*t)->SummaryValue("total-data-files"), "13");
  auto j = nlohmann::json::parse(testing::ReadFile((*t)->metadata_location()));
  EXPECT_EQ(j["properties"]["commit.manifest.min-count-to-merge"], "5");
  auto list = AvroFileReader::Open(DefaultFileSystem(), (*t)->current_snapshot()->manifest_list);
  ASSERT_TRUE(list.ok());
  auto manifests = (*list)->ReadAll();
  ASSERT_TRUE(manifests.ok());
  EXPECT_LE(manifests->size(), 6u);
  auto inc = (*t)->FilesAddedBetween(std::nullopt, (*t)->current_snapshot()->snapshot_id);
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(Paths(*inc), expected);
  // Only the current version and the 3 logged ones remain.
  int metadata_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "bronze/merged/metadata")) {
    if (e.path().string().ends_with(".metadata.json")) metadata_files++;
  }
  EXPECT_EQ(metadata_files, 4);
  EXPECT_EQ(j["metadata-log"].size(), 3u);
}

TEST_F(TableTest, ConcurrentCommitsFromThreadsAndCatalogsAllLand) {
  auto other_catalog = Catalog::Open(DefaultFileSystem(), dir_.str());
  ASSERT_TRUE(other_catalog.ok());
  auto t_same = catalog_->LoadTable("bronze", "raw_events");
  auto t_other = (*other_catalog)->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(t_same.ok() && t_other.ok());
  constexpr int kPerWriter = 15;
  std::vector<std::shared_ptr<Table>> writers = {table_, *t_same, *t_other};
  std::vector<std::set<std::string>> written(writers.size());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (size_t w = 0; w < writers.size(); ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        DataFile f = FakeFile(writers[w].get(), {"2024-08-22", std::to_string(w)}, 1);
        CommitRequest req;
        req.added_files = {f};
        req.max_attempts = 50;
        auto r = writers[w]->Commit(req);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          failures++;
        } else {
          written[w].insert(f.path);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(table_->Refresh().ok());
  std::set<std::string> all;
  for (const auto& s : written) all.insert(s.begin(), s.end());
  EXPECT_EQ(LiveFiles(table_.get()), all);
  EXPECT_EQ(table_->snapshots().size(), writers.size() * kPerWriter);
  EXPECT_EQ(table_->SummaryValue("total-records"), std::to_string(writers.size() * kPerWriter));
  // Sequence numbers are dense and the history is one chain.
  auto cur = table_->current_snapshot();
  EXPECT_EQ(cur->sequence_number, static_cast<int64_t>(writers.size() * kPerWriter));
}

TEST_F(TableTest, OverwriteRebasesOnConcurrentAppend) {
  DataFile a = FakeFile(table_.get(), {"2024-08-22", "10"}, 1);
  ASSERT_TRUE(Append(table_.get(), {a}).ok());
  auto other = catalog_->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(other.ok());
  // Another writer appends to the partition after we loaded the table.
  DataFile late = FakeFile(other->get(), {"2024-08-22", "10"}, 1);
  DataFile elsewhere = FakeFile(other->get(), {"2024-08-22", "11"}, 1);
  ASSERT_TRUE(Append(other->get(), {late, elsewhere}).ok());
  // Our overwrite started from the old state; on the lost race it is
  // re-applied to the new state and replaces ALL files of the partition.
  DataFile d = FakeFile(table_.get(), {"2024-08-22", "10"}, 2);
  CommitRequest ow;
  ow.operation = CommitOperation::kOverwrite;
  ow.overwrite_partitions = {{"2024-08-22", "10"}};
  ow.added_files = {d};
  auto r = table_->Commit(ow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(LiveFiles(table_.get()), (std::set<std::string>{d.path, elsewhere.path}));
}

TEST_F(TableTest, MetadataJsonHasSpecRequiredFields) {
  ASSERT_TRUE(Append(table_.get(), {FakeFile(table_.get(), {"2024-08-22", "10"}, 3)}).ok());
  auto j = nlohmann::json::parse(testing::ReadFile(table_->metadata_location()));
  for (const char* key : {"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
                          "last-column-id", "schemas", "current-schema-id", "partition-specs", "default-spec-id",
                          "last-partition-id", "sort-orders", "default-sort-order-id", "properties",
                          "current-snapshot-id", "snapshots", "snapshot-log", "metadata-log", "refs"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["format-version"], 2);
  EXPECT_EQ(j["location"], "file://" + dir_.str() + "/bronze/raw_events");
  EXPECT_EQ(j["last-column-id"], 4);
  EXPECT_EQ(j["last-partition-id"], 1001);
  EXPECT_EQ(j["schemas"][0]["type"], "struct");
  EXPECT_EQ(j["schemas"][0]["fields"][3]["type"], "int");
  EXPECT_EQ(j["schemas"][0]["fields"][0]["required"], true);
  const auto& pf = j["partition-specs"][0]["fields"];
  EXPECT_EQ(pf[0]["source-id"], 3);
  EXPECT_EQ(pf[0]["field-id"], 1000);
  EXPECT_EQ(pf[1]["transform"], "identity");
  EXPECT_EQ(j["sort-orders"][0]["order-id"], 0);
  const auto& snap = j["snapshots"][0];
  for (const char* key : {"snapshot-id", "sequence-number", "timestamp-ms", "summary", "manifest-list", "schema-id"}) {
    EXPECT_TRUE(snap.contains(key)) << key;
  }
  EXPECT_EQ(snap["summary"]["operation"], "append");
  EXPECT_EQ(j["refs"]["main"]["type"], "branch");
  EXPECT_EQ(j["refs"]["main"]["snapshot-id"], j["current-snapshot-id"]);
  EXPECT_EQ(j["metadata-log"][0]["metadata-file"], "file://" + dir_.str() + "/bronze/raw_events/metadata/v1.metadata.json");
  EXPECT_EQ(snap["manifest-list"].get<std::string>().rfind("file://" + dir_.str() + "/bronze/raw_events/metadata/snap-", 0),
            0u);
  EXPECT_LT(j["current-snapshot-id"].get<int64_t>(), int64_t{1} << 53);
}

TEST_F(TableTest, ExpireAndRemoveOrphansKeepCurrentReadable) {
  std::vector<DataFile> hour10;
  for (int i = 0; i < 4; ++i) {
    hour10.push_back(FakeFile(table_.get(), {"2024-08-22", "10"}, 1));
    ASSERT_TRUE(Append(table_.get(), {hour10.back()}).ok());
  }
  DataFile keep11 = FakeFile(table_.get(), {"2024-08-22", "11"}, 1);
  ASSERT_TRUE(Append(table_.get(), {keep11}).ok());
  DataFile d = FakeFile(table_.get(), {"2024-08-22", "10"}, 4);
  CommitRequest ow;
  ow.operation = CommitOperation::kOverwrite;
  ow.overwrite_partitions = {{"2024-08-22", "10"}};
  ow.added_files = {d};
  ASSERT_TRUE(table_->Commit(ow).ok());
  auto current = table_->current_snapshot()->snapshot_id;

  ExpireOptions opts;
  opts.retain_last = 1;
  auto ex = table_->ExpireSnapshots(opts);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_EQ(ex->snapshots_expired, 5);
  EXPECT_GE(ex->files_deleted, 4);  // the four replaced data files at least
  EXPECT_EQ(table_->snapshots().size(), 1u);
  EXPECT_EQ(table_->current_snapshot()->snapshot_id, current);
  // The files of the one kept snapshot, even though its parent is expired.
  auto own = table_->FilesAddedBetween(table_->current_snapshot()->parent_id, current);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_TRUE(own->empty());  // an overwrite, not an append
  EXPECT_TRUE(table_->FilesAddedBetween(std::nullopt, current).status().IsNotFound());
  for (const auto& f : hour10) EXPECT_FALSE(*DefaultFileSystem()->Exists(f.path)) << f.path;
  auto live = table_->Scan();
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(Paths(*live), (std::set<std::string>{d.path, keep11.path}));
  for (const auto& f : *live) EXPECT_TRUE(*DefaultFileSystem()->Exists(f.path));

  // An orphan (a data file no snapshot references) and a fresh one.
  std::string orphan = *table_->NewDataFilePath({"2024-08-22", "12"});
  ASSERT_TRUE(DefaultFileSystem()->WriteFileDurably(orphan, "junk", true).ok());
  auto none = table_->RemoveOrphanFiles(NowMicros() / 1000 - 60'000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(*DefaultFileSystem()->Exists(orphan));  // too young
  auto removed = table_->RemoveOrphanFiles(NowMicros() / 1000 + 1000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_GE(removed->files_deleted, 1);
  EXPECT_FALSE(*DefaultFileSystem()->Exists(orphan));
  // Still readable, from a fresh catalog too.
  auto other = Catalog::Open(DefaultFileSystem(), dir_.str());
  auto t2 = (*other)->LoadTable("bronze", "raw_events");
  ASSERT_TRUE(t2.ok());
  auto files = (*t2)->Scan();
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  for (const auto& f : *files) EXPECT_TRUE(*DefaultFileSystem()->Exists(f.path));
  EXPECT_TRUE(*DefaultFileSystem()->Exists((*t2)->metadata_location()));
  // And commits continue.
  ASSERT_TRUE(Append(t2->get(), {FakeFile(t2->get(), {"2024-08-23", "0"}, 1)}).ok());
}

}  // namespace
}  // namespace ws::table
