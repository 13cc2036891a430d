// Fuzzes the HTTP API end to end: each input is the raw bytes a client sends
// (request line, query string, headers, body), written to a real HttpServer
// on 127.0.0.1 that serves a small in-memory gold dataset and a web root.
// The server's request handling (routing, query parameters, static paths,
// admin auth) is not separable from cpp-httplib, so the socket is the
// interface. Properties:
//   - never a 500 (an exception escaped a handler);
//   - never a byte of a file outside the web root (a symlink inside it
//     points at a secret file next to it);
//   - the admin callbacks never run unless the input carries the token.
// ParseHttpAddress (--http HOST:PORT) is fuzzed with the same bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "wikistream/common/logging.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/serve/analytics_store.h"
#include "wikistream/serve/http_server.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAdminToken = "fuzz-admin-token-5b2e";
std::atomic<bool> g_admin_ran{false};
int g_port = 0;
std::string g_secret;
std::string g_tmp;

void WriteText(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The tables of the seed Parquet files, so date/limit parameters reach
// code that filters real rows.
void LoadStore(ws::serve::InMemoryAnalyticsStore* store) {
  const fs::path dir = fs::path(WS_FUZZ_CORPUS_DIR) / "parquet_reader_fuzzer";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    // Seeds are named <namespace>.<table>.parquet.
    if (entry.path().extension() != ".parquet" || ws::serve::DateColumnOf(entry.path().stem().string()).empty()) continue;
    auto reader = ws::ParquetReader::Open(ws::DefaultFileSystem(), entry.path().string());
    if (!reader.ok()) continue;
    auto rows = (*reader)->ReadAll();
    if (rows.ok()) (void)store->Append(entry.path().stem().string(), *rows);
  }
}

void Cleanup() {
  std::error_code ec;
  if (!g_tmp.empty()) fs::remove_all(g_tmp, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/ws-http-fuzz-XXXXXX";
  if (!mkdtemp(tmpl)) ws::fuzz::Fail("mkdtemp");
  g_tmp = tmpl;
  std::atexit(Cleanup);
  const fs::path root(g_tmp);
  fs::create_directories(root / "web" / "sub");
  WriteText(root / "web" / "index.html", "<!doctype html><title>fuzz</title>");
  WriteText(root / "web" / "sub" / "app.js", "console.log(1)");
  // Assembled at run time so the marker is not a constant in the binary.
  g_secret = std::string("SECRET-") + std::to_string(getpid()) + "-outside-web-root";
  WriteText(root / "secret.txt", g_secret);
  std::error_code ec;
  fs::create_symlink("../secret.txt", root / "web" / "escape.txt", ec);
  fs::create_directory_symlink("..", root / "web" / "up", ec);

  ws::log::SetLevel(ws::log::Level::kOff);  // 400s and 404s are the norm here
  static auto* store = new ws::serve::InMemoryAnalyticsStore();
  LoadStore(store);
  ws::serve::ServerOptions opts;
  opts.port = 0;
  opts.web_root = (root / "web").string();
  opts.admin_token = std::string(kAdminToken);
  opts.worker_threads = 2;
  ws::serve::ServerCallbacks cb;
  cb.run_batch = [] { g_admin_ran = true; return ws::Result<std::string>(std::string("{}")); };
  cb.run_maintain = [] { g_admin_ran = true; return ws::Result<std::string>(std::string("{}")); };
  static auto* server = new ws::serve::HttpServer(opts, store, nullptr, nullptr, nullptr, cb);
  if (ws::Status st = server->Start(); !st.ok()) ws::fuzz::Fail("server start:", st.ToString());
  g_port = server->port();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  ws::serve::ServerOptions parsed;
  if (ws::serve::ParseHttpAddress(input, &parsed).ok()) {
    if (parsed.port < 0 || parsed.port > 65535) ws::fuzz::Fail("ParseHttpAddress accepted a bad port");
  }

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    ws::fuzz::Fail("cannot connect to the server under test:", strerror(errno));
  }
  size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  // EOF after the request: the server answers what it got and closes.
  shutdown(fd, SHUT_WR);
  std::string response;
  char buf[65536];
  while (response.size() < (64u << 20)) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  // Abortive close: ~2000 connections a second would otherwise leave the
  // client ports in TIME_WAIT and exhaust them within a minute.
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);

  if (response.find("HTTP/1.1 500 ") != std::string::npos) ws::fuzz::Fail("the server answered 500:", response.substr(0, 2000));
  if (response.find(g_secret) != std::string::npos && input.find(g_secret) == std::string::npos) {
    ws::fuzz::Fail("a file outside the web root was served");
  }
  if (g_admin_ran.exchange(false) && input.find(kAdminToken) == std::string::npos) {
    ws::fuzz::Fail("an admin callback ran without the token");
  }
  return 0;
}
