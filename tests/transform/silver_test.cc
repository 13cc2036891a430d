#include "wikistream/transform/silver.h"

#include <gtest/gtest.h>

#include <set>

#include "transform_fixture.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

namespace bronze = warehouse::bronze;
using format::Field;
using format::RecordBatch;
using format::Schema;
using warehouse::AllPipelineTables;
using warehouse::GoldTables;
using warehouse::kSilverSchemaVersion;
using warehouse::QualityResultsTable;
using warehouse::SilverTable;
using warehouse::TableDef;
using enum warehouse::SilverCol;

namespace {

using testing::At;
using testing::Ev;
using testing::MakeBronze;

TEST(TableSchemasTest, FieldIdsArePositionalAndPartitionColumnsExist) {
  ASSERT_EQ(AllPipelineTables().size(), 10u);
  std::set<std::string> names;
  for (const TableDef* t : AllPipelineTables()) {
    EXPECT_TRUE(names.insert(t->full_name()).second) << t->full_name();
    ASSERT_TRUE(t->schema);
    for (size_t i = 0; i < t->schema->num_fields(); ++i) {
      EXPECT_EQ(t->schema->field(i).id, static_cast<int32_t>(i + 1)) << t->full_name();
    }
    EXPECT_FALSE(t->partition_columns.empty());
    for (const auto& p : t->partition_columns) {
      int idx = t->schema->FieldIndex(p);
      ASSERT_GE(idx, 0) << t->full_name() << " " << p;
      EXPECT_TRUE(t->schema->field(idx).required) << p;
    }
    EXPECT_NE(std::string(t->schema_version).find(t->full_name()), std::string::npos);
  }
  EXPECT_EQ(SilverTable().schema->num_fields(), static_cast<size_t>(kSilverColumnCount));
  EXPECT_EQ(SilverTable().schema->FieldIndex("user_type"), kSUserType);
  EXPECT_EQ(SilverTable().schema->FieldIndex("silver_processed_at"), kSSilverProcessedAt);
  EXPECT_EQ(GoldTables().size(), 5u);
  EXPECT_EQ(QualityResultsTable().partition_columns, (std::vector<std::string>{"run_date", "layer"}));
}

TEST(SilverTest, DerivesEveryColumn) {
  int64_t t = At("2024-08-22T10:15:00Z");
  std::vector<Ev> evs(8);
  evs[0] = Ev{.id = "a", .user = " Alice\x01 ", .len_old = 100, .len_new = 40, .ts_us = t};
  evs[1] = Ev{.id = "b", .domain = "de.wikipedia.org", .user = "1.2.3.4", .len_old = 10000, .len_new = 4999, .ts_us = t};
  evs[2] = Ev{.id = "c", .type = "new", .domain = "ja.wikipedia.org", .user = "2001:db8::1", .len_new = 50001, .ts_us = t};
  evs[3] = Ev{.id = "d", .domain = "commons.wikimedia.org", .user = "~2026-12345-67", .ts_us = t};
  evs[4] = Ev{.id = "e", .domain = "fa.wikipedia.org", .user = "RoboBot", .bot = true, .len_old = 1, .len_new = 5002, .ts_us = t};
  evs[5] = Ev{.id = "f", .type = "log", .title = std::nullopt, .user = std::nullopt, .ts_us = t};
  evs[6] = Ev{.id = "g", .user = "\t\x7f ", .len_old = 10000, .len_new = 5000, .ts_us = t};
  evs[7] = Ev{.id = "h", .domain = "pt.wikipedia.org", .user = "Bob", .len_old = 0, .len_new = 50000, .ts_us = t};
  RecordBatch bronze = MakeBronze(evs);
  RecordBatch s = BuildSilver(bronze, nullptr, 777);
  ASSERT_TRUE(s.Validate().ok()) << s.Validate().ToString();
  ASSERT_EQ(s.num_rows(), 8u);
  auto str = [&](int col, size_t r) { return std::string(s.column(col).GetString(r)); };
  EXPECT_EQ(str(kSUserNormalized, 0), "Alice");
  EXPECT_EQ(str(kSUserType, 0), "registered");
  EXPECT_EQ(str(kSRegion, 0), "americas");
  EXPECT_EQ(str(kSLanguage, 0), "en");
  EXPECT_EQ(s.column(kSLengthDelta).GetInt32(0), -60);
  EXPECT_FALSE(s.column(kSIsLargeDeletion).GetBool(0));

  EXPECT_EQ(str(kSUserType, 1), "ip");
  EXPECT_TRUE(s.column(kSIsAnonymous).GetBool(1));
  EXPECT_EQ(str(kSRegion, 1), "europe");
  EXPECT_TRUE(s.column(kSIsLargeDeletion).GetBool(1));  // -5001

  EXPECT_EQ(str(kSUserType, 2), "ip");
  EXPECT_EQ(str(kSRegion, 2), "asia_pacific");
  EXPECT_TRUE(s.column(kSIsLargeAddition).GetBool(2));  // new page 50001

  EXPECT_EQ(str(kSUserType, 3), "temporary");
  EXPECT_TRUE(s.column(kSIsAnonymous).GetBool(3));
  EXPECT_EQ(str(kSRegion, 3), "other");
  EXPECT_EQ(str(kSLanguage, 3), "commons");
  EXPECT_TRUE(s.column(kSLengthDelta).IsNull(3));
  EXPECT_FALSE(s.column(kSIsLargeDeletion).GetBool(3));
  EXPECT_FALSE(s.column(kSIsLargeAddition).GetBool(3));

  EXPECT_EQ(str(kSUserType, 4), "bot");
  EXPECT_FALSE(s.column(kSIsAnonymous).GetBool(4));
  EXPECT_EQ(str(kSRegion, 4), "middle_east");
  EXPECT_FALSE(s.column(kSIsLargeAddition).GetBool(4));  // 5001

  EXPECT_TRUE(s.column(kSUserNormalized).IsNull(5));
  EXPECT_EQ(str(kSUserType, 5), "unknown");
  EXPECT_FALSE(s.column(kSIsAnonymous).GetBool(5));
  EXPECT_TRUE(s.column(kSTitle).IsNull(5));

  EXPECT_TRUE(s.column(kSUserNormalized).IsNull(6));  // only controls and spaces
  EXPECT_EQ(str(kSUserType, 6), "unknown");
  EXPECT_FALSE(s.column(kSIsLargeDeletion).GetBool(6));  // exactly -5000

  EXPECT_FALSE(s.column(kSIsLargeAddition).GetBool(7));  // exactly 50000
  EXPECT_EQ(str(kSRegion, 7), "americas");

  EXPECT_EQ(s.column(kSSilverProcessedAt).GetInt64(0), 777);
  EXPECT_EQ(s.column(kSEventTimestamp).GetInt64(0), t);
  EXPECT_EQ(str(kSEventDate, 0), "2024-08-22");
  EXPECT_EQ(s.column(kSEventHour).GetInt32(0), 10);
  EXPECT_EQ(str(kSSchemaVersion, 0), kSilverSchemaVersion);
  EXPECT_EQ(s.column(kSBronzeProcessedAt).GetInt64(0), bronze.column("bronze_processed_at").GetInt64(0));
}

TEST(SilverTest, DeduplicatesFirstOccurrenceAndAgainstExistingSilver) {
  int64_t t = At("2024-08-22T10:15:00Z");
  RecordBatch bronze = MakeBronze({Ev{.id = "x", .user = "First", .ts_us = t}, Ev{.id = "y", .ts_us = t},
                                   Ev{.id = "x", .user = "Second", .ts_us = t}, Ev{.id = "z", .ts_us = t}});
  std::set<std::string> existing = {"y"};
  RecordBatch s = BuildSilver(bronze, [&](std::string_view id) { return existing.count(std::string(id)) > 0; }, 1);
  ASSERT_EQ(s.num_rows(), 2u);
  EXPECT_EQ(s.column(kSEventId).GetString(0), "x");
  EXPECT_EQ(s.column(kSUserNormalized).GetString(0), "First");
  EXPECT_EQ(s.column(kSEventId).GetString(1), "z");
  EXPECT_EQ(BuildSilver(RecordBatch(bronze::RawEventsSchema()), nullptr, 1).num_rows(), 0u);
}

TEST(SilverTest, AcceptsAProjectionOfBronze) {
  int64_t t = At("2024-08-22T23:59:59Z");
  RecordBatch full = MakeBronze({Ev{.id = "p", .ts_us = t}});
  std::vector<Field> fields;
  std::vector<int> keep;
  for (size_t i = 0; i < full.schema()->num_fields(); ++i) {
    const std::string& n = full.schema()->field(i).name;
    if (n == "raw" || n == "comment" || n == "title_url" || n == "meta_topic") continue;
    fields.push_back(full.schema()->field(i));
    keep.push_back(static_cast<int>(i));
  }
  RecordBatch proj(std::make_shared<const Schema>(0, fields));
  for (size_t i = 0; i < keep.size(); ++i) proj.column(i).AppendFrom(full.column(keep[i]), 0);
  RecordBatch s = BuildSilver(proj, nullptr, 1);
  ASSERT_EQ(s.num_rows(), 1u);
  EXPECT_EQ(s.column(kSEventHour).GetInt32(0), 23);
}

}  // namespace
}  // namespace ws::transform
