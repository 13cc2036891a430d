// EventIdIndex: which event_ids bronze already holds, per event hour.
//
// Contract: ingest rule 5 (docs/ingest-rules.md) drops an event whose event_id is already
// in bronze or earlier in the same batch. A duplicate has the same event time
// as its original, so ids are kept per (event_date, event_hour): an hour is
// loaded from the table the first time an event of that hour is seen
// (through the `loader` callback) and kept as 128-bit keys (a UUID's own
// bits, else a 128-bit hash of the text). Memory is bounded: when more than
// `max_keys` are held, the least recently used hours are dropped and simply
// reloaded if they come back. Only hours whose inserts are all committed
// are evicted: inserts belong to the batch open at the time; Seal() closes
// that batch and Commit(batch) marks it (and every earlier one) as landed in
// the table, so a batch still being written keeps its hours loaded while the
// next one fills. Not thread-safe (one ingest loop owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wikistream/common/hash.h"
#include "wikistream/common/result.h"
#include "wikistream/common/status.h"

namespace ws::ingest {

class EventIdIndex {
 public:
  // Appends the event_ids committed in partition (date, hour) to *ids.
  using Loader = std::function<Status(const std::string& date, int32_t hour, std::vector<std::string>* ids)>;

  EventIdIndex(Loader loader, size_t max_keys = 1u << 20);

  // True if the id is new (and records it); false for a duplicate.
  Result<bool> InsertIfNew(std::string_view date, int32_t hour, std::string_view event_id);
  // Forgets every id not loaded from the table (all uncommitted batches:
  // those events were not written and will be re-delivered).
  void Rollback();
  // Closes the open batch: later inserts belong to the next one.
  uint64_t Seal() { return open_batch_++; }
  // The sealed `batch` and every earlier one are in the table.
  void Commit(uint64_t batch);
  void Commit() { Commit(Seal()); }
  // Drops every hour whose inserts are all committed, as eviction would
  // (reloaded if its events come again): a writer done ingesting gives the
  // memory back.
  void ReleaseCommitted();
  size_t loaded_hours() const { return hours_.size(); }
  size_t key_count() const { return total_keys_; }

 private:
  struct Hour {
    IdKeySet keys;
    uint64_t last_insert_batch = 0;  // 0: only ids loaded from the table
    std::list<std::string>::iterator lru;
  };
  Result<Hour*> GetHour(std::string_view date, int32_t hour);
  void EvictIfNeeded();
  void EvictCommittedHours(size_t down_to, bool keep_most_recent);
  Hour* Remember(std::string_view date, int32_t hour, Hour* h);

  Loader loader_;
  size_t max_keys_;
  size_t total_keys_ = 0;
  std::unordered_map<std::string, Hour> hours_;  // "YYYY-MM-DD/HH"
  std::list<std::string> lru_;                    // front = most recent
  Hour* last_hour_ = nullptr;  // the hour of the previous lookup
  std::string last_date_;
  int32_t last_hour_number_ = -1;
  uint64_t open_batch_ = 1;
  uint64_t committed_batch_ = 0;
};

}  // namespace ws::ingest
