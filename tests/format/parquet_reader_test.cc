// ParquetReader on damaged input: truncated files, flipped bits, hostile
// footers. Every case must end in a Status (Corruption for damage), never a
// crash, hang or giant allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "../../src/format/thrift_parquet.h"
#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/format/parquet_writer.h"

namespace ws::format {
namespace {

using testing::TempDir;

SchemaPtr SmallSchema() {
  return std::make_shared<Schema>(0, std::vector<Field>{{1, "id", TypeId::kInt64, true, ""},
                                                         {2, "wiki", TypeId::kString, false, ""},
                                                         {3, "ok", TypeId::kBoolean, false, ""},
                                                         {4, "x", TypeId::kDouble, false, ""},
                                                         {5, "raw", TypeId::kString, true, ""},
                                                         {6, "at", TypeId::kTimestampTz, false, ""}});
}

std::string WriteSmallFile(const std::string& path, ParquetCompression compression) {
  RecordBatch b(SmallSchema());
  for (int r = 0; r < 400; ++r) {
    b.column(0).AppendInt64(r * 31);
    if (r % 9 == 0) b.column(1).AppendNull(); else b.column(1).AppendString(r % 2 ? "enwiki" : "dewiki");
    if (r % 5 == 0) b.column(2).AppendNull(); else b.column(2).AppendBool(r % 3 == 0);
    b.column(3).AppendDouble(r * 0.25);
    b.column(4).AppendString("{\"n\":" + std::to_string(r) + "}");
    if (r % 4 == 0) b.column(5).AppendNull(); else b.column(5).AppendInt64(1700000000000000ll + r);
  }
  ParquetWriterOptions opts;
  opts.compression = compression;
  opts.page_bytes = 512;
  EXPECT_TRUE(WriteParquetFile(DefaultFileSystem(), path, b, opts).ok());
  return testing::ReadFile(path);
}

// Serves one in-memory file, so thousands of damaged variants cost no disk I/O.
class OneFileSystem : public FileSystem {
 public:
  std::string data;
  int reads = 0;  // ReadAt calls: requests, on an object store
  class File : public RandomAccessFile {
   public:
    File(const std::string* d, int* reads) : d_(d), reads_(reads) {}
    uint64_t Size() const override { return d_->size(); }
    Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
      ++*reads_;
      if (offset > d_->size() || n > d_->size() - offset) return Status::Corruption("short read");
      out->assign(*d_, offset, n);
      return Status::OK();
    }
   private:
    const std::string* d_;
    int* reads_;
  };
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string&) override {
    return std::unique_ptr<RandomAccessFile>(std::make_unique<File>(&data, &reads));
  }
  Result<std::unique_ptr<WritableFile>> Create(const std::string&) override { return No(); }
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string&) override { return No(); }
  Result<std::string> ReadAll(const std::string&) override { return data; }
  Status Rename(const std::string&, const std::string&) override { return No(); }
  Status Remove(const std::string&) override { return No(); }
  Status CreateDirs(const std::string&) override { return No(); }
  Status SyncDir(const std::string&) override { return No(); }
  Result<bool> Exists(const std::string&) override { return true; }
  Result<std::vector<FileInfo>> List(const std::string&) override { return No(); }
  Result<std::vector<FileInfo>> ListRecursive(const std::string&) override { return No(); }
 private:
  static Status No() { return Status::NotSupported("in-memory test file system"); }
};

// Opens and reads everything; returns the first error.
Status ReadBytes(const std::string& bytes) {
  OneFileSystem fs;
  fs.data = bytes;
  auto reader = ParquetReader::Open(&fs, "mem.parquet");
  if (!reader.ok()) return reader.status();
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    auto rg = (*reader)->ReadRowGroup(g);
    if (!rg.ok()) return rg.status();
  }
  return Status::OK();
}

Status ReadEverything(const std::string& path) {
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  if (!reader.ok()) return reader.status();
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    auto rg = (*reader)->ReadRowGroup(g);
    if (!rg.ok()) return rg.status();
  }
  return Status::OK();
}

// On an object store each ReadAt is a request: opening costs one read (the
// file's end, footer included), and a row group one read for its chunks
// that lie together, one more for a chunk beyond a large unread one.
TEST(ParquetReads, ChunksThatLieTogetherAreReadTogether) {
  RecordBatch b(SmallSchema());
  std::mt19937 rng(7);
  for (int r = 0; r < 3000; ++r) {
    b.column(0).AppendInt64(r);
    b.column(1).AppendString(r % 2 ? "enwiki" : "dewiki");
    b.column(2).AppendBool(r % 3 == 0);
    b.column(3).AppendDouble(r * 0.5);
    std::string raw(300, ' ');
    for (char& ch : raw) ch = static_cast<char>('a' + rng() % 26);  // ~180 KiB compressed per 1000 rows
    b.column(4).AppendString(raw);
    b.column(5).AppendInt64(1700000000000000ll + r);
  }
  TempDir dir;
  ParquetWriterOptions opts;
  opts.row_group_bytes = 300u << 10;
  {
    auto file = DefaultFileSystem()->Create(dir.str() + "/f.parquet");
    ASSERT_TRUE(file.ok());
    auto writer = ParquetWriter::Open(std::move(*file), SmallSchema(), opts);
    ASSERT_TRUE(writer.ok());
    for (uint32_t from = 0; from < b.num_rows(); from += 500) {  // row groups are cut between writes
      std::vector<uint32_t> rows;
      for (uint32_t r = from; r < from + 500; ++r) rows.push_back(r);
      RecordBatch part = b;
      part.RetainRows(rows);
      ASSERT_TRUE((*writer)->Write(part).ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  OneFileSystem fs;
  fs.data = testing::ReadFile(dir.str() + "/f.parquet");
  auto reader = ParquetReader::Open(&fs, "f.parquet");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(fs.reads, 1);
  const int groups = (*reader)->num_row_groups();
  ASSERT_GE(groups, 2);

  auto read_all = [&](const SchemaPtr& projection) {
    fs.reads = 0;
    RecordBatch out(projection ? projection : SmallSchema());
    for (int g = 0; g < groups; ++g) {
      auto rg = (*reader)->ReadRowGroup(g, projection);
      EXPECT_TRUE(rg.ok()) << rg.status().ToString();
      if (rg.ok()) out.Append(*rg);
    }
    return out;
  };
  RecordBatch whole = read_all(nullptr);
  EXPECT_EQ(fs.reads, groups);  // every chunk of a group in one read
  ASSERT_EQ(whole.num_rows(), b.num_rows());
  // Both ends of the row: `raw` lies between them, far more than the gap bridged.
  auto ends = std::make_shared<Schema>(0, std::vector<Field>{SmallSchema()->field(5), SmallSchema()->field(0)});
  RecordBatch projected = read_all(ends);
  EXPECT_EQ(fs.reads, 2 * groups);
  ASSERT_EQ(projected.num_rows(), b.num_rows());
  for (size_t r = 0; r < b.num_rows(); ++r) {
    ASSERT_TRUE(projected.column(0).ValueEquals(r, b.column(5), r)) << r;
    ASSERT_TRUE(projected.column(1).ValueEquals(r, b.column(0), r)) << r;
    ASSERT_TRUE(whole.column(4).ValueEquals(r, b.column(4), r)) << r;
  }
}

class ParquetDamage : public ::testing::TestWithParam<ParquetCompression> {};

TEST_P(ParquetDamage, EveryTruncationIsCorruption) {
  TempDir dir;
  std::string good = WriteSmallFile(dir.str() + "/good.parquet", GetParam());
  ASSERT_TRUE(ReadEverything(dir.str() + "/good.parquet").ok());
  // Every length near the end (footer) and a sample through the data.
  for (size_t n = 0; n < good.size(); n += (n + 600 > good.size() ? 1 : 3)) {
    Status s = ReadBytes(good.substr(0, n));
    ASSERT_EQ(s.code(), Status::Code::kCorruption) << "length " << n << ": " << s.ToString();
  }
}

TEST_P(ParquetDamage, FlippedBitsNeverCrash) {
  TempDir dir;
  std::string good = WriteSmallFile(dir.str() + "/good.parquet", GetParam());
  std::mt19937 rng(1234);
  int corruption = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::string data = good;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      // Half of the flips hit the footer, where structure lives.
      size_t footer_start = good.size() - 8 - 600;
      size_t pos = (trial % 2) ? footer_start + rng() % 600 : rng() % good.size();
      data[pos] = static_cast<char>(data[pos] ^ (1 << (rng() % 8)));
    }
    Status s = ReadBytes(data);
    // A flip inside a value can legitimately decode to another value; a
    // structural flip must be reported, never crash.
    if (!s.ok()) {
      EXPECT_TRUE(s.code() == Status::Code::kCorruption || s.code() == Status::Code::kNotSupported ||
                  s.code() == Status::Code::kInvalidArgument)
          << s.ToString();
      ++corruption;
    }
  }
  EXPECT_GT(corruption, 1000);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ParquetDamage,
                         ::testing::Values(ParquetCompression::kZstd, ParquetCompression::kUncompressed));

// Rewrites the footer of a good file after `edit` changed its metadata.
std::string WithFooter(const std::string& good, const std::function<void(parquet::FileMetaData*)>& edit) {
  uint32_t len;
  std::memcpy(&len, good.data() + good.size() - 8, 4);
  parquet::FileMetaData md;
  EXPECT_TRUE(parquet::ParseFileMetaData(reinterpret_cast<const uint8_t*>(good.data()) + good.size() - 8 - len, len,
                                         &md).ok());
  edit(&md);
  std::string out = good.substr(0, good.size() - 8 - len);
  std::string footer;
  parquet::SerializeFileMetaData(md, &footer);
  uint32_t flen = static_cast<uint32_t>(footer.size());
  out += footer;
  out.append(reinterpret_cast<const char*>(&flen), 4);
  out += "PAR1";
  return out;
}

TEST(ParquetReaderHostile, LyingFootersAreCorruption) {
  TempDir dir;
  std::string good = WriteSmallFile(dir.str() + "/good.parquet", ParquetCompression::kZstd);
  std::string path = dir.str() + "/bad.parquet";
  struct Case {
    const char* name;
    std::function<void(parquet::FileMetaData*)> edit;
  };
  const Case cases[] = {
      {"huge row count", [](auto* md) { md->row_groups[0].num_rows = int64_t{1} << 40; md->num_rows = int64_t{1} << 40; }},
      {"rows disagree", [](auto* md) { md->num_rows += 1; }},
      {"more rows than pages", [](auto* md) { md->row_groups[0].num_rows += 5; md->num_rows += 5; }},
      {"chunk past the end", [](auto* md) { md->row_groups[0].columns[1].meta_data->total_compressed_size = 1 << 30; }},
      {"negative chunk size", [](auto* md) { md->row_groups[0].columns[1].meta_data->total_compressed_size = -4; }},
      {"offset before magic", [](auto* md) { md->row_groups[0].columns[0].meta_data->data_page_offset = 0; }},
      {"offset into footer", [](auto* md) {
         auto& m = *md->row_groups[0].columns[0].meta_data;
         m.data_page_offset = 1 << 20;
       }},
      {"missing column chunk", [](auto* md) { md->row_groups[0].columns.pop_back(); }},
      {"chunk type differs", [](auto* md) { md->row_groups[0].columns[0].meta_data->type = parquet::kDoubleT; }},
      {"dictionary offset into other column", [](auto* md) {
         auto& m = *md->row_groups[0].columns[1].meta_data;
         m.dictionary_page_offset.reset();
         m.data_page_offset += 3;
       }},
  };
  for (const auto& c : cases) {
    testing::WriteFile(path, WithFooter(good, c.edit));
    Status s = ReadEverything(path);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << c.name << ": " << s.ToString();
  }
  // Nested schemas and unknown codecs are NotSupported.
  testing::WriteFile(path, WithFooter(good, [](auto* md) { md->schema[1].num_children = 1; }));
  EXPECT_FALSE(ReadEverything(path).ok());
  testing::WriteFile(path, WithFooter(good, [](auto* md) {
    for (auto& c : md->row_groups[0].columns) c.meta_data->codec = parquet::kLzo;
  }));
  EXPECT_EQ(ReadEverything(path).code(), Status::Code::kNotSupported);
  testing::WriteFile(path, WithFooter(good, [](auto* md) {
    for (auto& c : md->row_groups[0].columns) c.meta_data->codec = parquet::kGzip;
  }));
  EXPECT_EQ(ReadEverything(path).code(), Status::Code::kNotSupported);
}

TEST(ParquetReaderHostile, GarbageAndTinyFiles) {
  TempDir dir;
  std::string path = dir.str() + "/x.parquet";
  const std::string cases[] = {
      "", "PAR1", "PAR1PAR1", std::string("PAR1\0\0\0\0PAR1", 12), std::string("PAR1\xff\xff\xff\x7fPAR1", 12),
      "PAR1" + std::string(100, '\x19') + std::string("\x64\0\0\0PAR1", 8),   // footer of nested lists
      "PAR1" + std::string(100, '\x1c') + std::string("\x64\0\0\0PAR1", 8),   // deep structs
      "PAR1" + std::string(100, '\xf9') + std::string("\x64\0\0\0PAR1", 8),   // huge list sizes
      "not a parquet file at all, just some text that is long enough",
  };
  for (const auto& c : cases) {
    testing::WriteFile(path, c);
    auto reader = ParquetReader::Open(DefaultFileSystem(), path);
    EXPECT_FALSE(reader.ok()) << c.size();
    if (!reader.ok()) {
      EXPECT_EQ(reader.status().code(), Status::Code::kCorruption) << reader.status().ToString();
    }
  }
  EXPECT_EQ(ParquetReader::Open(DefaultFileSystem(), dir.str() + "/absent.parquet").status().code(),
            Status::Code::kNotFound);
}

}  // namespace
}  // namespace ws::format

namespace ws::format {
namespace {

// A one-column, one-page, uncompressed file built from raw page bytes, for
// encodings our writer never produces.
std::string HandBuiltFile(int32_t physical, int32_t converted, int32_t encoding, const std::string& body,
                          int32_t num_values) {
  std::string file = "PAR1";
  parquet::PageHeader h;
  h.type = parquet::kDataPage;
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(body.size());
  auto& dp = h.data_page_header.emplace();
  dp.num_values = num_values;
  dp.encoding = encoding;
  std::string header;
  parquet::SerializePageHeader(h, &header);
  file += header + body;
  parquet::FileMetaData md;
  parquet::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  parquet::SchemaElement col;
  col.name = "v";
  col.type = physical;
  col.repetition_type = parquet::kRequired;
  if (converted >= 0) col.converted_type = converted;
  md.schema = {root, col};
  md.num_rows = num_values;
  parquet::RowGroup g;
  g.num_rows = num_values;
  auto& cc = g.columns.emplace_back();
  auto& m = cc.meta_data.emplace();
  m.type = physical;
  m.encodings = {encoding};
  m.path_in_schema = {"v"};
  m.num_values = num_values;
  m.total_compressed_size = m.total_uncompressed_size = static_cast<int64_t>(header.size() + body.size());
  m.data_page_offset = 4;
  md.row_groups.push_back(g);
  std::string footer;
  parquet::SerializeFileMetaData(md, &footer);
  uint32_t len = static_cast<uint32_t>(footer.size());
  file += footer;
  file.append(reinterpret_cast<const char*>(&len), 4);
  return file + "PAR1";
}

TEST(ParquetReaderEncodings, DeltaByteArrayAndNegativeDeltas) {
  TempDir dir;
  std::string path = dir.str() + "/d.parquet";
  // DELTA_BYTE_ARRAY of ["abc", "abd", "b"]: prefix lengths [0, 2, 0], suffixes
  // ["abc", "d", "b"] (lengths [3, 1, 1]); each length list is
  // DELTA_BINARY_PACKED with blocks of 128 values in 4 miniblocks.
  // prefix lengths 0, 2, 0: deltas +2, -2 -> min_delta -2 (zigzag 3); the
  // deltas minus min_delta (4, 0) packed 3 bits wide: 32 x 3 bits = 12 bytes.
  std::string pre("\x80\x01\x04\x03\x00" "\x03" "\x03\x00\x00\x00", 10);
  std::string mini(12, '\0');
  mini[0] = 0x04;  // 4 in bits 0-2, 0 in bits 3-5
  pre += mini;
  // suffix lengths 3, 1, 1: deltas -2, 0 -> min_delta -2; (0, 2) packed 2 bits wide.
  std::string lens("\x80\x01\x04\x03\x06" "\x03" "\x02\x00\x00\x00", 10);
  std::string mini2(8, '\0');
  mini2[0] = 0x08;  // 0 in bits 0-1, 2 in bits 2-3
  lens += mini2;
  std::string body = pre + lens + "abcdb";
  testing::WriteFile(path, HandBuiltFile(parquet::kByteArrayT, parquet::kUtf8, parquet::kDeltaByteArray, body, 3));
  auto reader = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto all = (*reader)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->num_rows(), 3u);
  EXPECT_EQ(all->column(0).GetString(0), "abc");
  EXPECT_EQ(all->column(0).GetString(1), "abd");
  EXPECT_EQ(all->column(0).GetString(2), "b");

  // A prefix longer than the previous value is Corruption.
  std::string bad = body;
  bad[4] = 0x0A;  // first value 5 instead of 0
  testing::WriteFile(path, HandBuiltFile(parquet::kByteArrayT, parquet::kUtf8, parquet::kDeltaByteArray, bad, 3));
  auto r2 = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)->ReadAll().status().code(), Status::Code::kCorruption);

  // INT64 DELTA_BINARY_PACKED: 10, 7, 4 (min_delta -3, zero bit width).
  std::string ints("\x80\x01\x04\x03\x14" "\x05" "\x00\x00\x00\x00", 10);
  testing::WriteFile(path, HandBuiltFile(parquet::kInt64T, -1, parquet::kDeltaBinaryPacked, ints, 3));
  auto r3 = ParquetReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(r3.ok());
  auto vals = (*r3)->ReadAll();
  ASSERT_TRUE(vals.ok()) << vals.status().ToString();
  EXPECT_EQ(vals->column(0).GetInt64(0), 10);
  EXPECT_EQ(vals->column(0).GetInt64(1), 7);
  EXPECT_EQ(vals->column(0).GetInt64(2), 4);
}

}  // namespace
}  // namespace ws::format
