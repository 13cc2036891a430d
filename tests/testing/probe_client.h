// A client of a role's ops server (/metrics, /healthz, /readyz) for the
// end-to-end tests: one GET with bounded timeouts, and one series read off a
// Prometheus text page. Header-only; the test links cpp-httplib.
#pragma once

#include <httplib.h>

#include <sstream>
#include <string>

namespace ws::testing {

struct ProbeAnswer {
  int status = 0;  // 0: no answer
  std::string body;
};

inline ProbeAnswer Get(const std::string& url, const std::string& path) {
  httplib::Client client(url);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto r = client.Get(path.c_str());
  if (!r) return {};
  return {r->status, r->body};
}

// The value of one series ("name{labels}" exactly as printed) on a
// Prometheus text page; -1 when absent.
inline double Metric(const std::string& page, const std::string& series) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

inline double Scrape(const std::string& url, const std::string& series) {
  return Metric(Get(url, "/metrics").body, series);
}

}  // namespace ws::testing
