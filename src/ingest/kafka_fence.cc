#include "wikistream/ingest/kafka_fence.h"

#include <algorithm>

#include "wikistream/common/logging.h"
#include "wikistream/source/kafka.h"

namespace ws::ingest {

RowOffset KafkaPartitions::Parse(std::string_view position) {
  std::string_view partition;
  int64_t offset = 0;
  if (!source::ParseKafkaRecordPosition(position, &partition, &offset)) return {};
  auto it = ids_.find(partition);
  if (it == ids_.end()) {
    it = ids_.emplace(std::string(partition), static_cast<int32_t>(names_.size())).first;
    names_.emplace_back(partition);
  }
  return {it->second, offset};
}

void CommittedOffsets::Merge(const table::SnapshotInfo& snapshot) {
  auto it = snapshot.summary.find(key_);
  if (it == snapshot.summary.end()) return;
  Result<std::map<std::string, int64_t>> map = source::ParseKafkaPositions(it->second);
  if (!map.ok()) {
    // Not a Kafka position (another kind of source under the same name):
    // it fences nothing.
    log::Warn("bronze", "snapshot {}: {}", snapshot.snapshot_id, map.status().ToString());
    return;
  }
  for (const auto& [partition, next] : *map) {
    auto [m, inserted] = merged_.emplace(partition, next);
    if (!inserted) m->second = std::max(m->second, next);
  }
}

void CommittedOffsets::Update(const table::Table& table, const table::SnapshotInfo* current) {
  if (!current || top_ == current->snapshot_id) return;
  // Usually one or two snapshots landed since the last commit: walk back to
  // the newest one merged. The first time (or after a long absence) merge
  // every kept snapshot instead: snapshot() is a linear lookup.
  constexpr int kMaxWalk = 64;
  bool complete = false;
  if (top_) {
    std::optional<table::SnapshotInfo> s = *current;
    for (int steps = 0; s && steps < kMaxWalk; ++steps) {
      if (s->snapshot_id == *top_) {
        complete = true;
        break;
      }
      Merge(*s);
      if (!s->parent_id) {
        complete = true;
        break;
      }
      Result<table::SnapshotInfo> parent = table.snapshot(*s->parent_id);
      if (!parent.ok()) {
        // Expired history: what is older was merged before, or is gone for
        // every reader of the positions alike.
        complete = true;
        break;
      }
      s = std::move(parent).value();
    }
  }
  if (!complete) {
    for (const table::SnapshotInfo& s : table.snapshots()) Merge(s);
  }
  top_ = current->snapshot_id;
}

}  // namespace ws::ingest
