#include "wikistream/format/file_stats.h"

namespace ws::format {

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the longest prefix of `value` of at most max_bytes bytes that
// ends on a code-point boundary.
size_t PrefixLength(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return value.size();
  size_t n = max_bytes;
  while (n > 0 && IsContinuation(static_cast<unsigned char>(value[n]))) --n;
  return n;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the code point starting at s[0..len); invalid sequences decode as
// their first byte so that the result is still a byte-order upper bound.
uint32_t DecodeUtf8(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80 || s.size() == 1) return c;
  if ((c & 0xE0) == 0xC0 && s.size() == 2) return ((c & 0x1F) << 6) | (b(1) & 0x3F);
  if ((c & 0xF0) == 0xE0 && s.size() == 3) return ((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  if ((c & 0xF8) == 0xF0 && s.size() == 4) {
    return ((c & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
  return 0x110000;  // not incrementable as a character
}

}  // namespace

std::string TruncateLowerBound(std::string_view value, size_t max_bytes) {
  return std::string(value.substr(0, PrefixLength(value, max_bytes)));
}

std::optional<std::string> TruncateUpperBound(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return std::string(value);
  size_t end = PrefixLength(value, max_bytes);
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && IsContinuation(static_cast<unsigned char>(value[start]))) --start;
    uint32_t cp = DecodeUtf8(value.substr(start, end - start));
    if (cp < 0x10FFFF) {
      uint32_t next = cp + 1;
      if (next >= 0xD800 && next <= 0xDFFF) next = 0xE000;
      std::string out(value.substr(0, start));
      AppendUtf8(next, &out);
      return out;
    }
    end = start;
  }
  return std::nullopt;
}

}  // namespace ws::format
