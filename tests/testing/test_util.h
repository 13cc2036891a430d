// Helpers shared by every test executable.
#pragma once

#include <filesystem>
#include <string>

#include "wikistream/common/logging.h"

namespace ws::testing {

// A fresh directory under $TMPDIR removed when the object dies (unless the
// environment sets WS_KEEP_TEST_DIRS=1, for post-mortems).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Sets the log level for its lifetime (quiets tests of noisy clients).
class ScopedLogLevel {
 public:
  explicit ScopedLogLevel(log::Level level) : saved_(log::GetLevel()) { log::SetLevel(level); }
  ~ScopedLogLevel() { log::SetLevel(saved_); }
  ScopedLogLevel(const ScopedLogLevel&) = delete;
  ScopedLogLevel& operator=(const ScopedLogLevel&) = delete;

 private:
  log::Level saved_;
};

// Each path below comes from the environment variable named, else from the
// value CMake compiled in, so test binaries also run by hand.
// tests/data/recorded (real recorded events kept in the repository), from WS_SHARED_DATA_DIR.
std::filesystem::path SharedDataDir();
// The repository root, from WS_SOURCE_DIR.
std::filesystem::path SourceDir();
// The built wikistream binary, from WS_BINARY.
std::filesystem::path WikistreamBinary();
// The CMake build directory, from WS_BUILD_DIR.
std::filesystem::path BuildDir();
std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& content);

// Runs a shell command, returns its exit status (-1 if it did not exit
// normally) and captures stdout+stderr into *output if given.
int RunCommand(const std::string& command, std::string* output = nullptr);

// Reads `table` of the warehouse at `warehouse` as an independent Iceberg
// reader does (tests/interop/warehouse_reader.mjs: our metadata and
// manifests read with avsc, the data files by DuckDB), rows ordered by
// `order_by` when given. *json gets the reader's output ({"rows": [...]}) or
// its error text; returns the reader's exit status.
int ReadTableWithDuckDb(const std::string& warehouse, const std::string& table, const std::string& order_by,
                        std::string* json);

}  // namespace ws::testing
