#include "testing/test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "wikistream/common/logging.h"

namespace ws::testing {
namespace {

std::filesystem::path FromEnv(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return std::filesystem::path(v && *v ? v : fallback);
}

// Tests are quiet unless asked otherwise.
struct QuietLogs {
  QuietLogs() {
    if (!std::getenv("WIKISTREAM_LOG_LEVEL")) log::SetLevel(log::Level::kWarn);
  }
} quiet_logs;

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("wikistream-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  const char* keep = std::getenv("WS_KEEP_TEST_DIRS");
  if (keep && std::string(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path SharedDataDir() { return FromEnv("WS_SHARED_DATA_DIR", WS_DEFAULT_SHARED_DATA_DIR); }
std::filesystem::path SourceDir() { return FromEnv("WS_SOURCE_DIR", WS_DEFAULT_SOURCE_DIR); }
std::filesystem::path WikistreamBinary() { return FromEnv("WS_BINARY", WS_DEFAULT_BINARY); }
std::filesystem::path BuildDir() { return FromEnv("WS_BUILD_DIR", WS_DEFAULT_BUILD_DIR); }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

int RunCommand(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    if (output) output->append(buf.data(), n);
  }
  int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

int ReadTableWithDuckDb(const std::string& warehouse, const std::string& table, const std::string& order_by,
                        std::string* json) {
  std::string cmd = "node " + (SourceDir() / "tests/interop/warehouse_reader.mjs").string() + " " + warehouse + " " +
                    table + (order_by.empty() ? "" : " '" + order_by + "'") + " 2>&1";
  return RunCommand(cmd, json);
}

}  // namespace ws::testing
