#include "wikistream/pipeline/event_id_index.h"

#include <fmt/format.h>

#include <algorithm>

#include "wikistream/common/result.h"

namespace ws {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 8-4-4-4-12 hex digits.
bool ParseUuid(std::string_view s, IdKey* key) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  uint64_t parts[2] = {0, 0};
  int nibble = 0;
  for (char c : s) {
    if (c == '-') continue;
    int v = HexValue(c);
    if (v < 0) return false;
    parts[nibble / 16] = (parts[nibble / 16] << 4) | static_cast<uint64_t>(v);
    ++nibble;
  }
  key->hi = parts[0];
  key->lo = parts[1];
  return true;
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Two independent 64-bit FNV-1a streams, finalised: collisions among the
// non-UUID ids of one hour are practically impossible.
IdKey HashKey(std::string_view s) {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : s) {
    a = (a ^ c) * 0x100000001b3ULL;
    b = (b ^ (c + 0x9e)) * 0x100000001b3ULL;
  }
  // Set a bit a UUID v4 never has in this position so hashed and parsed keys
  // cannot collide with each other.
  return IdKey{Mix(a) | (1ULL << 63), Mix(b ^ s.size())};
}

size_t Slot(const IdKey& k, size_t mask) { return static_cast<size_t>(Mix(k.hi ^ (k.lo * 0x9e3779b97f4a7c15ULL))) & mask; }

}  // namespace

IdKey MakeIdKey(std::string_view event_id) {
  IdKey key;
  if (!ParseUuid(event_id, &key)) key = HashKey(event_id);
  if (key.hi == 0 && key.lo == 0) key.lo = 1;  // the empty-slot marker
  return key;
}

bool IdKeySet::Insert(const IdKey& key) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = Slot(key, mask);; i = (i + 1) & mask) {
    IdKey& s = slots_[i];
    if (s.hi == 0 && s.lo == 0) {
      s = key;
      ++size_;
      return true;
    }
    if (s == key) return false;
  }
}

bool IdKeySet::Contains(const IdKey& key) const {
  if (slots_.empty()) return false;
  size_t mask = slots_.size() - 1;
  for (size_t i = Slot(key, mask);; i = (i + 1) & mask) {
    const IdKey& s = slots_[i];
    if (s.hi == 0 && s.lo == 0) return false;
    if (s == key) return true;
  }
}

void IdKeySet::Grow() {
  std::vector<IdKey> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, IdKey{});
  size_ = 0;
  for (const IdKey& k : old) {
    if (k.hi != 0 || k.lo != 0) Insert(k);
  }
}

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

}  // namespace ws
