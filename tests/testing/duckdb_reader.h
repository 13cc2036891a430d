// WarehouseRows: a table's rows as the independent Iceberg reader
// (testing::ReadTableWithDuckDb) sees them, as JSON; a failed read is a
// test failure and an empty array.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "testing/test_util.h"

namespace ws::testing {

inline nlohmann::json WarehouseRows(const std::string& warehouse, const std::string& table) {
  std::string out;
  int rc = ReadTableWithDuckDb(warehouse, table, "", &out);
  EXPECT_EQ(rc, 0) << out;
  return rc == 0 ? nlohmann::json::parse(out)["rows"] : nlohmann::json::array();
}

}  // namespace ws::testing
