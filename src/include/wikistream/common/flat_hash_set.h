// StringViewSet and Int64Set: exact open-addressing hash sets for the batch
// jobs' uniqueness checks and distinct counts, which run over hundreds of
// thousands of values per cycle.
//
// Contract: membership is exact (values are compared, not only hashed), so a
// DQ check that counts duplicates or distinct values gives the same answer
// as std::unordered_set. A StringViewSet stores views, not copies: the bytes
// it was given must outlive it (the callers' sets live inside one function
// over one RecordBatch). Insertion never allocates per value. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace ws {

class StringViewSet {
 public:
  explicit StringViewSet(size_t expected = 0) { Rehash(CapacityFor(expected)); }

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
  static uint64_t Hash(std::string_view v) { return std::hash<std::string_view>{}(v) | 1; }
  static size_t CapacityFor(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    return cap;
  }
  Slot* Find(std::string_view v, uint64_t h) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = (h * 0x9e3779b97f4a7c15ULL) >> 20 & mask;; i = (i + 1) & mask) {
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
      size_t i = (s.hash * 0x9e3779b97f4a7c15ULL) >> 20 & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

class Int64Set {
 public:
  explicit Int64Set(size_t expected = 0) {
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    Rehash(cap);
  }

  // False if v is already present.
  bool Insert(int64_t v) {
    // One value is the empty-slot marker; its presence is a flag instead.
    if (v == kEmpty) {
      if (has_empty_value_) return false;
      has_empty_value_ = true;
      return true;
    }
    if ((used_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    const size_t mask = slots_.size() - 1;
    for (size_t i = SlotOf(v, mask);; i = (i + 1) & mask) {
      if (slots_[i] == v) return false;
      if (slots_[i] == kEmpty) {
        slots_[i] = v;
        ++used_;
        return true;
      }
    }
  }
  size_t size() const { return used_ + (has_empty_value_ ? 1 : 0); }

 private:
  static constexpr int64_t kEmpty = INT64_MIN;
  static size_t SlotOf(int64_t v, size_t mask) {
    uint64_t x = static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ULL;
    return static_cast<size_t>(x ^ (x >> 29)) & mask;
  }
  void Rehash(size_t capacity) {
    std::vector<int64_t> old = std::move(slots_);
    slots_.assign(capacity, kEmpty);
    const size_t mask = capacity - 1;
    for (int64_t v : old) {
      if (v == kEmpty) continue;
      size_t i = SlotOf(v, mask);
      while (slots_[i] != kEmpty) i = (i + 1) & mask;
      slots_[i] = v;
    }
  }

  std::vector<int64_t> slots_;
  size_t used_ = 0;
  bool has_empty_value_ = false;
};

}  // namespace ws
