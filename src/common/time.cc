#include "wikistream/common/time.h"

#include <fmt/format.h>

#include <chrono>

namespace ws {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (*m <= 2));
}

std::optional<int64_t> ParseIso8601Micros(std::string_view s) {
  int year, mon, day, hh, mm, ss;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mon) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &hh) ||
      s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' || !Digits(s, 17, 2, &ss)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, mon) || hh > 23 ||
      mm > 59 || ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) {
        frac_us += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos >= s.size()) return std::nullopt;  // a zone designator is required
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    int sign = s[pos] == '-' ? -1 : 1;
    if (!Digits(s, pos + 1, 2, &oh)) return std::nullopt;
    size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    if (!Digits(s, mpos, 2, &om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
    pos = mpos + 2;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return secs * kMicrosPerSecond + frac_us;
}

std::optional<int64_t> ParseDateMicros(std::string_view s) {
  int year, mon, day;
  if (s.size() != 10 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &mon) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || mon < 1 || mon > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, mon)) {
    return std::nullopt;
  }
  return DaysFromCivil(year, mon, day) * kMicrosPerDay;
}

std::string FormatDate(int64_t micros) {
  int y;
  unsigned m, d;
  CivilFromDays(FloorDiv(micros, kMicrosPerDay), &y, &m, &d);
  return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

int HourOfDay(int64_t micros) {
  int64_t in_day = micros - FloorDiv(micros, kMicrosPerDay) * kMicrosPerDay;
  return static_cast<int>(in_day / kMicrosPerHour);
}

std::string FormatIso8601(int64_t micros) {
  int64_t secs = FloorDiv(micros, kMicrosPerSecond);
  int64_t frac = micros - secs * kMicrosPerSecond;
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z", y, m, d, sod / 3600, (sod / 60) % 60,
                     sod % 60, frac);
}

std::string FormatIso8601Millis(int64_t micros) {
  std::string full = FormatIso8601(micros);  // ...SS.ffffffZ
  full.erase(full.size() - 4, 3);
  return full;
}

std::string NextDate(std::string_view date) {
  auto t = ParseDateMicros(date);
  return t ? FormatDate(*t + kMicrosPerDay) : std::string();
}

std::string PreviousDate(std::string_view date) {
  auto t = ParseDateMicros(date);
  return t ? FormatDate(*t - kMicrosPerDay) : std::string();
}

}  // namespace ws
