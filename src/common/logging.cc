#include "wikistream/common/logging.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "wikistream/common/time.h"

namespace ws::log {
namespace {

Level InitialLevel() {
  Level level = Level::kInfo;
  if (const char* env = std::getenv("WIKISTREAM_LOG_LEVEL")) ParseLevel(env, &level);
  return level;
}

std::atomic<Level>& CurrentLevel() {
  static std::atomic<Level> level{InitialLevel()};
  return level;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarn: return "WARN ";
    case Level::kError: return "ERROR";
    case Level::kOff: return "OFF  ";
  }
  return "?    ";
}

}  // namespace

void SetLevel(Level level) { CurrentLevel().store(level); }
Level GetLevel() { return CurrentLevel().load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug") *level = Level::kDebug;
  else if (text == "info") *level = Level::kInfo;
  else if (text == "warn" || text == "warning") *level = Level::kWarn;
  else if (text == "error") *level = Level::kError;
  else if (text == "off" || text == "quiet") *level = Level::kOff;
  else return false;
  return true;
}

void Write(Level level, std::string_view component, std::string_view message) {
  std::string line = FormatIso8601Millis(NowMicros());
  line += ' ';
  line += LevelName(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  // One write(2) per line keeps lines whole when threads log concurrently.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace ws::log
