// Parquet interop with outside engines: DuckDB and hyparquet read what we
// write; we read what DuckDB writes (zstd/snappy/uncompressed, dictionary or
// not). The node scripts live in tests/interop/parquet_*.mjs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/format/parquet_writer.h"

namespace ws::format {
namespace {

using nlohmann::json;
using testing::RunCommand;
using testing::SourceDir;
using testing::TempDir;

std::string Script(const char* name) { return (SourceDir() / "tests/interop" / name).string(); }

SchemaPtr InteropSchema() {
  return std::make_shared<Schema>(1, std::vector<Field>{
                                         {11, "flag", TypeId::kBoolean, false, ""},
                                         {12, "n", TypeId::kInt32, true, ""},
                                         {13, "big", TypeId::kInt64, false, ""},
                                         {14, "x", TypeId::kDouble, false, ""},
                                         {15, "title", TypeId::kString, false, ""},
                                         {16, "payload", TypeId::kBinary, false, ""},
                                         {17, "at", TypeId::kTimestampTz, true, ""},
                                         {18, "raw", TypeId::kString, true, ""},
                                         {19, "nothing", TypeId::kString, false, ""},
                                     });
}

RecordBatch InteropBatch(size_t rows) {
  RecordBatch b(InteropSchema());
  const char* titles[] = {"Main Page", "", "Ωmega", "東京都", "🎉 party", "O'Brien \"quoted\"\n\ttab"};
  for (size_t r = 0; r < rows; ++r) {
    if (r % 4 == 1) b.column(0).AppendNull(); else b.column(0).AppendBool(r % 3 == 0);
    b.column(1).AppendInt32(static_cast<int32_t>(r * 37) - 5000);
    if (r % 5 == 2) b.column(2).AppendNull(); else b.column(2).AppendInt64((int64_t{1} << 53) + static_cast<int64_t>(r) * 1000003);
    if (r % 6 == 3) b.column(3).AppendNull(); else b.column(3).AppendDouble(static_cast<double>(r) / 7.0 - 3.25);
    if (r % 7 == 0) b.column(4).AppendNull(); else b.column(4).AppendString(std::string(titles[r % 6]) + std::to_string(r % 40));
    if (r % 3 == 0) b.column(5).AppendNull(); else b.column(5).AppendString(std::string(r % 5, static_cast<char>(r & 0xFF)));
    b.column(6).AppendInt64(1714564800123456ll + static_cast<int64_t>(r) * 999999);
    b.column(7).AppendString("{\"id\":" + std::to_string(r) + ",\"pad\":\"" + std::string(r % 300, 'p') + "\"}");
    b.column(8).AppendNull();
  }
  return b;
}

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// The JSON a script prints for one value (see the scripts' conventions).
json Expected(const Column& c, size_t r) {
  if (c.IsNull(r)) return nullptr;
  switch (c.type()) {
    case TypeId::kBoolean: return c.GetBool(r);
    case TypeId::kInt32: return c.GetInt32(r);
    case TypeId::kInt64:
    case TypeId::kTimestampTz: return std::to_string(c.GetInt64(r));
    case TypeId::kDouble: return c.GetDouble(r);
    case TypeId::kString: return std::string(c.GetString(r));
    case TypeId::kBinary: return Hex(c.GetString(r));
  }
  return nullptr;
}

void ExpectRowsMatch(const RecordBatch& batch, const json& rows, const std::string& who) {
  ASSERT_EQ(rows.size(), batch.num_rows()) << who;
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      const std::string& name = batch.schema()->field(c).name;
      json want = Expected(batch.column(c), r);
      const json& got = rows[r].at(name);
      if (want.is_number_float() && got.is_number()) {
        ASSERT_EQ(got.get<double>(), want.get<double>()) << who << " row " << r << " " << name;
      } else {
        ASSERT_EQ(got, want) << who << " row " << r << " " << name;
      }
    }
  }
}

json RunJson(const std::string& cmd) {
  std::string out;
  int rc = RunCommand(cmd, &out);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out.substr(0, 2000);
  if (rc != 0) return json();
  return json::parse(out, nullptr, false);
}

class ParquetInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.str() + "/ours.parquet";
    batch_ = InteropBatch(3000);
    ParquetWriterOptions opts;
    opts.row_group_bytes = 128 << 10;  // several row groups and pages
    opts.page_bytes = 16 << 10;
    opts.dictionary_page_limit = 8 << 10;  // `raw` falls back to PLAIN
    auto w = ParquetWriter::Open(DefaultFileSystem()->Create(path_).value(), batch_.schema(), opts);
    ASSERT_TRUE(w.ok());
    for (uint32_t begin = 0; begin < 3000; begin += 500) {
      std::vector<uint32_t> rows;
      for (uint32_t r = begin; r < begin + 500; ++r) rows.push_back(r);
      ASSERT_TRUE((*w)->Write(batch_.Take(rows)).ok());
    }
    auto stats = (*w)->Close();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_GT(stats->split_offsets.size(), 1u);
  }
  TempDir dir_;
  std::string path_;
  RecordBatch batch_;
};

TEST_F(ParquetInterop, DuckDBReadsOurFile) {
  json out = RunJson("node " + Script("parquet_duckdb_read.mjs") + " " + path_);
  ASSERT_TRUE(out.is_object());
  ExpectRowsMatch(batch_, out["rows"], "duckdb");
  EXPECT_EQ(out["types"], json({"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "BLOB",
                                "TIMESTAMP WITH TIME ZONE", "VARCHAR", "VARCHAR"}));
  for (const Field& f : batch_.schema()->fields()) EXPECT_EQ(out["field_ids"][f.name], f.id) << f.name;
  ASSERT_FALSE(out["chunks"].empty());
  bool saw_plain_raw = false;
  for (const json& c : out["chunks"]) {
    EXPECT_EQ(c["compression"], "ZSTD");
    if (c["column"] == "n") {
      EXPECT_FALSE(c["min"].is_null());
      EXPECT_FALSE(c["max"].is_null());
      EXPECT_EQ(c["null_count"], "0");
    }
    if (c["column"] == "raw" && c["encodings"].get<std::string>().find("PLAIN") != std::string::npos) {
      saw_plain_raw = true;
    }
  }
  EXPECT_TRUE(saw_plain_raw);
  // The first chunk of `n` holds rows 0.. of the first group: its min is row 0's value.
  EXPECT_EQ(out["chunks"][1]["min"], "-5000");
}

TEST_F(ParquetInterop, HyparquetReadsOurFile) {
  json out = RunJson("node " + Script("parquet_hyparquet_read.mjs") + " " + path_);
  ASSERT_TRUE(out.is_object());
  ExpectRowsMatch(batch_, out["rows"], "hyparquet");
}

TEST(ParquetInteropDuckDBWrites, WeReadDuckDBFiles) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunCommand("node " + Script("parquet_duckdb_write.mjs") + " " + dir.str(), &out), 0) << out;
  json expected = json::parse(testing::ReadFile(dir.path() / "expected.json"));
  ASSERT_EQ(expected.size(), 5000u);
  for (const char* codec : {"zstd", "snappy", "uncompressed"}) {
    for (const char* dict : {"dict", "plain"}) {
     for (const char* version : {"v1", "v2"}) {
      std::string name = std::string(codec) + "_" + dict + "_" + version;
      auto reader = ParquetReader::Open(DefaultFileSystem(), dir.str() + "/" + name + ".parquet");
      ASSERT_TRUE(reader.ok()) << name << ": " << reader.status().ToString();
      EXPECT_GT((*reader)->num_row_groups(), 1) << name;
      const Schema& fs = *(*reader)->file_schema();
      ASSERT_EQ(fs.num_fields(), 8u);
      EXPECT_EQ(fs.field(0).type, TypeId::kInt32);
      EXPECT_EQ(fs.field(1).type, TypeId::kInt64);
      EXPECT_EQ(fs.field(2).type, TypeId::kDouble);
      EXPECT_EQ(fs.field(3).type, TypeId::kBoolean);
      EXPECT_EQ(fs.field(4).type, TypeId::kString);
      EXPECT_EQ(fs.field(6).type, TypeId::kTimestampTz);
      EXPECT_EQ(fs.field(7).type, TypeId::kBinary);
      auto all = (*reader)->ReadAll();
      ASSERT_TRUE(all.ok()) << name << ": " << all.status().ToString();
      ExpectRowsMatch(*all, expected, name);
      // DuckDB files carry no field ids: projection falls back to names.
      auto proj = std::make_shared<Schema>(0, std::vector<Field>{{100, "s", TypeId::kString, false, ""},
                                                                  {101, "missing", TypeId::kInt64, false, ""}});
      auto some = (*reader)->ReadRowGroup(0, proj);
      ASSERT_TRUE(some.ok()) << some.status().ToString();
      for (size_t r = 0; r < some->num_rows(); ++r) {
        ASSERT_TRUE(some->column(0).ValueEquals(r, all->column(4), r));
        ASSERT_TRUE(some->column(1).IsNull(r));
      }
     }
    }
  }
}

// DuckDB's files exercise decoders our writer never uses (DELTA_*,
// BYTE_STREAM_SPLIT, snappy, page v2): damaged copies must fail cleanly.
TEST(ParquetInteropDuckDBWrites, DamagedDuckDBFilesFailCleanly) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunCommand("node " + Script("parquet_duckdb_write.mjs") + " " + dir.str(), &out), 0) << out;
  std::mt19937 rng(99);
  int failures = 0;
  for (const char* name : {"snappy_plain_v2", "zstd_plain_v2", "uncompressed_plain_v2", "uncompressed_dict_v1"}) {
    std::string good = testing::ReadFile(dir.path() / (std::string(name) + ".parquet"));
    std::string path = dir.str() + "/bad.parquet";
    for (int trial = 0; trial < 60; ++trial) {
      std::string data = good;
      for (int f = 0; f < 4; ++f) {
        size_t pos = rng() % data.size();
        data[pos] = static_cast<char>(data[pos] ^ (1 << (rng() % 8)));
      }
      if (trial % 3 == 0) data.resize(rng() % data.size());
      testing::WriteFile(path, data);
      auto reader = ParquetReader::Open(DefaultFileSystem(), path);
      Status s = reader.ok() ? (*reader)->ReadAll().status() : reader.status();
      if (!s.ok()) {
        ++failures;
        EXPECT_NE(s.code(), Status::Code::kInternal) << s.ToString();
      }
    }
  }
  EXPECT_GT(failures, 60);
}

}  // namespace
}  // namespace ws::format
