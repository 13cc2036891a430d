#include "wikistream/common/hash.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <string>
#include <unordered_set>
#include <vector>

namespace ws {
namespace {

// The sets replace std::unordered_set in DQ counts, so they must agree with
// it exactly, including across growth and for values that hash alike.
TEST(StringViewSetTest, AgreesWithUnorderedSetAcrossGrowth) {
  std::mt19937_64 rng(42);
  std::vector<std::string> values;
  for (int i = 0; i < 50000; ++i) values.push_back(std::to_string(rng() % 20000));
  values.push_back("");
  values.push_back("");
  StringViewSet set;  // starts small: grows many times
  std::unordered_set<std::string> expected;
  for (const std::string& v : values) {
    EXPECT_EQ(set.Insert(v), expected.insert(v).second) << v;
  }
  EXPECT_EQ(set.size(), expected.size());
  for (int i = 0; i < 20000; ++i) EXPECT_EQ(set.Contains(std::to_string(i)), expected.count(std::to_string(i)) > 0);
  EXPECT_FALSE(set.Contains("not there"));
}

TEST(StringViewSetTest, ComparesBytesNotOnlyLengthOrPrefix) {
  StringViewSet set(4);
  EXPECT_TRUE(set.Insert("abc"));
  EXPECT_TRUE(set.Insert("abd"));
  EXPECT_TRUE(set.Insert("ab"));
  EXPECT_TRUE(set.Insert(std::string_view("ab\0", 3)));
  EXPECT_FALSE(set.Insert("abc"));
  EXPECT_EQ(set.size(), 4u);
}

TEST(Int64SetTest, AgreesWithUnorderedSetIncludingTheMarkerValue) {
  std::mt19937_64 rng(7);
  Int64Set set;
  std::unordered_set<int64_t> expected;
  std::vector<int64_t> values = {INT64_MIN, INT64_MIN, 0, 0, -1, INT64_MAX};
  for (int i = 0; i < 100000; ++i) values.push_back(static_cast<int64_t>(rng() % 30000) - 15000);
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<int64_t>(i) << 40);  // low bits all zero
  for (int64_t v : values) EXPECT_EQ(set.Insert(v), expected.insert(v).second) << v;
  EXPECT_EQ(set.size(), expected.size());
}

TEST(FlatSet64Test, AgreesWithUnorderedSetIncludingEveryReservedValue) {
  std::mt19937_64 rng(11);
  FlatSet64 set;
  std::unordered_set<uint64_t> expected;
  std::vector<uint64_t> values = {UINT64_MAX, UINT64_MAX, 0, 0, 1};
  for (int i = 0; i < 100000; ++i) values.push_back(rng() % 40000);
  for (uint64_t i = 0; i < 1000; ++i) values.push_back(i << 32);  // gold's (group << 32 | id) keys
  for (uint64_t v : values) EXPECT_EQ(set.Insert(v), expected.insert(v).second) << v;
  EXPECT_EQ(set.size(), expected.size());
}

TEST(FlatMap64Test, KeepsTheFirstValueOfEachKeyAcrossGrowth) {
  std::mt19937_64 rng(3);
  FlatMap64 map;
  std::unordered_map<uint64_t, int32_t> expected;
  for (int32_t i = 0; i < 100000; ++i) {
    const uint64_t key = (rng() % 500) << 32 | (rng() % 100);
    auto [value, inserted] = map.FindOrInsert(key, i);
    auto [it, want_inserted] = expected.emplace(key, i);
    EXPECT_EQ(inserted, want_inserted);
    EXPECT_EQ(value, it->second);
  }
}

// DLQ ids are derived with Mix64: its values must never change.
TEST(Mix64Test, IsMurmur3sFinalizer) {
  EXPECT_EQ(Mix64(0), 0u);
  EXPECT_EQ(Mix64(1), 0xb456bcfc34c2cb2cULL);
  EXPECT_EQ(Mix64(0x0123456789abcdefULL), Mix64(0x0123456789abcdefULL));
  EXPECT_NE(Mix64(2), Mix64(3));
}

TEST(IdKeySetTest, UuidsKeepTheirBitsOtherIdsAreHashedApart) {
  const IdKey uuid = MakeIdKey("0190c5e8-1a2b-4c3d-8e4f-5a6b7c8d9e0f");
  EXPECT_EQ(uuid.hi, 0x0190c5e81a2b4c3dULL);
  EXPECT_EQ(uuid.lo, 0x8e4f5a6b7c8d9e0fULL);
  const IdKey hashed = MakeIdKey("enwiki-12345");
  EXPECT_NE(hashed.hi & (1ULL << 63), 0u);  // never a parsed UUID v4's key
  EXPECT_EQ(MakeIdKey("enwiki-12345"), hashed);
  IdKeySet set;
  EXPECT_FALSE(set.Contains(uuid));
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(set.Insert(MakeIdKey("id-" + std::to_string(i))));
  EXPECT_TRUE(set.Insert(uuid));
  EXPECT_FALSE(set.Insert(MakeIdKey("0190C5E8-1A2B-4C3D-8E4F-5A6B7C8D9E0F")));  // the same UUID in capitals
  EXPECT_TRUE(set.Insert(MakeIdKey("00000000-0000-0000-0000-000000000000")));  // the empty-slot bits
  EXPECT_EQ(set.size(), 10002u);
  EXPECT_TRUE(set.Contains(MakeIdKey("id-9999")));
}

}  // namespace
}  // namespace ws
