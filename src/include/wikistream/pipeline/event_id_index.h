// EventIdIndex: which event_ids bronze already holds, per event hour.
//
// Contract: TABLES.md ingest rule 5 drops an event whose event_id is already
// in bronze or earlier in the same batch. A duplicate has the same event time
// as its original, so ids are kept per (event_date, event_hour): an hour is
// loaded from the table the first time an event of that hour is seen
// (through the `loader` callback) and kept as 128-bit keys (a UUID's own
// bits, else a 128-bit hash of the text). Memory is bounded: when more than
// `max_keys` are held, the least recently used hours are dropped and simply
// reloaded if they come back. Not thread-safe (one ingest loop owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"

namespace ws {

struct IdKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const IdKey& o) const { return hi == o.hi && lo == o.lo; }
};
IdKey MakeIdKey(std::string_view event_id);

// Open-addressing set of IdKeys (no per-key allocation).
class IdKeySet {
 public:
  bool Insert(const IdKey& key);  // false if already present
  bool Contains(const IdKey& key) const;
  size_t size() const { return size_; }
  size_t ByteSize() const { return slots_.size() * sizeof(IdKey); }

 private:
  void Grow();
  std::vector<IdKey> slots_;  // {0,0} = empty; the zero key is stored as {0,1}
  size_t size_ = 0;
};

class EventIdIndex {
 public:
  // Appends the event_ids committed in partition (date, hour) to *ids.
  using Loader = std::function<Status(const std::string& date, int32_t hour, std::vector<std::string>* ids)>;

  EventIdIndex(Loader loader, size_t max_keys = 2u << 20);

  // True if the id is new (and records it); false for a duplicate.
  Result<bool> InsertIfNew(std::string_view date, int32_t hour, std::string_view event_id);
  // Forgets ids recorded since the last Commit()/Rollback (a failed commit:
  // those events were not written and will be re-delivered).
  void Rollback();
  void Commit();
  size_t loaded_hours() const { return hours_.size(); }
  size_t key_count() const { return total_keys_; }

 private:
  struct Hour {
    IdKeySet keys;
    std::list<std::string>::iterator lru;
  };
  Result<Hour*> GetHour(std::string_view date, int32_t hour);
  void EvictIfNeeded();

  Loader loader_;
  size_t max_keys_;
  size_t total_keys_ = 0;
  std::unordered_map<std::string, Hour> hours_;  // "YYYY-MM-DD/HH"
  std::list<std::string> lru_;                    // front = most recent
  bool dirty_ = false;                            // uncommitted inserts exist
};

}  // namespace ws
