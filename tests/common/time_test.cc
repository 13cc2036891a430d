#include "wikistream/common/time.h"

#include <gtest/gtest.h>

#include "wikistream/common/result.h"
#include "wikistream/common/uuid.h"

namespace ws {
namespace {

TEST(TimeTest, ParsesTheForms_EventStreamsUses) {
  EXPECT_EQ(ParseIso8601Micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601Micros("2024-08-22T10:00:00Z"), 1724320800LL * 1000000);
  EXPECT_EQ(ParseIso8601Micros("2024-08-22T10:00:00.123Z"), 1724320800LL * 1000000 + 123000);
  EXPECT_EQ(ParseIso8601Micros("2018-03-07T10:00:00+00:00"), 1520416800LL * 1000000);
  EXPECT_EQ(ParseIso8601Micros("2024-08-22T12:00:00+02:00"), 1724320800LL * 1000000);
  EXPECT_EQ(ParseIso8601Micros("2024-08-22T10:00:00.1234567Z"), 1724320800LL * 1000000 + 123456);
}

TEST(TimeTest, RejectsMalformedAndImpossibleTimes) {
  EXPECT_FALSE(ParseIso8601Micros(""));
  EXPECT_FALSE(ParseIso8601Micros("yesterday"));
  EXPECT_FALSE(ParseIso8601Micros("2024-08-22T10:00:00"));  // no zone
  EXPECT_FALSE(ParseIso8601Micros("2024-02-30T10:00:00Z"));
  EXPECT_FALSE(ParseIso8601Micros("2024-08-22T24:00:00Z"));
  EXPECT_FALSE(ParseIso8601Micros("2024-08-22T10:00:00.Z"));
  EXPECT_FALSE(ParseIso8601Micros("2024-08-22T10:00:00Zjunk"));
}

TEST(TimeTest, FormatsDatesHoursAndInstants) {
  int64_t t = *ParseIso8601Micros("2023-12-31T23:59:59.5Z");
  EXPECT_EQ(FormatDate(t), "2023-12-31");
  EXPECT_EQ(HourOfDay(t), 23);
  EXPECT_EQ(FormatIso8601(t), "2023-12-31T23:59:59.500000Z");
  EXPECT_EQ(FormatIso8601Millis(t), "2023-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(HourOfDay(-1), 23);
  EXPECT_EQ(NextDate("2024-02-28"), "2024-02-29");
  EXPECT_EQ(NextDate("2023-12-31"), "2024-01-01");
  EXPECT_EQ(PreviousDate("2024-03-01"), "2024-02-29");
}

TEST(ResultTest, CarriesValueOrStatus) {
  Result<int> good = 7;
  Result<int> bad = Status::NotFound("nope");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "Not found: nope");
  EXPECT_EQ(bad.value_or(3), 3);
  EXPECT_EQ(Status::IOError("x").WithContext("commit").message(), "commit: x");
}

TEST(UuidTest, IsVersion4AndUnique) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ws
