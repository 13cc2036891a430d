// Time helpers. All times are UTC microseconds since the Unix epoch (the
// representation of Iceberg timestamptz). Dates are "YYYY-MM-DD" strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

int64_t NowMicros();  // wall clock (system_clock), UTC
int64_t MonotonicMicros();

// ISO-8601 / RFC 3339: "2024-08-22T10:00:00Z", "...T10:00:00.123Z",
// "...T10:00:00+00:00", "...T10:00:00.123456+02:00". Returns nullopt if the
// text is not one of these forms or names an impossible date/time.
std::optional<int64_t> ParseIso8601Micros(std::string_view text);
// Parses "YYYY-MM-DD"; returns the micros at 00:00:00Z of that day.
std::optional<int64_t> ParseDateMicros(std::string_view date);

std::string FormatDate(int64_t micros);         // "2024-08-22"
int HourOfDay(int64_t micros);                  // 0..23
std::string FormatIso8601(int64_t micros);      // "2024-08-22T10:00:00.123456Z"
std::string FormatIso8601Millis(int64_t micros);  // "2024-08-22T10:00:00.123Z"

int64_t DaysFromCivil(int y, unsigned m, unsigned d);  // days since 1970-01-01
void CivilFromDays(int64_t days, int* y, unsigned* m, unsigned* d);
std::string NextDate(std::string_view date);      // "2024-12-31" -> "2025-01-01"
std::string PreviousDate(std::string_view date);

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerHour = 3'600'000'000LL;
constexpr int64_t kMicrosPerDay = 86'400'000'000LL;

}  // namespace ws
