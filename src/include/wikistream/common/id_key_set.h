// IdKey and IdKeySet: event ids as 128-bit keys in an open-addressing set,
// shared by ingest (the bronze event_id index) and the batch cycle (the ids
// silver holds).
//
// Contract: MakeIdKey takes a UUID's own 128 bits, else a 128-bit hash of the
// text with a bit set that no parsed UUID v4 has there, so hashed and parsed
// keys never collide. IdKeySet stores keys without per-key allocation
// (32 bytes of slots per key at most); not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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

}  // namespace ws
