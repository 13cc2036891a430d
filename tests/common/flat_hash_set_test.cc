#include "wikistream/common/flat_hash_set.h"

#include <gtest/gtest.h>

#include <random>
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

}  // namespace
}  // namespace ws
