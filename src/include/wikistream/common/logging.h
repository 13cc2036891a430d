// Logging: one line per significant event on stderr.
//
// Contract: lines look like "2026-11-24T10:00:00.123Z INFO  bronze: committed 812 rows".
// The level is process-wide (default Info; tests set Warn to stay quiet, and
// WIKISTREAM_LOG_LEVEL=debug|info|warn|error|off overrides at start-up).
// Thread-safe: each line is written with one write(2).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace ws::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug", "info", "warn", "error", "off"; returns false if unknown.
bool ParseLevel(std::string_view text, Level* level);
void Write(Level level, std::string_view component, std::string_view message);

template <typename... Args>
void Debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kDebug) Write(Level::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kInfo) Write(Level::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kWarn) Write(Level::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kError) Write(Level::kError, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace ws::log
