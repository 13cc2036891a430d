#include "wikistream/ingest/event_id_index.h"

#include <gtest/gtest.h>

#include <map>

namespace ws::ingest {
namespace {

TEST(IdKeyTest, UuidsUseTheirBitsAndOtherIdsAreHashed) {
  IdKey a = MakeIdKey("0a1b2c3d-4e5f-4789-8abc-def012345678");
  EXPECT_EQ(a.hi, 0x0a1b2c3d4e5f4789ULL);
  EXPECT_EQ(a.lo, 0x8abcdef012345678ULL);
  // Upper-case hex is the same UUID.
  EXPECT_EQ(MakeIdKey("0A1B2C3D-4E5F-4789-8ABC-DEF012345678"), a);
  IdKey h1 = MakeIdKey("not-a-uuid"), h2 = MakeIdKey("not-a-uuie");
  EXPECT_FALSE(h1 == h2);
  EXPECT_EQ(MakeIdKey("not-a-uuid"), h1);
}

TEST(IdKeySetTest, InsertContainsAndGrowth) {
  IdKeySet set;
  for (uint64_t i = 1; i <= 100000; ++i) EXPECT_TRUE(set.Insert(IdKey{i * 7919, i}));
  // {0,0} is the empty marker; MakeIdKey never produces it.
  for (uint64_t i = 1; i <= 100000; ++i) EXPECT_FALSE(set.Insert(IdKey{i * 7919, i}));
  EXPECT_EQ(set.size(), 100000u);
  EXPECT_TRUE(set.Contains(IdKey{7919, 1}));
  EXPECT_FALSE(set.Contains(IdKey{1, 7919}));
}

TEST(EventIdIndexTest, LoadsEachHourOnceAndDropsDuplicates) {
  std::map<std::string, int> loads;
  EventIdIndex index([&](const std::string& date, int32_t hour, std::vector<std::string>* ids) {
    ++loads[date + "/" + std::to_string(hour)];
    if (date == "2024-08-22" && hour == 5) ids->push_back("committed-earlier");
    return Status::OK();
  });
  EXPECT_FALSE(*index.InsertIfNew("2024-08-22", 5, "committed-earlier"));
  EXPECT_TRUE(*index.InsertIfNew("2024-08-22", 5, "new-one"));
  EXPECT_FALSE(*index.InsertIfNew("2024-08-22", 5, "new-one"));  // earlier in the same batch
  // The same id in another hour is a different event (ids are unique per hour by rule 5).
  EXPECT_TRUE(*index.InsertIfNew("2024-08-22", 6, "new-one"));
  EXPECT_EQ(loads["2024-08-22/5"], 1);
  EXPECT_EQ(loads["2024-08-22/6"], 1);
}

TEST(EventIdIndexTest, EvictsLeastRecentlyUsedHoursAndReloadsThem) {
  std::map<std::string, std::vector<std::string>> table;  // what "bronze" holds
  int loads = 0;
  EventIdIndex index(
      [&](const std::string& date, int32_t hour, std::vector<std::string>* ids) {
        ++loads;
        auto& v = table[date + std::to_string(hour)];
        ids->insert(ids->end(), v.begin(), v.end());
        return Status::OK();
      },
      /*max_keys=*/10);
  for (int hour = 0; hour < 5; ++hour) {
    for (int i = 0; i < 4; ++i) {
      std::string id = "h" + std::to_string(hour) + "-" + std::to_string(i);
      ASSERT_TRUE(*index.InsertIfNew("2026-01-01", hour, id));
      table["2026-01-01" + std::to_string(hour)].push_back(id);
    }
    index.Commit();
  }
  EXPECT_LE(index.key_count(), 10u);
  EXPECT_LT(index.loaded_hours(), 5u);
  int before = loads;
  // Hour 0 was evicted: it is reloaded from the table, and its ids are still duplicates.
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 0, "h0-1"));
  EXPECT_EQ(loads, before + 1);
}

TEST(EventIdIndexTest, HoursOfABatchStillBeingWrittenAreNeverEvicted) {
  std::map<std::string, std::vector<std::string>> table;  // what "bronze" holds
  std::map<std::string, int> loads;
  EventIdIndex index(
      [&](const std::string& date, int32_t hour, std::vector<std::string>* ids) {
        ++loads[date + "/" + std::to_string(hour)];
        auto& v = table[date + "/" + std::to_string(hour)];
        ids->insert(ids->end(), v.begin(), v.end());
        return Status::OK();
      },
      /*max_keys=*/4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 0, "a" + std::to_string(i)));
  const uint64_t first = index.Seal();  // its files are being written while the next batch fills
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 1, "b" + std::to_string(i)));
  EXPECT_EQ(index.loaded_hours(), 2u);  // over the limit, but nothing is committed yet

  for (int i = 0; i < 4; ++i) table["2026-01-01/0"].push_back("a" + std::to_string(i));
  index.Commit(first);
  ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 2, "c0"));
  // Hour 0 is in the table and was evicted; hour 1 only exists in the open
  // batch and must stay, or "b0" would come back as new after a reload.
  EXPECT_EQ(index.loaded_hours(), 2u);
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 1, "b0"));
  EXPECT_EQ(loads["2026-01-01/1"], 1);
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 0, "a2"));
  EXPECT_EQ(loads["2026-01-01/0"], 2);
}

TEST(EventIdIndexTest, ReleaseCommittedKeepsOnlyUncommittedHours) {
  std::map<std::string, std::vector<std::string>> table;
  EventIdIndex index([&](const std::string& date, int32_t hour, std::vector<std::string>* ids) {
    auto& v = table[date + "/" + std::to_string(hour)];
    ids->insert(ids->end(), v.begin(), v.end());
    return Status::OK();
  });
  ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 0, "a"));
  ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 1, "b"));
  table["2026-01-01/0"] = {"a"};
  table["2026-01-01/1"] = {"b"};
  index.Commit();
  ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 2, "c"));  // open batch: not in the table yet
  index.ReleaseCommitted();
  EXPECT_EQ(index.loaded_hours(), 1u);
  EXPECT_EQ(index.key_count(), 1u);
  // Released hours come back from the table; the open one was kept.
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 2, "c"));
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 0, "a"));
  EXPECT_FALSE(*index.InsertIfNew("2026-01-01", 1, "b"));
  EXPECT_TRUE(*index.InsertIfNew("2026-01-01", 1, "d"));
}

TEST(EventIdIndexTest, RollbackForgetsUncommittedIds) {
  std::vector<std::string> committed;
  EventIdIndex index([&](const std::string&, int32_t, std::vector<std::string>* ids) {
    *ids = committed;
    return Status::OK();
  });
  ASSERT_TRUE(*index.InsertIfNew("2026-01-01", 1, "a"));
  index.Rollback();  // the commit failed: "a" is not in the table
  EXPECT_TRUE(*index.InsertIfNew("2026-01-01", 1, "a"));
}

TEST(EventIdIndexTest, LoaderErrorsPropagate) {
  EventIdIndex index([](const std::string&, int32_t, std::vector<std::string>*) {
    return Status::IOError("disk gone");
  });
  auto r = index.InsertIfNew("2026-01-01", 1, "a");
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace ws::ingest
