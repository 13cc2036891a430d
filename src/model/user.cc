#include "wikistream/model/user.h"

namespace ws::model {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// One to three decimal digits with value <= 255. Leading zeros are allowed,
// as MediaWiki's own IP pattern allows them (IPUtils: 0?\d\d?).
bool IsOctet(std::string_view s) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  return v <= 255;
}

std::string_view NextPart(std::string_view* rest, char sep, bool* had_sep) {
  size_t p = rest->find(sep);
  std::string_view part = rest->substr(0, p);
  *had_sep = p != std::string_view::npos;
  *rest = *had_sep ? rest->substr(p + 1) : std::string_view();
  return part;
}

}  // namespace

std::optional<std::string> NormalizeUser(std::optional<std::string_view> user) {
  if (!user) return std::nullopt;
  // The removed code points are all single bytes in UTF-8 and no byte of a
  // multi-byte sequence is below 0x80, so byte-wise removal is exact.
  std::string out;
  out.reserve(user->size());
  for (char c : *user) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x1F || b == 0x7F) continue;
    out.push_back(c);
  }
  size_t begin = out.find_first_not_of(' ');
  if (begin == std::string::npos) return std::nullopt;
  size_t end = out.find_last_not_of(' ');
  out = out.substr(begin, end - begin + 1);
  return out;
}

bool IsTemporaryAccountName(std::string_view s) {
  // ^~[0-9]{4}-[0-9]+(-[0-9]+)*$
  if (s.size() < 7 || s[0] != '~') return false;
  for (size_t i = 1; i <= 4; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  if (s[5] != '-') return false;
  // After "~dddd": one or more groups "-digits+".
  size_t i = 5;
  while (i < s.size()) {
    if (s[i] != '-') return false;
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return true;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  bool had_sep = true;
  while (had_sep) {
    std::string_view part = NextPart(&s, '.', &had_sep);
    if (!IsOctet(part)) return false;
    if (++parts > 4) return false;
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  // Zone ids ("%eth0") are not addresses of a user; anything outside hex,
  // ':' and '.' is rejected by the group checks below.
  if (s.size() < 2 || s.size() > 45) return false;
  size_t dc = s.find("::");
  bool compressed = dc != std::string_view::npos;
  if (compressed && s.find("::", dc + 1) != std::string_view::npos) return false;

  // Counts the 16-bit groups of one side of "::" (or of the whole address);
  // an embedded IPv4 is allowed only as the very last part of the address.
  auto count_groups = [](std::string_view side, bool is_last_side, int* groups) {
    *groups = 0;
    if (side.empty()) return true;
    bool had_sep = true;
    while (had_sep) {
      std::string_view part = NextPart(&side, ':', &had_sep);
      if (part.empty()) return false;  // ":" at an edge or ":::"
      if (!had_sep && is_last_side && part.find('.') != std::string_view::npos) {
        if (!IsIpv4(part)) return false;
        *groups += 2;
        return true;
      }
      if (part.size() > 4) return false;
      for (char c : part) {
        if (!IsHex(c)) return false;
      }
      ++*groups;
    }
    return true;
  };

  if (!compressed) {
    int groups = 0;
    return count_groups(s, true, &groups) && groups == 8;
  }
  std::string_view left = s.substr(0, dc);
  std::string_view right = s.substr(dc + 2);
  int lg = 0, rg = 0;
  if (!count_groups(left, right.empty(), &lg)) return false;
  if (!count_groups(right, true, &rg)) return false;
  // An IPv4 tail on the left side would be followed by "::": invalid, and
  // count_groups rejected it because is_last_side was false unless right is empty.
  if (right.empty() && left.find('.') != std::string_view::npos) return false;
  return lg + rg <= 7;  // "::" stands for at least one zero group
}

UserType ClassifyName(const std::optional<std::string>& user_normalized) {
  if (!user_normalized) return UserType::kUnknown;
  const std::string& n = *user_normalized;
  if (IsTemporaryAccountName(n)) return UserType::kTemporary;
  if (IsIpv4(n) || IsIpv6(n)) return UserType::kIp;
  return UserType::kRegistered;
}

UserType ClassifyUser(bool is_bot, const std::optional<std::string>& user_normalized) {
  if (is_bot) return UserType::kBot;
  return ClassifyName(user_normalized);
}

}  // namespace ws::model
