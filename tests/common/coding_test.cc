#include "wikistream/common/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ws {
namespace {

TEST(CodingTest, VarintsRoundTripAtEveryLength) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
  for (int bits = 0; bits < 64; ++bits) values.push_back(uint64_t{1} << bits);
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  size_t pos = 0;
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(buf, &pos, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(pos, buf.size());
  std::string one;
  PutVarint64(&one, UINT64_MAX);
  EXPECT_EQ(one.size(), static_cast<size_t>(kMaxVarint64Length));
  std::string small;
  PutVarint64(&small, 300);
  EXPECT_EQ(small, std::string("\xac\x02"));  // the protobuf documentation's example
}

TEST(CodingTest, RejectsTruncatedAndOverlongVarintsWithoutReadingPastTheEnd) {
  uint64_t v = 0;
  const std::string truncated = "\x80\x80";
  size_t pos = 0;
  EXPECT_FALSE(GetVarint64(truncated, &pos, &v));
  EXPECT_EQ(pos, 0u);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(truncated.data());
  EXPECT_EQ(GetVarint64Ptr(p, p + truncated.size(), &v), nullptr);
  EXPECT_EQ(GetVarint64Ptr(p, p, &v), nullptr);  // empty
  // A 10th byte above 1 would need a 65th bit; an 11th byte is never valid.
  std::string over(9, '\xff');
  over.push_back('\x02');
  pos = 0;
  EXPECT_FALSE(GetVarint64(over, &pos, &v));
  std::string eleven(10, '\x80');
  eleven.push_back('\x00');
  pos = 0;
  EXPECT_FALSE(GetVarint64(eleven, &pos, &v));
  pos = 5;
  EXPECT_FALSE(GetVarint64("ab", &pos, &v));  // a position past the end
}

TEST(CodingTest, ZigZagKeepsSmallMagnitudesSmall) {
  EXPECT_EQ(ZigZagEncode64(0), 0u);
  EXPECT_EQ(ZigZagEncode64(-1), 1u);
  EXPECT_EQ(ZigZagEncode64(1), 2u);
  EXPECT_EQ(ZigZagEncode64(-2), 3u);
  EXPECT_EQ(ZigZagEncode32(-1), 1u);
  EXPECT_EQ(ZigZagEncode32(std::numeric_limits<int32_t>::min()), UINT32_MAX);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{63}, int64_t{-64}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ZigZagDecode64(ZigZagEncode64(v)), v);
  }
  for (int32_t v : {0, -1, 1000, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}) {
    EXPECT_EQ(ZigZagDecode32(ZigZagEncode32(v)), v);
  }
}

}  // namespace
}  // namespace ws
