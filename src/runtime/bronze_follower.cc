#include "wikistream/runtime/bronze_follower.h"

#include <algorithm>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"

namespace ws::runtime {

using table::DataFile;
using table::SnapshotInfo;

namespace {

// Rows per ReadDataFiles call and per on_rows call (the live aggregator
// takes a batch under one lock: pieces keep readers waiting briefly).
constexpr int64_t kRowsPerRead = 50'000;

}  // namespace

BronzeFollower::BronzeFollower(warehouse::Warehouse* warehouse, RowsCallback on_rows, BronzeFollowerOptions options)
    : warehouse_(warehouse), on_rows_(std::move(on_rows)), options_(std::move(options)) {}

const std::vector<std::string>& BronzeFollower::LiveColumns() {
  static const std::vector<std::string> kColumns = {"event_type", "domain",       "title",          "user",
                                                    "is_bot",     "length_delta", "event_timestamp"};
  return kColumns;
}

Result<int64_t> BronzeFollower::Poll() {
  WS_ASSIGN_OR_RETURN(std::shared_ptr<table::Table> table, warehouse_->table(options_.table));
  WS_RETURN_IF_ERROR(table->Refresh());
  const std::optional<SnapshotInfo> current = table->current_snapshot();
  if (!current) {
    started_ = true;
    return int64_t{0};
  }
  std::optional<int64_t> from = last_;
  if (!started_) {
    // Backfill: start after the newest snapshot older than the window (none:
    // the whole history is recent).
    const int64_t cutoff_ms = NowMicros() / 1000 - options_.backfill_ms;
    for (std::optional<int64_t> id = current->snapshot_id; id;) {
      auto snap = table->snapshot(*id);
      if (!snap.ok()) break;  // expired further back: FilesAddedBetween says NotFound below
      if (snap->timestamp_ms < cutoff_ms) {
        from = snap->snapshot_id;
        break;
      }
      id = snap->parent_id;
    }
  }
  if (from == current->snapshot_id) {
    last_ = from;
    started_ = true;
    return int64_t{0};
  }
  auto files = table->FilesAddedBetween(from, current->snapshot_id);
  if (!files.ok()) {
    if (!files.status().IsNotFound()) return files.status();
    // The history between the two was expired by maintenance: what it held
    // is older than the live windows by now (maintenance keeps a day).
    log::Warn("follow", "{}: snapshots after {} were expired; following from {}", options_.table,
              from ? std::to_string(*from) : "the start", current->snapshot_id);
    last_ = current->snapshot_id;
    started_ = true;
    return int64_t{0};
  }

  // The newest files that fit the budget; older ones are skipped.
  size_t first = files->size();
  int64_t budget = options_.max_rows_per_poll;
  while (first > 0 && (*files)[first - 1].stats.record_count <= budget) {
    budget -= (*files)[first - 1].stats.record_count;
    --first;
  }
  for (size_t i = 0; i < first; ++i) skipped_rows_ += (*files)[i].stats.record_count;
  if (first > 0) {
    log::Warn("follow", "{}: {} files landed since the last poll exceed {} rows; the oldest {} are skipped",
              options_.table, files->size(), options_.max_rows_per_poll, first);
  }

  const format::SchemaPtr projection = warehouse::ProjectSchema(*table->schema(), LiveColumns());
  // Every piece is read before any is handed over, so a read failing part
  // way leaves nothing observed twice when the next Poll() retries.
  std::vector<format::RecordBatch> pieces;
  std::vector<DataFile> piece;
  int64_t piece_rows = 0;
  auto read_piece = [&]() -> Status {
    if (piece.empty()) return Status::OK();
    WS_ASSIGN_OR_RETURN(format::RecordBatch rows, warehouse_->ReadDataFiles(piece, projection));
    pieces.push_back(std::move(rows));
    piece.clear();
    piece_rows = 0;
    return Status::OK();
  };
  for (size_t i = first; i < files->size(); ++i) {
    piece.push_back((*files)[i]);
    piece_rows += (*files)[i].stats.record_count;
    if (piece_rows >= kRowsPerRead) WS_RETURN_IF_ERROR(read_piece());
  }
  WS_RETURN_IF_ERROR(read_piece());
  int64_t handed = 0;
  for (const format::RecordBatch& rows : pieces) {
    on_rows_(rows);
    handed += static_cast<int64_t>(rows.num_rows());
  }
  last_ = current->snapshot_id;
  started_ = true;
  return handed;
}

}  // namespace ws::runtime
