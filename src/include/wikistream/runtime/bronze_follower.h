// BronzeFollower: the rows other processes commit to bronze.raw_events, as
// they land, for a process that does not ingest itself (`serve` in the
// scaled-out mode, next to `bronze` consumers on other hosts).
//
// Contract:
// - Poll() reloads the table from the catalog and hands the rows of every
//   `append` snapshot committed since the previous Poll() to `on_rows`
//   (oldest file first, projected onto the columns the live view reads:
//   LiveColumns()). Compaction (`replace`) adds no rows, so files it
//   rewrites are not seen twice. The first Poll() starts from the snapshots
//   committed within `backfill_ms` before the current one, so a restarted
//   serve shows the recent past at once instead of zero.
// - Bounded: one Poll() reads at most `max_rows_per_poll` rows (by the
//   manifests' record counts); when more landed since the last poll (a
//   backlog after a pause, or a large backfill) the oldest files are skipped
//   and counted in skipped_rows(): the live view is about now.
// - History expired under the follower (its last snapshot is gone) is not an
//   error: it continues from the current snapshot without re-reading.
// - Poll() returns the rows handed over, or the catalog/store error (the
//   position does not move and nothing was handed over; the next Poll()
//   retries). Memory: the rows of one poll (max_rows_per_poll x the live
//   columns, ~20 MB at the default). Not thread-safe: one
//   thread polls (serve's main loop).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

struct BronzeFollowerOptions {
  std::string table = "bronze.raw_events";
  int64_t max_rows_per_poll = 200'000;
  int64_t backfill_ms = 60ll * 60 * 1000;  // the live view's longest window (an hour of minutes)
};

class BronzeFollower {
 public:
  using RowsCallback = std::function<void(const format::RecordBatch&)>;

  BronzeFollower(warehouse::Warehouse* warehouse, RowsCallback on_rows, BronzeFollowerOptions options = {});

  Result<int64_t> Poll();

  // The bronze columns LiveAggregator::Observe reads.
  static const std::vector<std::string>& LiveColumns();

  std::optional<int64_t> last_snapshot() const { return last_; }
  int64_t skipped_rows() const { return skipped_rows_; }

 private:
  warehouse::Warehouse* warehouse_;
  RowsCallback on_rows_;
  BronzeFollowerOptions options_;
  bool started_ = false;
  std::optional<int64_t> last_;  // the newest snapshot handed over
  int64_t skipped_rows_ = 0;
};

}  // namespace ws::runtime
