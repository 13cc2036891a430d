// Varint and zig-zag coding: the one implementation of the base-128 integers
// of Parquet (RLE/bit-packed run headers, DELTA_BINARY_PACKED), Thrift's
// compact protocol and Avro (modelled on LevelDB's util/coding.h).
//
// Contract: a varint is 1 to 10 bytes, 7 bits each, least significant
// group first, the high bit set on every byte but the last. Decoding
// returns nullptr (pointer form) or false (string_view form) when the
// input ends inside the varint or it does not fit in 64 bits (an 11th
// byte, or a 10th byte above 1); it never reads at or past `limit`.
// Zig-zag maps signed to unsigned so small magnitudes stay short
// (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...). Pure functions, no allocation
// except the appending Put forms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

inline constexpr int kMaxVarint64Length = 10;

// Writes v at dst (room for kMaxVarint64Length bytes); returns the end.
inline char* EncodeVarint64(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Length];
  dst->append(buf, static_cast<size_t>(EncodeVarint64(buf, v) - buf));
}

// The varint at [p, limit) into *v; returns the byte after it, or nullptr.
inline const uint8_t* GetVarint64Ptr(const uint8_t* p, const uint8_t* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    const uint8_t b = *p++;
    if (shift == 63 && b > 1) return nullptr;  // more than 64 bits
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

inline const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v) {
  const uint8_t* end = GetVarint64Ptr(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<const uint8_t*>(limit), v);
  return end ? reinterpret_cast<const char*>(end) : nullptr;
}

// The varint at data[*pos] into *v, advancing *pos past it; false (and *pos
// unchanged) if there is none.
inline bool GetVarint64(std::string_view data, size_t* pos, uint64_t* v) {
  if (*pos > data.size()) return false;
  const char* end = GetVarint64Ptr(data.data() + *pos, data.data() + data.size(), v);
  if (!end) return false;
  *pos = static_cast<size_t>(end - data.data());
  return true;
}

constexpr uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr uint32_t ZigZagEncode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr int64_t ZigZagDecode64(uint64_t z) { return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)); }
constexpr int32_t ZigZagDecode32(uint32_t z) { return static_cast<int32_t>((z >> 1) ^ (~(z & 1) + 1)); }

}  // namespace ws
