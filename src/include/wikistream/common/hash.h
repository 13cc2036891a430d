// Hashing and the open-addressing tables built on it: one 64-bit mixer, one
// string hash, and the flat sets and maps the ingest and batch code use where
// node-based containers would cost an allocation per value.
//
// Contract:
// - Mix64 is MurmurHash3's 64-bit finalizer: a bijection whose output bits
//   each depend on every input bit. DLQ ids are derived with it
//   (ingest::DlqIdFor), so it must never change.
// - HashString is the process's string hash (std::hash): fast, not stable
//   across builds, for in-memory tables only.
// - Every table is exact (keys are compared, not only hashed), so a DQ check
//   that counts duplicates or distinct values gives the same answer as
//   std::unordered_set. None is iterable, none allocates per key, none is
//   thread-safe. Slots are chosen from Mix64 of the key's hash, and probing
//   is linear; the 64-bit tables (gold's largest structures) fill to 70%,
//   the others to 50%.
// - StringViewSet stores views, not copies: the bytes it was given must
//   outlive it. Int64Set takes every int64 value. FlatSet64 and FlatMap64
//   reserve the key UINT64_MAX. IdKeySet holds event ids as 128-bit keys
//   (MakeIdKey: a UUID's own bits, else a 128-bit hash of the text with a bit
//   set that no parsed UUID v4 has there, so hashed and parsed keys never
//   collide).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace ws {

constexpr uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// 2^64 / golden ratio: the odd constant used to spread or combine hashes.
inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

inline uint64_t HashString(std::string_view s) { return std::hash<std::string_view>{}(s); }

// The smallest power of two >= 16 holding n keys at most half full.
inline size_t FlatCapacityFor(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  return cap;
}

class StringViewSet {
 public:
  explicit StringViewSet(size_t expected = 0) { Rehash(FlatCapacityFor(expected)); }

  // False if an equal string is already present.
  bool Insert(std::string_view v) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    const uint64_t h = Hash(v);
    Slot* s = Find(v, h);
    if (s->hash != 0) return false;
    *s = Slot{h, v.data(), v.size()};
    ++size_;
    return true;
  }
  bool Contains(std::string_view v) const { return const_cast<StringViewSet*>(this)->Find(v, Hash(v))->hash != 0; }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0 = empty; Hash() never returns 0
    const char* data = nullptr;
    size_t len = 0;
  };
  static uint64_t Hash(std::string_view v) { return HashString(v) | 1; }
  Slot* Find(std::string_view v, uint64_t h) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = Mix64(h) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.hash == 0) return &s;
      if (s.hash == h && s.len == v.size() && std::memcmp(s.data, v.data(), v.size()) == 0) return &s;
    }
  }
  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    const size_t mask = capacity - 1;
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      size_t i = Mix64(s.hash) & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// A set of 64-bit keys with one reserved value `kEmpty` marking free slots;
// the reserved value itself is kept as a flag, so every key can be stored.
class FlatSet64 {
 public:
  explicit FlatSet64(size_t expected = 0) { Rehash(FlatCapacityFor(expected)); }

  // False if key is already present.
  bool Insert(uint64_t key) {
    if (key == kEmpty) return !std::exchange(has_empty_key_, true);
    if ((used_ + 1) * 10 > keys_.size() * 7) Rehash(keys_.size() * 2);
    size_t i = Mix64(key) & mask_;
    while (keys_[i] != kEmpty) {
      if (keys_[i] == key) return false;
      i = (i + 1) & mask_;
    }
    keys_[i] = key;
    ++used_;
    return true;
  }
  size_t size() const { return used_ + (has_empty_key_ ? 1 : 0); }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  void Rehash(size_t capacity) {
    std::vector<uint64_t> old(capacity, kEmpty);
    old.swap(keys_);
    mask_ = capacity - 1;
    for (uint64_t k : old) {
      if (k == kEmpty) continue;
      size_t i = Mix64(k) & mask_;
      while (keys_[i] != kEmpty) i = (i + 1) & mask_;
      keys_[i] = k;
    }
  }
  std::vector<uint64_t> keys_;
  size_t mask_ = 0, used_ = 0;
  bool has_empty_key_ = false;
};

// Distinct int64 values (a FlatSet64 over their bits).
class Int64Set {
 public:
  explicit Int64Set(size_t expected = 0) : set_(expected) {}
  bool Insert(int64_t v) { return set_.Insert(static_cast<uint64_t>(v)); }  // false if present
  size_t size() const { return set_.size(); }

 private:
  FlatSet64 set_;
};

// 64-bit keys to int32 values. Key UINT64_MAX is reserved.
class FlatMap64 {
 public:
  explicit FlatMap64(size_t expected = 0) { Rehash(FlatCapacityFor(expected)); }
  // The value for key, inserting `value` if absent; second = inserted.
  std::pair<int32_t, bool> FindOrInsert(uint64_t key, int32_t value) {
    size_t i = Mix64(key) & mask_;
    while (keys_[i] != kEmpty) {
      if (keys_[i] == key) return {values_[i], false};
      i = (i + 1) & mask_;
    }
    keys_[i] = key;
    values_[i] = value;
    if (++size_ * 10 > keys_.size() * 7) Rehash(keys_.size() * 2);
    return {value, true};
  }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  void Rehash(size_t capacity) {
    std::vector<uint64_t> old_keys(capacity, kEmpty);
    std::vector<int32_t> old_values(capacity);
    old_keys.swap(keys_);
    old_values.swap(values_);
    mask_ = capacity - 1;
    for (size_t j = 0; j < old_keys.size(); ++j) {
      if (old_keys[j] == kEmpty) continue;
      size_t i = Mix64(old_keys[j]) & mask_;
      while (keys_[i] != kEmpty) i = (i + 1) & mask_;
      keys_[i] = old_keys[j];
      values_[i] = old_values[j];
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> values_;
  size_t mask_ = 0, size_ = 0;
};

struct IdKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const IdKey& o) const { return hi == o.hi && lo == o.lo; }
};
IdKey MakeIdKey(std::string_view event_id);

// Open-addressing set of IdKeys (32 bytes of slots per key at most).
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
