// Independent readers over our tables: avsc reads every manifest list and
// manifest and sees Iceberg's field ids; DuckDB reads the data files a scan
// lists; the shared path-based warehouse reader agrees with our scan.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "table_test_util.h"
#include "testing/test_util.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/format/parquet_writer.h"

namespace ws::table {

using format::ParquetReader;
using format::RecordBatch;

namespace {

using testing::EventsSchema;
using testing::Paths;
using testing::RunCommand;
using testing::SourceDir;
using testing::TempDir;

DataFile WriteRealFile(Table* t, const PartitionValues& p, int rows, int first) {
  RecordBatch batch(t->schema());
  for (int i = 0; i < rows; ++i) {
    batch.column(0).AppendString("e" + std::to_string(first + i));
    if (i % 3 == 0) batch.column(1).AppendNull();
    else batch.column(1).AppendInt64(first + i);
    batch.column(2).AppendString(p[0]);
    batch.column(3).AppendInt32(std::stoi(p[1]));
  }
  auto f = t->WriteDataFile(p, batch);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->stats.record_count, rows);
  return *f;
}

nlohmann::json Check(const std::string& metadata, bool duckdb) {
  std::string out;
  int rc = RunCommand("node " + (SourceDir() / "tests/interop/iceberg_check.mjs").string() + " " + metadata +
                          (duckdb ? " duckdb" : "") + " 2>&1",
                      &out);
  EXPECT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

TEST(IcebergInteropTest, AvscAndDuckDbReadWhatWeWrote) {
  TempDir dir;
  auto catalog = Catalog::Open(DefaultFileSystem(), dir.str());
  ASSERT_TRUE(catalog.ok());
  auto t = *(*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  DataFile a = WriteRealFile(t.get(), {"2024-08-22", "10"}, 100, 0);
  DataFile b = WriteRealFile(t.get(), {"2024-08-22", "11"}, 50, 100);
  CommitRequest req;
  req.added_files = {a, b};
  ASSERT_TRUE(t->Commit(req).ok());
  DataFile c = WriteRealFile(t.get(), {"2024-08-22", "10"}, 30, 200);
  req.added_files = {c};
  ASSERT_TRUE(t->Commit(req).ok());
  DataFile d = WriteRealFile(t.get(), {"2024-08-22", "11"}, 7, 300);
  CommitRequest ow;
  ow.operation = CommitOperation::kOverwrite;
  ow.overwrite_partitions = {{"2024-08-22", "11"}};
  ow.added_files = {d};
  ASSERT_TRUE(t->Commit(ow).ok());
  EXPECT_EQ(t->SummaryValue("total-records"), "137");

  auto j = Check(t->metadata_location(), true);
  // Every snapshot: avsc sees exactly the live files our scan sees.
  ASSERT_EQ(j["snapshots"].size(), 3u);
  for (const auto& s : j["snapshots"]) {
    ScanOptions at;
    at.snapshot_id = s["id"].get<int64_t>();
    auto files = t->Scan(at);
    ASSERT_TRUE(files.ok());
    std::set<std::string> theirs;
    for (const auto& p : s["live_files"]) theirs.insert(p.get<std::string>());
    std::set<std::string> ours;
    for (const auto& p : Paths(*files)) ours.insert("file://" + p);
    EXPECT_EQ(theirs, ours);
  }
  EXPECT_EQ(j["snapshots"][2]["records"], 137);
  EXPECT_EQ(j["duckdb_rows"], 137);
  // Every location an outside reader meets is a URI (the spec requires it).
  ASSERT_GT(j["locations"].size(), 10u);
  for (const auto& loc : j["locations"]) {
    EXPECT_EQ(loc.get<std::string>().rfind("file:///", 0), 0u) << loc;
  }

  const auto& l = j["list_field_ids"];
  EXPECT_EQ(l["manifest_path"], 500);
  EXPECT_EQ(l["manifest_length"], 501);
  EXPECT_EQ(l["partition_spec_id"], 502);
  EXPECT_EQ(l["added_snapshot_id"], 503);
  EXPECT_EQ(l["added_files_count"], 504);
  EXPECT_EQ(l["existing_files_count"], 505);
  EXPECT_EQ(l["deleted_files_count"], 506);
  EXPECT_EQ(l["partitions"], 507);
  EXPECT_EQ(l["added_rows_count"], 512);
  EXPECT_EQ(l["sequence_number"], 515);
  EXPECT_EQ(l["min_sequence_number"], 516);
  EXPECT_EQ(l["content"], 517);
  EXPECT_EQ(j["list_meta"]["format-version"], "2");
  EXPECT_TRUE(j["list_meta"].contains("snapshot-id"));
  const auto& e = j["entry_field_ids"];
  EXPECT_EQ(e["status"], 0);
  EXPECT_EQ(e["snapshot_id"], 1);
  EXPECT_EQ(e["data_file"], 2);
  EXPECT_EQ(e["sequence_number"], 3);
  EXPECT_EQ(e["file_sequence_number"], 4);
  const auto& df = j["data_file_field_ids"];
  EXPECT_EQ(df["content"], 134);
  EXPECT_EQ(df["file_path"], 100);
  EXPECT_EQ(df["file_format"], 101);
  EXPECT_EQ(df["partition"], 102);
  EXPECT_EQ(df["record_count"], 103);
  EXPECT_EQ(df["file_size_in_bytes"], 104);
  EXPECT_EQ(df["split_offsets"], 132);
  EXPECT_EQ(j["split_offsets_element_id"], 133);
  EXPECT_EQ(j["partition_field_ids"]["event_date"], 1000);
  EXPECT_EQ(j["partition_field_ids"]["event_hour"], 1001);
  EXPECT_EQ(j["map_key_ids"]["column_sizes"], nlohmann::json::array({117, 118}));
  EXPECT_EQ(j["map_key_ids"]["value_counts"], nlohmann::json::array({119, 120}));
  EXPECT_EQ(j["map_key_ids"]["null_value_counts"], nlohmann::json::array({121, 122}));
  EXPECT_EQ(j["map_key_ids"]["lower_bounds"], nlohmann::json::array({126, 127}));
  EXPECT_EQ(j["map_key_ids"]["upper_bounds"], nlohmann::json::array({129, 130}));
  const auto& mm = j["manifest_meta"];
  EXPECT_EQ(mm["format-version"], "2");
  EXPECT_EQ(mm["content"], "data");
  EXPECT_EQ(mm["partition-spec-id"], "0");
  EXPECT_EQ(mm["schema-id"], "0");
  auto spec = nlohmann::json::parse(mm["partition-spec"].get<std::string>());
  EXPECT_EQ(spec[0]["field-id"], 1000);
  auto schema = nlohmann::json::parse(mm["schema"].get<std::string>());
  EXPECT_EQ(schema["fields"][0]["name"], "event_id");

  // The path-based reader (version-hint -> metadata -> manifests -> DuckDB).
  std::string out;
  int rc = testing::ReadTableWithDuckDb(dir.str(), "bronze.raw_events", "event_id", &out);
  ASSERT_EQ(rc, 0) << out;
  auto w = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(w.is_discarded()) << out;
  EXPECT_EQ(w["rows"].size(), 137u);
}

TEST(IcebergInteropTest, CompactionKeepsRowsAndIncrementalReadersSkipIt) {
  TempDir dir;
  auto catalog = Catalog::Open(DefaultFileSystem(), dir.str());
  ASSERT_TRUE(catalog.ok());
  auto t = *(*catalog)->CreateTableIfNotExists("bronze", "raw_events", EventsSchema(), {"event_date", "event_hour"});
  std::vector<DataFile> small;
  for (int i = 0; i < 5; ++i) {
    small.push_back(WriteRealFile(t.get(), {"2024-08-22", "10"}, 20, i * 20));
    CommitRequest req;
    req.added_files = {small.back()};
    ASSERT_TRUE(t->Commit(req).ok());
  }
  DataFile other = WriteRealFile(t.get(), {"2024-08-22", "11"}, 5, 1000);
  CommitRequest req;
  req.added_files = {other};
  ASSERT_TRUE(t->Commit(req).ok());
  int64_t before = t->current_snapshot()->snapshot_id;

  auto r = t->Compact({"2024-08-22", "10"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(t->SummaryValue("operation"), "replace");
  EXPECT_EQ(t->SummaryValue("total-records"), "105");
  auto files = t->Scan();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  for (const auto& f : *files) {
    auto reader = ParquetReader::Open(DefaultFileSystem(), f.path);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->num_rows(), f.stats.record_count);
  }
  auto inc = t->FilesAddedBetween(before, t->current_snapshot()->snapshot_id);
  ASSERT_TRUE(inc.ok());
  EXPECT_TRUE(inc->empty());
  auto j = Check(t->metadata_location(), true);
  EXPECT_EQ(j["duckdb_rows"], 105);
  // A partition with one file is left alone.
  auto noop = t->Compact({"2024-08-22", "11"});
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ(noop->attempts, 0);
}

}  // namespace
}  // namespace ws::table
