// Fuzzes the HTTP API end to end: each input is the raw bytes a client sends
// (request line, query string, headers, body), written to a real HttpServer
// on 127.0.0.1 that serves a small in-memory gold dataset and a web root.
// The socket is the interface, so the default transport's parsing (Boost.Beast)
// is fuzzed with the shared request handling (routing, query parameters,
// static paths, admin auth). Properties:
//   - never a 500 (an exception escaped a handler);
//   - never a byte of a file outside the web root (a symlink inside it
//     points at a secret file next to it);
//   - the admin callbacks never run unless the input carries the token.
// ParseHttpAddress (--http HOST:PORT) is fuzzed with the same bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
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
// Inputs run and inputs the server answered (printed at exit when
// WS_HTTP_FUZZ_STATS is set): shows how much the answer checks see.
size_t g_inputs = 0;
size_t g_answered = 0;

void WriteText(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The tables of the seed Parquet files, so date/limit parameters reach
// code that filters real rows.
void LoadStore(ws::serve::InMemoryAnalyticsStore* store) {
  const fs::path dir = fs::path(WS_FUZZ_CORPUS_DIR) / "parquet_reader_fuzzer";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    // Seeds are named <namespace>.<table>.parquet.
    if (entry.path().extension() != ".parquet" || ws::serve::DateColumnOf(entry.path().stem().string()).empty()) continue;
    auto reader = ws::format::ParquetReader::Open(ws::DefaultFileSystem(), entry.path().string());
    if (!reader.ok()) continue;
    auto rows = (*reader)->ReadAll();
    if (rows.ok()) (void)store->Append(entry.path().stem().string(), *rows);
  }
}

void Cleanup() {
  std::error_code ec;
  if (!g_tmp.empty()) fs::remove_all(g_tmp, ec);
  if (std::getenv("WS_HTTP_FUZZ_STATS")) {
    std::fprintf(stderr, "http_query_fuzzer: %zu inputs, %zu answered\n", g_inputs, g_answered);
  }
}

// libFuzzer's -timeout runs an interval timer whose SIGALRM interrupts
// blocking calls: every call below retries EINTR (a failed connect was the
// harness's only flake). An interrupted connect() goes on in the kernel, so
// it is finished with poll() and SO_ERROR rather than called again.
bool Connect(int fd) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINTR && errno != EINPROGRESS) return false;
  for (int attempt = 0; attempt < 100; ++attempt) {
    pollfd p{fd, POLLOUT, 0};
    const int r = poll(&p, 1, 2000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      errno = r == 0 ? ETIMEDOUT : errno;
      return false;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return false;
    errno = err;
    return err == 0;
  }
  errno = EINTR;
  return false;
}

// cpp-httplib 0.11.4 drops its answer when the client has half-closed
// before the answer is written: SocketStream::is_writable() peeks, reads the
// EOF and treats the peer as gone (docs/fuzzing.md). So the write side stays
// open while an answer can still come: until the first bytes arrive (or
// 20 ms pass), then until the connection is quiet for 2 ms. Only then the
// half-close tells the server the input is over; it closes, and we read to
// EOF (2 s bound). An input without a newline has no complete request line,
// so nothing would be answered: it is half-closed at once. A slow scheduler
// can still make us half-close too early: the answer is then lost (less
// checking), never a false failure.
std::string ReadAnswer(int fd, bool may_answer) {
  std::string response;
  bool half_closed = false;
  if (!may_answer) {
    shutdown(fd, SHUT_WR);
    half_closed = true;
  }
  char buf[65536];
  int interrupts = 0;
  while (response.size() < (64u << 20)) {
    pollfd p{fd, POLLIN, 0};
    const int wait_ms = half_closed ? 2000 : response.empty() ? 20 : 2;
    const int r = poll(&p, 1, wait_ms);
    if (r < 0) {
      if (errno == EINTR && ++interrupts < 1000) continue;
      break;
    }
    if (r == 0) {
      if (half_closed) break;
      shutdown(fd, SHUT_WR);
      half_closed = true;
      continue;
    }
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN) && ++interrupts < 1000) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  return response;
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
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!Connect(fd)) {
    const int err = errno;
    close(fd);
    ws::fuzz::Fail("cannot connect to the server under test:", strerror(err));
  }
  size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  const std::string response = ReadAnswer(fd, input.find('\n') != std::string::npos);
  ++g_inputs;
  if (!response.empty()) ++g_answered;
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
