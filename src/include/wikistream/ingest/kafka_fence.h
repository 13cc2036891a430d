// The offset fence of bronze in Kafka mode (used by BronzeWriter; see
// docs/operations.md "Exactly-once into bronze").
//
// Several consumers of one group write bronze. A partition that moves from
// one to another in a rebalance can be read by both: the new owner starts at
// the position it read from the warehouse, and the old owner may still
// commit what it polled before losing the partition. So a commit may only
// append records whose offset is at or above the table's committed next
// offset for their partition: the maximum over every position stored under
// the source's summary key. That drops nothing unlanded: a consumer stores
// position N for a partition only in the commit that lands its last records
// below N, and its records of a partition are contiguous from a start point
// that was itself committed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/table/table.h"

namespace ws::ingest {

// A row's Kafka record: its partition (an id of KafkaPartitions; -1 when the
// row has no Kafka position and is never fenced) and offset.
struct RowOffset {
  int32_t partition = -1;
  int64_t offset = 0;
};

// Interns "topic/partition" keys, so rows carry a small id.
class KafkaPartitions {
 public:
  // "topic/partition@offset" -> {id, offset}; {-1, 0} if it is not one.
  RowOffset Parse(std::string_view position);
  const std::string& name(int32_t id) const { return names_[static_cast<size_t>(id)]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::map<std::string, int32_t, std::less<>> ids_;
};

// The merged committed positions of one table (per partition, the maximum
// next offset over every snapshot summary carrying `key`), kept up to date
// incrementally: the map only grows, so snapshots already merged are skipped.
class CommittedOffsets {
 public:
  explicit CommittedOffsets(std::string key) : key_(std::move(key)) {}
  // Merges the snapshots up to `current` not merged yet. Call while `table`
  // shows the state `current` belongs to (e.g. inside CommitRequest::validate).
  void Update(const table::Table& table, const table::SnapshotInfo* current);
  // The committed next offset of `partition`, 0 when none is known.
  int64_t next_offset(std::string_view partition) const {
    auto it = merged_.find(partition);
    return it == merged_.end() ? 0 : it->second;
  }

 private:
  void Merge(const table::SnapshotInfo& snapshot);
  std::string key_;
  std::optional<int64_t> top_;  // the newest snapshot merged
  std::map<std::string, int64_t, std::less<>> merged_;
};

}  // namespace ws::ingest
