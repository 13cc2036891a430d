#include "wikistream/common/hash.h"

#include <utility>

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
  return IdKey{Mix64(a) | (1ULL << 63), Mix64(b ^ s.size())};
}

size_t Slot(const IdKey& k, size_t mask) { return static_cast<size_t>(Mix64(k.hi ^ (k.lo * kGoldenGamma))) & mask; }

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

}  // namespace ws
