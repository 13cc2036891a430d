#include "wikistream/format/record_batch.h"

#include <gtest/gtest.h>

namespace ws::format {
namespace {

SchemaPtr MixedSchema() {
  return std::make_shared<Schema>(0, std::vector<Field>{{1, "s", TypeId::kString, false, ""},
                                                      {2, "i", TypeId::kInt32, false, ""},
                                                      {3, "l", TypeId::kInt64, false, ""},
                                                      {4, "d", TypeId::kDouble, false, ""},
                                                      {5, "b", TypeId::kBoolean, false, ""}});
}

RecordBatch Rows(int from, int count) {
  RecordBatch b(MixedSchema());
  for (int k = from; k < from + count; ++k) {
    if (k % 4 == 0) {
      for (auto& c : b.columns()) c.AppendNull();
      continue;
    }
    b.column(0).AppendString(std::string(static_cast<size_t>(k % 7), static_cast<char>('a' + k % 26)));
    b.column(1).AppendInt32(k);
    b.column(2).AppendInt64(int64_t{k} << 33);
    b.column(3).AppendDouble(k / 3.0);
    b.column(4).AppendBool(k % 3 == 0);
  }
  return b;
}

void ExpectSameRows(const RecordBatch& a, const std::vector<std::pair<const RecordBatch*, size_t>>& expected) {
  ASSERT_EQ(a.num_rows(), expected.size());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    size_t nulls = 0;
    for (size_t r = 0; r < expected.size(); ++r) {
      EXPECT_TRUE(a.column(c).ValueEquals(r, expected[r].first->column(c), expected[r].second)) << c << "/" << r;
      nulls += a.column(c).IsNull(r);
    }
    EXPECT_EQ(a.column(c).null_count(), nulls);
  }
  EXPECT_TRUE(a.Validate().ok());
}

// Bulk Append and Take must give exactly what row-by-row copies give:
// string offsets rebased, nulls counted, every storage vector extended.
TEST(RecordBatchTest, AppendConcatenatesEveryColumnType) {
  RecordBatch first = Rows(0, 10), second = Rows(10, 13);
  RecordBatch joined = Rows(0, 10);
  joined.Append(second);
  std::vector<std::pair<const RecordBatch*, size_t>> expected;
  for (size_t r = 0; r < 10; ++r) expected.emplace_back(&first, r);
  for (size_t r = 0; r < 13; ++r) expected.emplace_back(&second, r);
  ExpectSameRows(joined, expected);
  joined.column(0).AppendString("tail");  // offsets still consistent after the bulk append
  EXPECT_EQ(joined.column(0).GetString(23), "tail");
}

TEST(RecordBatchTest, TakeGathersRowsInTheGivenOrderWithRepeats) {
  RecordBatch src = Rows(0, 17);
  std::vector<uint32_t> rows = {16, 0, 3, 3, 8, 1};
  RecordBatch taken = src.Take(rows);
  std::vector<std::pair<const RecordBatch*, size_t>> expected;
  for (uint32_t r : rows) expected.emplace_back(&src, r);
  ExpectSameRows(taken, expected);
  EXPECT_EQ(src.Take({}).num_rows(), 0u);
}

TEST(RecordBatchTest, RetainRowsCompactsInPlaceAndStaysAppendable) {
  const RecordBatch src = Rows(0, 17);
  for (const std::vector<uint32_t>& rows :
       {std::vector<uint32_t>{0, 2, 5, 6, 7, 15, 16}, std::vector<uint32_t>{3}, std::vector<uint32_t>{}}) {
    RecordBatch kept = src;
    kept.RetainRows(rows);
    std::vector<std::pair<const RecordBatch*, size_t>> expected;
    for (uint32_t r : rows) expected.emplace_back(&src, r);
    ExpectSameRows(kept, expected);
    kept.column(0).AppendString("tail");
    EXPECT_EQ(kept.column(0).GetString(rows.size()), "tail");
  }
}

}  // namespace
}  // namespace ws::format
