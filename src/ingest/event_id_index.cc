#include "wikistream/ingest/event_id_index.h"

#include <fmt/format.h>

#include <algorithm>

#include "wikistream/common/result.h"

namespace ws::ingest {

EventIdIndex::EventIdIndex(Loader loader, size_t max_keys) : loader_(std::move(loader)), max_keys_(max_keys) {}

Result<EventIdIndex::Hour*> EventIdIndex::GetHour(std::string_view date, int32_t hour) {
  // Events arrive grouped by time: most belong to the hour of the one before.
  if (last_hour_ && hour == last_hour_number_ && date == last_date_) return last_hour_;
  std::string name = fmt::format("{}/{:02d}", date, hour);
  auto it = hours_.find(name);
  if (it != hours_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return Remember(date, hour, &it->second);
  }
  std::vector<std::string> ids;
  WS_RETURN_IF_ERROR(loader_(std::string(date), hour, &ids));
  lru_.push_front(name);
  Hour& h = hours_[name];
  h.lru = lru_.begin();
  for (const auto& id : ids) h.keys.Insert(MakeIdKey(id));
  total_keys_ += h.keys.size();
  EvictIfNeeded();
  return Remember(date, hour, &hours_.find(name)->second);
}

EventIdIndex::Hour* EventIdIndex::Remember(std::string_view date, int32_t hour, Hour* h) {
  last_date_.assign(date);
  last_hour_number_ = hour;
  last_hour_ = h;
  return h;
}

void EventIdIndex::EvictIfNeeded() {
  if (total_keys_ > max_keys_) EvictCommittedHours(max_keys_, /*keep_most_recent=*/true);
}

void EventIdIndex::ReleaseCommitted() { EvictCommittedHours(0, /*keep_most_recent=*/false); }

void EventIdIndex::EvictCommittedHours(size_t down_to, bool keep_most_recent) {
  // Never evict an hour holding uncommitted inserts: they are not in the
  // table yet, so a reload would miss them.
  auto it = lru_.end();
  while (total_keys_ > down_to && it != lru_.begin()) {
    --it;
    if (keep_most_recent && it == lru_.begin()) break;
    auto hour = hours_.find(*it);
    if (hour->second.last_insert_batch > committed_batch_) continue;
    total_keys_ -= hour->second.keys.size();
    if (&hour->second == last_hour_) last_hour_ = nullptr;
    hours_.erase(hour);
    it = lru_.erase(it);
  }
}

Result<bool> EventIdIndex::InsertIfNew(std::string_view date, int32_t hour, std::string_view event_id) {
  WS_ASSIGN_OR_RETURN(Hour * h, GetHour(date, hour));
  if (!h->keys.Insert(MakeIdKey(event_id))) return false;
  ++total_keys_;
  h->last_insert_batch = open_batch_;
  return true;
}

void EventIdIndex::Commit(uint64_t batch) {
  committed_batch_ = std::max(committed_batch_, batch);
  EvictIfNeeded();
}

void EventIdIndex::Rollback() {
  // Individual keys cannot be removed from the open-addressing set cheaply;
  // dropping every loaded hour is correct (they reload from the table) and
  // rollbacks only happen after a failed commit.
  hours_.clear();
  lru_.clear();
  last_hour_ = nullptr;
  total_keys_ = 0;
}

}  // namespace ws::ingest
