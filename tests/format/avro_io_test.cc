#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/test_util.h"
#include "wikistream/format/avro.h"

namespace ws::format {
namespace {

using testing::RunCommand;
using testing::SourceDir;
using testing::TempDir;

std::string Node(const std::string& args, int* rc) {
  std::string out;
  *rc = RunCommand("node " + (SourceDir() / "tests/interop/avro_check.mjs").string() + " " + args + " 2>&1", &out);
  return out;
}

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o.push_back(d[c >> 4]);
    o.push_back(d[c & 15]);
  }
  return o;
}

// A schema in the style of Iceberg manifests: extra attributes on fields,
// arrays of key/value records standing for maps, optional unions.
const char* kSchema = R"({"type":"record","name":"entry","fields":[
 {"name":"status","type":"int","field-id":0},
 {"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},
 {"name":"path","type":"string","field-id":100},
 {"name":"counts","type":["null",{"type":"array","items":{"type":"record","name":"k1_v2","fields":[
   {"name":"key","type":"int","field-id":1},{"name":"value","type":"long","field-id":2}]},"logicalType":"map"}],
   "default":null,"field-id":108},
 {"name":"bound","type":["null","bytes"],"default":null,"field-id":125},
 {"name":"offsets","type":["null",{"type":"array","items":"long","element-id":133}],"default":null,"field-id":132},
 {"name":"ratio","type":"double"}]})";

AvroValue MakeRecord(int i) {
  AvroValue counts = AvroValue::Array({});
  for (int k = 0; k < i % 3; ++k) counts.items.push_back(AvroValue::Record({AvroValue::Int(k), AvroValue::Long(k * 1000000000000LL)}));
  return AvroValue::Record({
      AvroValue::Int(i % 3),
      i % 2 ? AvroValue::Long(int64_t{1} << 50) : AvroValue::Null(),
      AvroValue::String("/data/file-" + std::to_string(i) + ".parquet"),
      i % 4 == 0 ? AvroValue::Null() : counts,
      AvroValue::Bytes(std::string("\x00\xff\x01", 3)),
      AvroValue::Array({AvroValue::Long(4), AvroValue::Long(-i)}),
      AvroValue::Double(i / 4.0),
  });
}

TEST(AvroTest, RoundTripAndSchemaTextKeptVerbatim) {
  TempDir dir;
  std::string path = dir.str() + "/x.avro";
  auto file = DefaultFileSystem()->Create(path);
  ASSERT_TRUE(file.ok());
  auto w = AvroFileWriter::Open(std::move(*file), kSchema, {{"format-version", "2"}}, /*block_bytes=*/100);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE((*w)->Append(MakeRecord(i)).ok());
  ASSERT_TRUE((*w)->Close().ok());

  auto r = AvroFileReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->schema_json(), kSchema);
  EXPECT_EQ((*r)->metadata().at("format-version"), "2");
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 40u);
  for (int i = 0; i < 40; ++i) {
    const AvroValue& v = (*all)[i];
    EXPECT_EQ(v.items[0].integer, i % 3);
    EXPECT_EQ(v.items[1].is_null(), i % 2 == 0);
    EXPECT_EQ(v.items[2].bytes, "/data/file-" + std::to_string(i) + ".parquet");
    if (i % 4 == 0) EXPECT_TRUE(v.items[3].is_null());
    else EXPECT_EQ(v.items[3].items.size(), static_cast<size_t>(i % 3));
    EXPECT_EQ(v.items[4].bytes, std::string("\x00\xff\x01", 3));
    EXPECT_EQ(v.items[5].items[1].integer, -i);
    EXPECT_DOUBLE_EQ(v.items[6].real, i / 4.0);
  }
}

TEST(AvroTest, AvscReadsOurFileAndSeesFieldIds) {
  TempDir dir;
  std::string path = dir.str() + "/x.avro";
  auto file = DefaultFileSystem()->Create(path);
  ASSERT_TRUE(file.ok());
  auto w = AvroFileWriter::Open(std::move(*file), kSchema, {{"content", "data"}}, 100);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE((*w)->Append(MakeRecord(i)).ok());
  ASSERT_TRUE((*w)->Close().ok());

  int rc;
  std::string out = Node("read " + path, &rc);
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["metadata"]["content"], "data");
  EXPECT_EQ(j["schema"]["fields"][1]["field-id"], 1);
  EXPECT_EQ(j["schema"]["fields"][3]["type"][1]["logicalType"], "map");
  EXPECT_EQ(j["schema"]["fields"][5]["type"][1]["element-id"], 133);
  ASSERT_EQ(j["records"].size(), 25u);
  const auto& r7 = j["records"][7];
  EXPECT_EQ(r7["status"], 1);
  EXPECT_EQ(r7["snapshot_id"], int64_t{1} << 50);
  EXPECT_EQ(r7["path"], "/data/file-7.parquet");
  EXPECT_EQ(r7["counts"][0]["key"], 0);
  EXPECT_EQ(r7["counts"][0]["value"], 0);
  EXPECT_EQ(r7["bound"], "00ff01");
  EXPECT_EQ(r7["offsets"][1], -7);
  EXPECT_DOUBLE_EQ(r7["ratio"].get<double>(), 7 / 4.0);
  EXPECT_TRUE(j["records"][8]["counts"].is_null());
}

TEST(AvroTest, ReadsAvscWrittenFile) {
  TempDir dir;
  std::string path = dir.str() + "/avsc.avro";
  int rc;
  std::string out = Node("write " + path, &rc);
  ASSERT_EQ(rc, 0) << out;
  auto expected = nlohmann::json::parse(out);
  auto r = AvroFileReader::Open(DefaultFileSystem(), path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), expected.size());
  const AvroNode& s = *(*r)->schema();
  for (size_t n = 0; n < all->size(); ++n) {
    const AvroValue& v = (*all)[n];
    const auto& e = expected[n];
    auto f = [&](const char* name) -> const AvroValue& { return v.items[s.FieldIndex(name)]; };
    EXPECT_EQ(f("b").boolean, e["b"].get<bool>());
    EXPECT_EQ(f("i").integer, e["i"].get<int64_t>());
    EXPECT_EQ(f("l").integer, e["l"].get<int64_t>());
    EXPECT_FLOAT_EQ(static_cast<float>(f("f").real), 1.5f);
    EXPECT_DOUBLE_EQ(f("d").real, e["d"].get<double>());
    EXPECT_EQ(f("s").bytes, e["s"].get<std::string>());
    EXPECT_EQ(Hex(f("by").bytes), e["by"].get<std::string>());
    if (e["opt"].is_null()) EXPECT_TRUE(f("opt").is_null());
    else EXPECT_EQ(f("opt").integer, e["opt"].get<int64_t>());
    EXPECT_EQ(f("arr").items.size(), e["arr"].size());
    EXPECT_EQ(f("m").entries.size(), e["m"].size());
    EXPECT_EQ(f("e").bytes, e["e"].get<std::string>());
    EXPECT_EQ(Hex(f("fx").bytes), e["fx"].get<std::string>());
    EXPECT_EQ(f("inner").items[0].bytes, e["inner"]["x"].get<std::string>());
    EXPECT_EQ(f("again").items[0].bytes, "");
  }
}

TEST(AvroTest, GarbageAndTruncationAreCorruptionNotCrashes) {
  TempDir dir;
  std::string path = dir.str() + "/x.avro";
  auto file = DefaultFileSystem()->Create(path);
  ASSERT_TRUE(file.ok());
  auto w = AvroFileWriter::Open(std::move(*file), kSchema, {}, 64);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*w)->Append(MakeRecord(i)).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto bytes = DefaultFileSystem()->ReadAll(path);
  ASSERT_TRUE(bytes.ok());
  for (size_t cut = 0; cut < bytes->size(); ++cut) {
    auto r = AvroFileReader::FromBytes(bytes->substr(0, cut));
    if (!r.ok()) continue;
    auto all = (*r)->ReadAll();
    // A cut exactly at a block boundary is a valid shorter file.
    if (all.ok()) {
      EXPECT_LT(all->size(), 10u);
    }
  }
  std::string flipped = *bytes;
  for (size_t i = 0; i < flipped.size(); i += 7) {
    std::string b = flipped;
    b[i] = static_cast<char>(b[i] ^ 0x5a);
    auto r = AvroFileReader::FromBytes(b);
    if (r.ok()) (void)(*r)->ReadAll();  // only that hostile input neither crashes nor hangs
  }
  EXPECT_FALSE(AvroFileReader::FromBytes("Obj\x01garbage").ok());
  EXPECT_FALSE(ParseAvroSchema(R"({"type":"record","name":"x","fields":[{"name":"a","type":"nope"}]})").ok());
  // A value that does not fit the schema is refused, not written.
  auto parsed = ParseAvroSchema(kSchema);
  ASSERT_TRUE(parsed.ok());
  std::string out;
  EXPECT_FALSE(AvroEncode(**parsed, AvroValue::Record({AvroValue::String("x")}), &out).ok());
}

}  // namespace
}  // namespace ws::format
