// Inputs found by fuzz/http_query_fuzzer, replayed through a real server on
// 127.0.0.1 as raw bytes (an HTTP client library would re-encode them).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <string>

#include "wikistream/serve/analytics_store.h"
#include "wikistream/serve/http_server.h"

namespace ws::serve {
namespace {

// Sends the request and keeps the write side open: cpp-httplib 0.11.4 drops
// the answer to a client that has half-closed (SocketStream::is_writable()
// peeks, reads EOF and treats the peer as gone; docs/fuzzing.md), so the end
// of the exchange is the server's close after "Connection: close".
std::string RawRequest(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

nlohmann::json JsonBody(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  if (at == std::string::npos) return nlohmann::json();
  auto j = nlohmann::json::parse(response.substr(at + 4), nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

// The 404 body of an unknown API path quotes the path; a path that is not
// UTF-8 made the JSON serialiser throw and the client got a 500. The bytes
// reach the path percent-encoded (raw ones are a 400, below).
TEST(HttpFuzzRegression, UnknownApiPathThatIsNotUtf8IsA404WithValidJson) {
  InMemoryAnalyticsStore store;
  ServerOptions opts;
  opts.port = 0;
  HttpServer server(opts, &store, nullptr, nullptr, nullptr, {});
  ASSERT_TRUE(server.Start().ok());
  std::string response =
      RawRequest(server.port(), "GET /api/tren%F5%F5-2023 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(response.rfind("HTTP/1.1 404 ", 0), 0u) << response;
  auto j = JsonBody(response);
  ASSERT_TRUE(j.is_object()) << response;
  EXPECT_NE(j.at("error").get<std::string>().find("/api/tren\xEF\xBF\xBD\xEF\xBF\xBD-2023"), std::string::npos) << response;
}

// A request-target is ASCII (RFC 9112): a raw byte >= 0x80 anywhere in it,
// even valid UTF-8, is answered 400 with a JSON error over the same
// connection; the percent-encoded form of the same path routes normally.
TEST(HttpFuzzRegression, RawNonAsciiByteInRequestTargetIsA400) {
  InMemoryAnalyticsStore store;
  ServerOptions opts;
  opts.port = 0;
  HttpServer server(opts, &store, nullptr, nullptr, nullptr, {});
  ASSERT_TRUE(server.Start().ok());
  for (const std::string target : {"/x\xf5", "/api/tren\xf5\xf5-2023", "/caf\xc3\xa9", "/api/summary?date=\xc3\xa9",
                                   "/healthz\x80"}) {
    SCOPED_TRACE(target);
    std::string response =
        RawRequest(server.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << response;
    auto j = JsonBody(response);
    ASSERT_TRUE(j.is_object()) << response;
    EXPECT_NE(j.at("error").get<std::string>().find("ASCII"), std::string::npos) << response;
  }
  std::string encoded = RawRequest(server.port(), "GET /caf%C3%A9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(encoded.rfind("HTTP/1.1 404 ", 0), 0u) << encoded;
  std::string healthy = RawRequest(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(healthy.rfind("HTTP/1.1 200 ", 0), 0u) << healthy;
}

}  // namespace
}  // namespace ws::serve
