// ParquetWriter round trips through ParquetReader, footer contents, stats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "../../src/format/thrift_parquet.h"
#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/format/parquet_writer.h"

namespace ws::format {
namespace {

using testing::TempDir;

SchemaPtr AllTypesSchema() {
  return std::make_shared<Schema>(3, std::vector<Field>{
                                         {1, "b", TypeId::kBoolean, false, ""},
                                         {2, "i", TypeId::kInt32, true, ""},
                                         {3, "l", TypeId::kInt64, false, ""},
                                         {4, "d", TypeId::kDouble, false, ""},
                                         {5, "s", TypeId::kString, false, ""},
                                         {6, "bin", TypeId::kBinary, false, ""},
                                         {7, "ts", TypeId::kTimestampTz, false, ""},
                                         {8, "rs", TypeId::kString, true, ""},
                                     });
}

// Deterministic rows covering nulls, empty/long/non-ASCII strings, extremes.
RecordBatch AllTypesBatch(size_t rows, uint32_t seed = 7) {
  RecordBatch b(AllTypesSchema());
  std::mt19937 rng(seed);
  const std::string kTexts[] = {"", "a", "Wikipedia", "日本語のタイトル", "Ünïcödé ✓", "emoji 🎉",
                                std::string(5000, 'x'), "wiki-edit"};
  for (size_t r = 0; r < rows; ++r) {
    if (r % 5 == 3) b.column(0).AppendNull(); else b.column(0).AppendBool(r % 3 == 0);
    b.column(1).AppendInt32(r == 1 ? std::numeric_limits<int32_t>::min() : static_cast<int32_t>(rng()));
    if (r % 4 == 1) b.column(2).AppendNull();
    else b.column(2).AppendInt64(r == 2 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(rng()) * 977);
    if (r % 6 == 2) b.column(3).AppendNull(); else b.column(3).AppendDouble((static_cast<double>(rng()) - 2e9) / 7.0);
    if (r % 7 == 4) b.column(4).AppendNull(); else b.column(4).AppendString(kTexts[rng() % 8] + std::to_string(r % 50));
    if (r % 3 == 2) {
      b.column(5).AppendNull();
    } else {
      std::string bin(r % 17, '\0');
      for (auto& c : bin) c = static_cast<char>(rng());
      b.column(5).AppendString(bin);
    }
    if (r % 9 == 5) b.column(6).AppendNull();
    else b.column(6).AppendInt64(1714564800000000ll + static_cast<int64_t>(r) * 1234567);
    b.column(7).AppendString(kTexts[r % 8]);
  }
  return b;
}

void ExpectBatchesEqual(const RecordBatch& a, const RecordBatch& b) {
  ASSERT_EQ(a.num_columns(), b.num_columns());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    for (size_t r = 0; r < a.num_rows(); ++r) {
      ASSERT_TRUE(a.column(c).ValueEquals(r, b.column(c), r))
          << "column " << a.schema()->field(c).name << " row " << r << ": " << a.column(c).ValueToString(r)
          << " vs " << b.column(c).ValueToString(r);
    }
  }
}

parquet::FileMetaData ReadFooter(const std::string& path) {
  std::string data = testing::ReadFile(path);
  uint32_t len;
  std::memcpy(&len, data.data() + data.size() - 8, 4);
  parquet::FileMetaData md;
  Status s = parquet::ParseFileMetaData(reinterpret_cast<const uint8_t*>(data.data()) + data.size() - 8 - len, len, &md);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return md;
}

RecordBatch ReadBack(const std::string& path, SchemaPtr projection = nullptr) {
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return RecordBatch();
  auto all = (*reader)->ReadAll(projection);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? std::move(all).value() : RecordBatch();
}

struct Variant {
  ParquetCompression compression;
  bool dictionary;
};

class ParquetRoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(ParquetRoundTrip, EveryTypeWithNulls) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  RecordBatch batch = AllTypesBatch(3000);
  ParquetWriterOptions opts;
  opts.compression = GetParam().compression;
  opts.dictionary = GetParam().dictionary;
  auto stats = WriteParquetFile(DefaultFileSystem(), path, batch, opts);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->record_count, 3000);
  RecordBatch back = ReadBack(path);
  ASSERT_TRUE(back.schema());
  EXPECT_TRUE(back.schema()->Equals(*batch.schema()));
  ExpectBatchesEqual(batch, back);

  auto md = ReadFooter(path);
  const int32_t want_codec = GetParam().compression == ParquetCompression::kZstd ? parquet::kZstd : parquet::kUncompressed;
  for (const auto& cc : md.row_groups.at(0).columns) EXPECT_EQ(cc.meta_data->codec, want_codec);
  const auto& enc = md.row_groups[0].columns[4].meta_data->encodings;
  bool has_dict = std::find(enc.begin(), enc.end(), parquet::kRleDictionary) != enc.end();
  EXPECT_EQ(has_dict, GetParam().dictionary);
}

INSTANTIATE_TEST_SUITE_P(Variants, ParquetRoundTrip,
                         ::testing::Values(Variant{ParquetCompression::kZstd, true},
                                           Variant{ParquetCompression::kZstd, false},
                                           Variant{ParquetCompression::kUncompressed, true},
                                           Variant{ParquetCompression::kUncompressed, false}));

TEST(ParquetWriter, FooterHasFieldIdsLogicalTypesOrdersAndIcebergSchema) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  ParquetWriterOptions opts;
  opts.key_value_metadata = {{"writer.note", "hello"}};
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, AllTypesBatch(10), opts).ok());
  auto md = ReadFooter(path);
  ASSERT_EQ(md.schema.size(), 9u);
  EXPECT_EQ(md.schema[0].num_children, 8);
  for (size_t i = 1; i < md.schema.size(); ++i) EXPECT_EQ(md.schema[i].field_id, static_cast<int32_t>(i));
  EXPECT_EQ(md.schema[5].converted_type, parquet::kUtf8);
  EXPECT_EQ(md.schema[5].logical, parquet::kLogicalString);
  EXPECT_EQ(md.schema[6].logical, parquet::kNoLogical);
  EXPECT_EQ(md.schema[7].converted_type, parquet::kTimestampMicros);
  EXPECT_EQ(md.schema[7].logical, parquet::kLogicalTimestamp);
  EXPECT_TRUE(md.schema[7].timestamp_utc);
  EXPECT_EQ(md.schema[7].timestamp_unit, parquet::kMicros);
  EXPECT_EQ(md.schema[2].repetition_type, parquet::kRequired);
  EXPECT_EQ(md.schema[1].repetition_type, parquet::kOptional);
  EXPECT_EQ(md.column_orders, std::vector<bool>(8, true));
  ASSERT_EQ(md.key_value_metadata.size(), 2u);
  EXPECT_EQ(md.key_value_metadata[0].first, "iceberg.schema");
  EXPECT_EQ(md.key_value_metadata[0].second, IcebergSchemaJson(*AllTypesSchema()));
  EXPECT_EQ(md.key_value_metadata[1], (std::pair<std::string, std::string>{"writer.note", "hello"}));
  EXPECT_EQ(md.num_rows, 10);
}

TEST(ParquetWriter, IcebergSchemaJson) {
  Schema s(4, {{1, "id", TypeId::kString, true, ""}, {2, "n", TypeId::kInt32, false, ""},
               {3, "at", TypeId::kTimestampTz, true, ""}});
  EXPECT_EQ(IcebergSchemaJson(s),
            R"({"type":"struct","schema-id":4,"fields":[{"id":1,"name":"id","required":true,"type":"string"},)"
            R"({"id":2,"name":"n","required":false,"type":"int"},{"id":3,"name":"at","required":true,"type":"timestamptz"}]})");
}

TEST(ParquetWriter, ManyRowGroupsAndPagesWithSmallLimits) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  RecordBatch batch = AllTypesBatch(20000);
  ParquetWriterOptions opts;
  opts.row_group_bytes = 64 << 10;
  opts.page_bytes = 2 << 10;
  auto w = ParquetWriter::Open(DefaultFileSystem()->Create(path).value(), batch.schema(), opts);
  ASSERT_TRUE(w.ok());
  // Several batches of odd sizes: row groups and pages cut inside batches.
  for (size_t begin = 0; begin < batch.num_rows(); begin += 3333) {
    std::vector<uint32_t> rows;
    for (size_t r = begin; r < std::min(batch.num_rows(), begin + 3333); ++r) rows.push_back(static_cast<uint32_t>(r));
    ASSERT_TRUE((*w)->Write(batch.Take(rows)).ok());
  }
  auto stats = (*w)->Close();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(reader.ok());
  EXPECT_GT((*reader)->num_row_groups(), 5);
  EXPECT_EQ(stats->split_offsets.size(), static_cast<size_t>((*reader)->num_row_groups()));
  EXPECT_EQ(stats->split_offsets[0], 4);
  EXPECT_TRUE(std::is_sorted(stats->split_offsets.begin(), stats->split_offsets.end()));
  int64_t rows = 0;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    auto rg = (*reader)->ReadRowGroup(g);
    ASSERT_TRUE(rg.ok()) << rg.status().ToString();
    rows += static_cast<int64_t>(rg->num_rows());
  }
  EXPECT_EQ(rows, 20000);
  ExpectBatchesEqual(batch, ReadBack(path));

  // Pages are cut near page_bytes: a row group of the long-string column has many pages.
  auto md = ReadFooter(path);
  const auto& m = *md.row_groups[0].columns[0].meta_data;
  EXPECT_EQ(m.data_page_offset, 4);
  int64_t total = 0;
  for (const auto& g : md.row_groups) {
    total += g.num_rows;
    EXPECT_EQ(g.file_offset, g.columns[0].meta_data->dictionary_page_offset.value_or(g.columns[0].meta_data->data_page_offset));
  }
  EXPECT_EQ(total, 20000);
  int64_t stat_bytes = 0;
  for (const auto& c : stats->columns) stat_bytes += c.compressed_bytes;
  EXPECT_LT(stat_bytes, stats->file_size_bytes);
}

TEST(ParquetWriter, DictionaryFallsBackToPlainWhenFull) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "s", TypeId::kString, false, ""},
                                                                {2, "few", TypeId::kString, true, ""}});
  RecordBatch b(schema);
  for (int r = 0; r < 20000; ++r) {
    if (r % 10 == 0) b.column(0).AppendNull(); else b.column(0).AppendString("distinct value #" + std::to_string(r));
    b.column(1).AppendString(r % 2 ? "edit" : "log");
  }
  ParquetWriterOptions opts;
  opts.dictionary_page_limit = 4096;
  opts.page_bytes = 8192;
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, b, opts).ok());
  ExpectBatchesEqual(b, ReadBack(path));
  auto md = ReadFooter(path);
  const auto& many = md.row_groups[0].columns[0].meta_data->encodings;
  EXPECT_NE(std::find(many.begin(), many.end(), parquet::kRleDictionary), many.end());
  EXPECT_NE(std::find(many.begin(), many.end(), parquet::kPlain), many.end());
  EXPECT_TRUE(md.row_groups[0].columns[0].meta_data->dictionary_page_offset.has_value());
  // The low-cardinality column stays dictionary-encoded and tiny.
  EXPECT_LT(md.row_groups[0].columns[1].meta_data->total_compressed_size, 2000);
}

TEST(ParquetWriter, OneValueLargerThanTheDictionaryLimit) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "s", TypeId::kString, false, ""}});
  RecordBatch b(schema);
  b.column(0).AppendString(std::string(10000, 'q'));
  b.column(0).AppendString("short");
  ParquetWriterOptions opts;
  opts.dictionary_page_limit = 100;
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, b, opts).ok());
  ExpectBatchesEqual(b, ReadBack(path));
  EXPECT_FALSE(ReadFooter(path).row_groups[0].columns[0].meta_data->dictionary_page_offset.has_value());
}

TEST(ParquetWriter, MillionRows) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "id", TypeId::kInt64, true, ""},
                                                                {2, "wiki", TypeId::kString, false, ""},
                                                                {3, "ts", TypeId::kTimestampTz, true, ""}});
  RecordBatch b(schema);
  const size_t n = 1000000;
  b.Reserve(n);
  for (size_t r = 0; r < n; ++r) {
    b.column(0).AppendInt64(static_cast<int64_t>(r));
    if (r % 100 == 0) b.column(1).AppendNull(); else b.column(1).AppendString(r % 3 ? "enwiki" : "dewiki");
    b.column(2).AppendInt64(1700000000000000ll + static_cast<int64_t>(r));
  }
  ParquetWriterOptions opts;
  opts.row_group_bytes = 4 << 20;
  auto stats = WriteParquetFile(DefaultFileSystem(), path, b, opts);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->record_count, static_cast<int64_t>(n));
  EXPECT_GT(stats->split_offsets.size(), 1u);
  RecordBatch back = ReadBack(path);
  ASSERT_EQ(back.num_rows(), n);
  for (size_t r = 0; r < n; r += 9973) {
    ASSERT_EQ(back.column(0).GetInt64(r), static_cast<int64_t>(r));
    ASSERT_TRUE(back.column(1).ValueEquals(r, b.column(1), r));
  }
  EXPECT_EQ(back.column(1).null_count(), n / 100);
  EXPECT_EQ(back.column(2).GetInt64(n - 1), 1700000000000000ll + static_cast<int64_t>(n - 1));
}

TEST(ParquetWriter, EmptyFileHasNoRowGroups) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto w = ParquetWriter::Open(DefaultFileSystem()->Create(path).value(), AllTypesSchema());
  ASSERT_TRUE(w.ok());
  auto stats = (*w)->Close();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->record_count, 0);
  EXPECT_TRUE(stats->split_offsets.empty());
  for (const auto& c : stats->columns) EXPECT_FALSE(c.lower_bound.has_value());
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->num_rows(), 0);
  auto all = (*reader)->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 0u);
}

TEST(ParquetWriter, RejectsAnotherSchemaAndRequiredNulls) {
  TempDir dir;
  auto w = ParquetWriter::Open(DefaultFileSystem()->Create(dir.str() + "/t.parquet").value(), AllTypesSchema());
  ASSERT_TRUE(w.ok());
  auto other = std::make_shared<Schema>(0, std::vector<Field>{{1, "x", TypeId::kInt32, true, ""}});
  RecordBatch b(other);
  b.column(0).AppendInt32(1);
  EXPECT_EQ((*w)->Write(b).code(), Status::Code::kInvalidArgument);
  RecordBatch bad = AllTypesBatch(3);
  bad.column(1).AppendNull();  // required int column: length and null both wrong
  EXPECT_FALSE((*w)->Write(bad).ok());
}

TEST(ParquetWriter, WriteFailuresSurfaceAsStatus) {
  TempDir dir;
  for (int nth = 1; nth <= 4; ++nth) {
    FaultInjectionFileSystem fs(DefaultFileSystem());
    fs.FailAt(nth, FaultKind::kNoSpace);
    auto stats = WriteParquetFile(&fs, dir.str() + "/f" + std::to_string(nth) + ".parquet", AllTypesBatch(100));
    EXPECT_FALSE(stats.ok()) << "fault at op " << nth;
  }
}

std::string LE64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
std::string LE32(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string LEd(double v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

TEST(ParquetWriter, FileStatsBoundsAndCounts) {
  TempDir dir;
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{
                                                {1, "b", TypeId::kBoolean, false, ""},
                                                {2, "i", TypeId::kInt32, false, ""},
                                                {3, "l", TypeId::kInt64, false, ""},
                                                {4, "d", TypeId::kDouble, false, ""},
                                                {5, "s", TypeId::kString, false, ""},
                                                {6, "bin", TypeId::kBinary, false, ""},
                                                {7, "ts", TypeId::kTimestampTz, false, ""},
                                                {8, "allnull", TypeId::kString, false, ""},
                                            });
  RecordBatch b(schema);
  auto add = [&](bool bo, int32_t i, int64_t l, double d, std::string s, int64_t ts) {
    b.column(0).AppendBool(bo);
    b.column(1).AppendInt32(i);
    b.column(2).AppendInt64(l);
    b.column(3).AppendDouble(d);
    b.column(4).AppendString(s);
    b.column(5).AppendString("\x01\x02");
    b.column(6).AppendInt64(ts);
    b.column(7).AppendNull();
  };
  add(true, -5, 10, 2.5, "zebra", 100);
  add(true, 7, -3, std::nan(""), "apple pie with a very long name indeed", 50);
  add(true, 0, 99, -1.25, "zz\xf4\x8f\xbf\xbf", 300);  // U+10FFFF
  for (auto& c : b.columns()) c.AppendNull();
  ParquetWriterOptions opts;
  opts.row_group_bytes = 1;  // one row group per Write: bounds merge across groups
  auto w = ParquetWriter::Open(DefaultFileSystem()->Create(dir.str() + "/t.parquet").value(), schema, opts);
  ASSERT_TRUE(w.ok());
  for (uint32_t r = 0; r < 4; ++r) ASSERT_TRUE((*w)->Write(b.Take({r})).ok());
  auto stats = (*w)->Close();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->record_count, 4);
  EXPECT_EQ(stats->split_offsets.size(), 4u);
  ASSERT_EQ(stats->columns.size(), 8u);
  for (const auto& c : stats->columns) {
    EXPECT_EQ(c.value_count, 4);
    EXPECT_GT(c.compressed_bytes, 0);
  }
  EXPECT_EQ(stats->columns[0].null_count, 1);
  EXPECT_EQ(stats->columns[7].null_count, 4);
  EXPECT_EQ(stats->columns[0].lower_bound, std::string("\x01", 1));
  EXPECT_EQ(stats->columns[0].upper_bound, std::string("\x01", 1));
  EXPECT_EQ(stats->columns[1].lower_bound, LE32(-5));
  EXPECT_EQ(stats->columns[1].upper_bound, LE32(7));
  EXPECT_EQ(stats->columns[2].lower_bound, LE64(-3));
  EXPECT_EQ(stats->columns[2].upper_bound, LE64(99));
  EXPECT_EQ(stats->columns[3].lower_bound, LEd(-1.25));
  EXPECT_EQ(stats->columns[3].upper_bound, LEd(2.5));
  EXPECT_EQ(stats->columns[4].lower_bound, "apple pie with a");  // 16 bytes
  EXPECT_EQ(stats->columns[4].upper_bound, "zz\xf4\x8f\xbf\xbf");  // fits: kept whole
  EXPECT_FALSE(stats->columns[5].lower_bound.has_value());  // binary: no bounds
  EXPECT_EQ(stats->columns[6].lower_bound, LE64(50));
  EXPECT_EQ(stats->columns[6].upper_bound, LE64(300));
  EXPECT_FALSE(stats->columns[7].lower_bound.has_value());
  EXPECT_FALSE(stats->columns[7].upper_bound.has_value());
  EXPECT_EQ(stats->columns[4].field_id, 5);
}

TEST(ParquetWriter, ChunkStatisticsInFooter) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "i", TypeId::kInt32, false, ""},
                                                                {2, "s", TypeId::kString, false, ""}});
  RecordBatch b(schema);
  b.column(0).AppendInt32(4);
  b.column(0).AppendNull();
  b.column(0).AppendInt32(-2);
  b.column(1).AppendString("m");
  b.column(1).AppendString(std::string(100, 'b'));
  b.column(1).AppendString("z" + std::string(100, 'y'));
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, b).ok());
  auto md = ReadFooter(path);
  const auto& si = *md.row_groups[0].columns[0].meta_data->statistics;
  EXPECT_EQ(si.min_value, LE32(-2));
  EXPECT_EQ(si.max_value, LE32(4));
  EXPECT_EQ(si.null_count, 1);
  const auto& ss = *md.row_groups[0].columns[1].meta_data->statistics;
  EXPECT_EQ(ss.null_count, 0);
  EXPECT_EQ(ss.min_value, std::string(64, 'b'));
  EXPECT_EQ(ss.max_value, "z" + std::string(62, 'y') + "z");
  EXPECT_EQ(ss.is_min_value_exact, false);
}

TEST(IcebergBounds, Truncation) {
  EXPECT_EQ(TruncateLowerBound("short"), "short");
  EXPECT_EQ(TruncateUpperBound("short"), "short");
  EXPECT_EQ(TruncateLowerBound("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
  EXPECT_EQ(TruncateUpperBound("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnoq");
  // 15 ASCII bytes then a 3-byte character: the cut never splits it.
  std::string s = std::string(15, 'a') + "日本";
  EXPECT_EQ(TruncateLowerBound(s), std::string(15, 'a'));
  EXPECT_EQ(TruncateUpperBound(s), std::string(14, 'a') + "b");
  // Last code point U+10FFFF cannot be incremented: the previous one is.
  std::string max_cp = "\xf4\x8f\xbf\xbf";
  std::string t = "ab" + std::string(10, 'c') + max_cp + "tail";
  EXPECT_EQ(TruncateUpperBound(t), "ab" + std::string(9, 'c') + "d");
  EXPECT_EQ(TruncateUpperBound(max_cp + max_cp + max_cp + max_cp + max_cp), std::nullopt);
  // U+D7FF + 1 skips the surrogates.
  std::string u = std::string(13, 'a') + "\xed\x9f\xbf" + "zz";
  EXPECT_EQ(TruncateUpperBound(u), std::string(13, 'a') + "\xee\x80\x80");
  EXPECT_EQ(TruncateUpperBound(std::string(15, 'a') + "\x7f" + "x"), std::string(15, 'a') + "\xc2\x80");
}

TEST(ParquetReader, ProjectionByIdThenNameAndMissingColumns) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  RecordBatch batch = AllTypesBatch(50);
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, batch).ok());
  // Renamed (same id), reordered, promoted int->long, and an unknown optional column.
  auto proj = std::make_shared<Schema>(9, std::vector<Field>{{7, "event_ts", TypeId::kTimestampTz, false, ""},
                                                              {2, "i", TypeId::kInt64, true, ""},
                                                              {42, "added", TypeId::kString, false, ""}});
  RecordBatch back = ReadBack(path, proj);
  ASSERT_EQ(back.num_rows(), 50u);
  for (size_t r = 0; r < 50; ++r) {
    EXPECT_TRUE(back.column(0).ValueEquals(r, batch.column(6), r));
    EXPECT_EQ(back.column(1).GetInt64(r), batch.column(1).GetInt32(r));
    EXPECT_TRUE(back.column(2).IsNull(r));
  }
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(reader.ok());
  auto req = std::make_shared<Schema>(0, std::vector<Field>{{42, "added", TypeId::kString, true, ""}});
  EXPECT_EQ((*reader)->ReadAll(req).status().code(), Status::Code::kInvalidArgument);
  auto wrong = std::make_shared<Schema>(0, std::vector<Field>{{5, "s", TypeId::kInt32, false, ""}});
  EXPECT_EQ((*reader)->ReadAll(wrong).status().code(), Status::Code::kInvalidArgument);
  // Optional file column read as required while it holds nulls.
  auto strict = std::make_shared<Schema>(0, std::vector<Field>{{5, "s", TypeId::kString, true, ""}});
  EXPECT_FALSE((*reader)->ReadAll(strict).ok());
  EXPECT_EQ((*reader)->ReadRowGroup(3).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ((*reader)->key_value_metadata().at(0).first, "iceberg.schema");
}

TEST(ThriftCompact, PageHeaderRoundTrip) {
  parquet::PageHeader h;
  h.type = parquet::kDataPageV2;
  h.uncompressed_page_size = 123456;
  h.compressed_page_size = 789;
  h.crc = -5;
  auto& v2 = h.data_page_header_v2.emplace();
  v2.num_values = 1000;
  v2.num_nulls = 17;
  v2.num_rows = 1000;
  v2.encoding = parquet::kRleDictionary;
  v2.definition_levels_byte_length = 40;
  v2.is_compressed = false;
  std::string buf;
  parquet::SerializePageHeader(h, &buf);
  buf += "trailing";
  parquet::PageHeader back;
  size_t len = 0;
  ASSERT_TRUE(parquet::ParsePageHeader(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), &back, &len).ok());
  EXPECT_EQ(len, buf.size() - 8);
  EXPECT_EQ(back.type, h.type);
  EXPECT_EQ(back.uncompressed_page_size, 123456);
  EXPECT_EQ(back.crc, -5);
  ASSERT_TRUE(back.data_page_header_v2);
  EXPECT_EQ(back.data_page_header_v2->num_nulls, 17);
  EXPECT_EQ(back.data_page_header_v2->encoding, parquet::kRleDictionary);
  EXPECT_FALSE(back.data_page_header_v2->is_compressed);
  // Every strict prefix of the header is rejected.
  for (size_t n = 0; n < len; ++n) {
    parquet::PageHeader p;
    size_t l;
    EXPECT_FALSE(parquet::ParsePageHeader(reinterpret_cast<const uint8_t*>(buf.data()), n, &p, &l).ok()) << n;
  }
}

// The writer compares only the first 65 bytes of long strings (one more than
// a bound keeps): bounds must still cover values that differ only later,
// and a value longer than the kept prefix must still be marked inexact.
TEST(ParquetWriter, LongStringBoundsFromTheKeptPrefix) {
  TempDir dir;
  std::string path = dir.str() + "/t.parquet";
  auto schema = std::make_shared<Schema>(0, std::vector<Field>{{1, "s", TypeId::kString, true, ""}});
  RecordBatch b(schema);
  const std::string m64(64, 'm');
  b.column(0).AppendString(m64 + "z" + "late difference 1");
  b.column(0).AppendString(m64 + "a" + "late difference 2");
  b.column(0).AppendString(m64 + "a" + "late difference 0");
  b.column(0).AppendString(std::string(80, 'm'));
  ASSERT_TRUE(WriteParquetFile(DefaultFileSystem(), path, b).ok());
  auto md = ReadFooter(path);
  const auto& ss = *md.row_groups[0].columns[0].meta_data->statistics;
  EXPECT_EQ(ss.min_value, m64);
  EXPECT_EQ(ss.is_min_value_exact, false);
  EXPECT_EQ(ss.max_value, std::string(63, 'm') + "n");  // above every value, though all share 64 bytes
  EXPECT_EQ(ss.is_max_value_exact, false);
}

// Encoding columns on several threads must not change a single byte: the
// parallel path is taken only where the sliced one would not cut a row
// group, and every column's pages are the same whichever thread makes them.
TEST(ParquetWriter, ThreadedEncodingWritesTheSameBytes) {
  TempDir dir;
  struct Case {
    size_t row_group_bytes;
    size_t page_bytes;
    size_t dictionary_page_limit;
  };
  const Case cases[] = {{64u << 20, 1u << 20, 1u << 20},  // one row group: every Write in parallel
                        {200u << 10, 16u << 10, 4u << 10},  // cuts row groups: both paths, dictionary overflow
                        {1, 1u << 20, 1u << 20}};          // every Write near the limit: the sliced path
  for (const Case& k : cases) {
    std::string files[2];
    for (int threads : {1, 2}) {
      ParquetWriterOptions opts;
      opts.row_group_bytes = k.row_group_bytes;
      opts.page_bytes = k.page_bytes;
      opts.dictionary_page_limit = k.dictionary_page_limit;
      opts.threads = threads;
      std::string path = dir.str() + "/t" + std::to_string(threads) + ".parquet";
      auto w = ParquetWriter::Open(DefaultFileSystem()->Create(path).value(), AllTypesSchema(), opts);
      ASSERT_TRUE(w.ok());
      for (uint32_t seed : {1u, 2u, 3u}) ASSERT_TRUE((*w)->Write(AllTypesBatch(1500 * seed, seed)).ok());
      ASSERT_TRUE((*w)->Close().ok());
      files[threads - 1] = testing::ReadFile(path);
    }
    EXPECT_GT(files[0].size(), 1000u);
    EXPECT_TRUE(files[0] == files[1]) << "row_group_bytes " << k.row_group_bytes << ": files differ";
  }
}

}  // namespace
}  // namespace ws::format
