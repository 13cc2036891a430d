// What BatchCycle's stage files share (batch_cycle.cc, silver_stage.cc,
// gold_stage.cc, audit_stage.cc). Internal to ws_batch: not installed with
// its public headers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"
#include "wikistream/model/stage.h"
#include "wikistream/table/table.h"
#include "wikistream/transform/gold.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::batch {

// Snapshot summary keys: the bronze snapshot a silver commit consumed up to,
// and the silver snapshot a gold commit was computed from.
inline constexpr const char* kBronzeSnapshotKey = "wikistream.bronze-snapshot";
inline constexpr const char* kSilverSnapshotKey = "wikistream.silver-snapshot";

// The snapshot id a summary value names; nullopt when absent or not a number.
std::optional<int64_t> ParseSnapshotId(const std::optional<std::string>& text);
// `key`'s value in the newest snapshot of `t` that has it.
std::optional<std::string> SummaryOfLatest(const table::Table& t, const std::string& key);
// A partition filter keeping the partitions whose first value (the date) is in `dates`.
std::function<bool(const table::PartitionValues&)> DateIn(const std::set<std::string>& dates);

// `name` opened and refreshed to the catalog's current metadata: where every
// stage starts, so it sees what other processes committed.
Result<std::shared_ptr<table::Table>> RefreshedTable(warehouse::Warehouse* warehouse, const std::string& name);

// A stage's early exit: `result` failed with `why` (what it holds so far,
// e.g. its input snapshot, still goes to ops.pipeline_runs).
model::StageResult Failed(model::StageResult& result, Status why);
// A stage's early exit with nothing to do: `result` SKIPPED.
model::StageResult Skipped(model::StageResult& result);

struct GoldFromSilver {
  transform::GoldResult gold;
  std::map<std::string, int64_t> silver_rows_per_date;  // of each gold date (zero if none)
  int64_t silver_rows_read = 0;
};

// Gold for `dates` from the silver partitions they need, fed one data file
// at a time so that a day of silver is never in memory at once, in as many
// passes as keep gold's aggregates bounded (GoldPassesFor). The passes run
// on up to `threads` threads, each reading the files for itself.
Result<GoldFromSilver> ComputeGoldFromSilver(warehouse::Warehouse* warehouse, table::Table& silver_t,
                                             const std::vector<std::string>& dates, int64_t now, int threads);

}  // namespace ws::batch
