// Inputs found by fuzz/table_metadata_fuzzer, replayed through the metadata
// parser every table open goes through.
#include <gtest/gtest.h>

#include <string>

#include "../../src/table/table_internal.h"
#include "testing/test_util.h"

namespace ws::table {
namespace {

using testing::ReadFile;
using testing::SourceDir;

std::string Seed() {
  return ReadFile(SourceDir() / "fuzz/corpus/table_metadata_fuzzer/gold.hourly_stats.metadata.json");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(MetadataFuzzRegression, SeedParses) {
  auto st = MetadataFromJson(Seed(), "/wh/gold/hourly_stats/metadata/v2.metadata.json");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
}

// get<int>() of 1e99 was an out-of-range float-to-int conversion (undefined
// behaviour, reported by UBSan); now any float is Corruption.
TEST(MetadataFuzzRegression, FloatWhereAnIntegerBelongsIsCorruption) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"\"format-version\":2", "\"format-version\":1e99"},
                                 {"\"last-column-id\":", "\"last-column-id\":-1e300,\"x\":"},
                                 {"\"format-version\":2", "\"format-version\":2.0"}}) {
    auto st = MetadataFromJson(Replace(Seed(), from, to), "/wh/t/metadata/v1.metadata.json");
    ASSERT_FALSE(st.ok()) << to;
    EXPECT_EQ(st.status().code(), Status::Code::kCorruption) << st.status().ToString();
  }
}

TEST(MetadataFuzzRegression, DeepNestingIsRejectedWithoutCrashing) {
  std::string deep = "{\"format-version\":2,\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(MetadataFromJson(deep, "/wh/t/metadata/v1.metadata.json").ok());
}

// A manifest whose Avro schema gives a partition field "field-id": 1e99 made
// ReadManifest cast the float to int (undefined behaviour); now the field
// simply does not match and the manifest is Corruption.
TEST(MetadataFuzzRegression, ManifestWithAFloatPartitionFieldIdIsCorruption) {
  const auto corpus = SourceDir() / "fuzz/corpus";
  auto state = MetadataFromJson(ReadFile(corpus / "table_metadata_fuzzer/bronze_raw_events.metadata.json"),
                                "/wh/bronze/raw_events/metadata/v2.metadata.json");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ManifestFile info;
  info.path = (corpus / "manifest_fuzzer/bronze.raw_events.manifest.avro").string();
  auto good = ReadManifest(DefaultFileSystem(), info, **state);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_FALSE(good->empty());
  info.path = (corpus / "manifest_fuzzer/regress-float-partition-field-id.avro").string();
  auto bad = ReadManifest(DefaultFileSystem(), info, **state);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption) << bad.status().ToString();
}

}  // namespace
}  // namespace ws::table
