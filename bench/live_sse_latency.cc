// /api/live delivery latency over HTTP: the real HttpServer (Beast by
// default) with a LiveAggregator fed by the real ingest loop (synthetic
// source paced to EVENTS_PER_SECOND, ingest rules, dedup, bronze writer into
// a scratch warehouse), and CLIENTS Server-Sent Events readers on 127.0.0.1.
//
// Delivery latency of one SSE event to one client: from the moment the event
// is published to the moment that client has read the complete event (up to
// its closing blank line) from its socket.
// - "summary" events: published by the server's ticker (PublishSummary every
//   sse_interval_ms = 1000); the publish moment is the event's own "now"
//   field (the aggregator's wall clock when PublishSummary built the
//   snapshot, millisecond precision: truncation adds 0-1 ms to each figure).
//   The snapshot each stream gets when it opens is not counted, nor any
//   event published before the feed starts.
// - "alert" events: probes pushed with LiveAggregator::OnAlert 10 times a
//   second, as the live path pushes its own alerts; the publish moment is
//   taken (microseconds) just before OnAlert.
// The readers are non-blocking sockets on one epoll thread that only
// de-chunks, splits events and timestamps them, so they cost the server's
// cores little (the machine is shared with them all the same).
//
// Usage: ws_live_sse_latency [beast|httplib] [EVENTS_PER_SECOND=2000]
//                            [SECONDS=20] [CLIENTS=200]
// WS_BENCH_IO_THREADS=N sets Beast's io threads (default one per core).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/common/file_system.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/serve/api.h"
#include "wikistream/serve/http_server.h"
#include "wikistream/source/synthetic_source.h"

namespace {

using ws::NowMicros;

constexpr std::string_view kProbePrefix = "bench-probe-";

// One SSE reader: HTTP response head, then the chunked (or plain) body
// split into events at their blank line.
struct Client {
  int fd = -1;
  std::string raw;       // bytes not yet de-chunked
  std::string body;      // de-chunked bytes not yet split into events
  bool head_done = false;
  bool chunked = false;
  bool ended = false;
  size_t chunk_left = 0;  // body bytes left in the current chunk
  bool skipped_first = false;
  size_t delivered = 0;
};

struct Stats {
  std::atomic<int64_t> from_us{INT64_MAX};  // events published before the feed starts are not counted
  std::vector<double> summary_ms;
  std::vector<double> alert_ms;
};

class Probes {
 public:
  void Sent(int64_t seq, int64_t at_us) {
    std::lock_guard<std::mutex> lock(mu_);
    sent_[seq] = at_us;
  }
  std::optional<int64_t> SentAt(int64_t seq) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sent_.find(seq);
    if (it == sent_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> sent_;
};

// Timestamps every complete event in c.body.
void TakeEvents(Client& c, int64_t now_us, const Probes& probes, Stats& stats) {
  size_t end;
  while ((end = c.body.find("\n\n")) != std::string::npos) {
    const std::string_view ev(c.body.data(), end);
    if (ev.starts_with("retry:")) {  // the stream's opening line, its own block
    } else if (ev.starts_with("event: summary")) {
      if (!c.skipped_first) {
        c.skipped_first = true;  // the snapshot sent on open, not a published event
      } else if (size_t p = ev.find("\"now\":\""); p != std::string_view::npos) {
        auto at = ws::ParseIso8601Micros(ev.substr(p + 7, 24));
        if (at && *at >= stats.from_us.load()) {
          stats.summary_ms.push_back(static_cast<double>(now_us - *at) / 1000.0);
          ++c.delivered;
        }
      }
    } else if (ev.starts_with("event: alert")) {
      if (size_t p = ev.find(kProbePrefix); p != std::string_view::npos) {
        const int64_t seq = std::atoll(std::string(ev.substr(p + kProbePrefix.size(), 20)).c_str());
        if (auto at = probes.SentAt(seq); at && *at >= stats.from_us.load()) {
          stats.alert_ms.push_back(static_cast<double>(now_us - *at) / 1000.0);
          ++c.delivered;
        }
      }
    } else if (ev.starts_with("event: bye")) {
      c.ended = true;
    }
    c.body.erase(0, end + 2);
  }
}

// Moves c.raw into c.body, removing the chunked transfer framing.
void Dechunk(Client& c) {
  if (!c.head_done) {
    const size_t end = c.raw.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::string head = c.raw.substr(0, end);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
    c.chunked = head.find("transfer-encoding: chunked") != std::string::npos;
    if (head.find(" 200 ") == std::string::npos) c.ended = true;
    c.head_done = true;
    c.raw.erase(0, end + 4);
  }
  if (!c.chunked) {
    c.body += c.raw;
    c.raw.clear();
    return;
  }
  size_t pos = 0;
  while (pos < c.raw.size()) {
    if (c.chunk_left > 0) {
      const size_t n = std::min(c.chunk_left, c.raw.size() - pos);
      c.body.append(c.raw, pos, n);
      pos += n;
      c.chunk_left -= n;
      continue;
    }
    // "\r\n" ending the previous chunk (if any), then "<hex>\r\n".
    size_t line = pos;
    if (c.raw.compare(line, 2, "\r\n") == 0) line += 2;
    const size_t eol = c.raw.find("\r\n", line);
    if (eol == std::string::npos) break;
    if (eol == line) {  // the previous chunk's "\r\n" not arrived yet, or an empty line
      pos = eol + 2;
      continue;
    }
    c.chunk_left = std::strtoull(c.raw.c_str() + line, nullptr, 16);
    if (c.chunk_left == 0) c.ended = true;
    pos = eol + 2;
  }
  c.raw.erase(0, pos);
}

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

double Pct(const std::vector<double>& v, double p) {
  return v.empty() ? 0.0 : v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

void Print(const char* what, std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  std::printf("  %-8s %7zu delivered: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, v.size(),
              Pct(v, 0.5), Pct(v, 0.95), Pct(v, 0.99), v.empty() ? 0.0 : v.back());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ws;
  const std::string transport_name = argc > 1 ? argv[1] : "beast";
  const double rate = argc > 2 ? std::atof(argv[2]) : 2000;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 20;
  const int clients = argc > 4 ? std::atoi(argv[4]) : 200;
  auto transport = serve::ParseHttpTransport(transport_name);
  if (!transport.ok()) {
    std::fprintf(stderr, "%s\n", transport.status().ToString().c_str());
    return 2;
  }
  log::SetLevel(log::Level::kWarn);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("ws-sse-latency-" + std::to_string(::getpid()))).string();
  auto warehouse = warehouse::Warehouse::Open(DefaultFileSystem(), dir, true);
  if (!warehouse.ok()) {
    std::fprintf(stderr, "%s\n", warehouse.status().ToString().c_str());
    return 1;
  }
  // The generator emits 200 events per second of event time; pace it to `rate`.
  auto source = source::MakeSyntheticSource(11, static_cast<int64_t>(rate * seconds), rate / 200.0);
  auto writer = ingest::BronzeWriter::Open(warehouse->get(), "synthetic");
  if (!source.ok() || !writer.ok()) return 1;

  alerts::AlertSink alert_sink("");
  live::LiveAggregator live_state(live::LiveOptions{}, &alert_sink);  // wall clock: "now" is the publish time
  serve::ServerOptions so;
  so.port = 0;
  so.transport = *transport;
  if (const char* io = std::getenv("WS_BENCH_IO_THREADS")) so.io_threads = std::atoi(io);
  so.max_sse_streams = static_cast<size_t>(clients) + 16;
  so.max_connections = static_cast<size_t>(clients) + 64;
  serve::HttpServer server(so, nullptr, &live_state, &alert_sink, nullptr, serve::ServerCallbacks{});
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  // Readers: all connected and subscribed before the feed starts.
  std::vector<Client> conns(static_cast<size_t>(clients));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = Connect(server.port());
    if (conns[i].fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  Probes probes;
  Stats stats;
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    const std::string request = "GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    std::vector<bool> sent(conns.size(), false);
    std::vector<epoll_event> events(256);
    char buf[64 * 1024];
    while (reading.load()) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
      for (int k = 0; k < n; ++k) {
        const size_t i = events[k].data.u64;
        Client& c = conns[i];
        if (c.fd < 0) continue;
        if (!sent[i] && (events[k].events & EPOLLOUT)) {
          // The request is tiny: one send fits the empty socket buffer.
          sent[i] = ::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = i;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
        for (;;) {
          const ssize_t got = ::recv(c.fd, buf, sizeof(buf), 0);
          if (got > 0) {
            const int64_t now = NowMicros();  // bytes of complete events are read by now
            c.raw.append(buf, static_cast<size_t>(got));
            Dechunk(c);
            TakeEvents(c, now, probes, stats);
            continue;
          }
          if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c.ended = true;
            ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          }
          break;
        }
      }
    }
  });
  // Let every stream open (its first snapshot) before the measured run.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  stats.from_us = NowMicros();
  std::atomic<bool> stop{false};
  std::thread prober([&] {
    int64_t seq = 0;
    while (!stop.load()) {
      model::Alert a;
      a.alert_id = fmt::format("{}{}", kProbePrefix, ++seq);
      a.kind = model::AlertKind::kPipeline;
      a.severity = model::AlertSeverity::kInfo;
      a.subject = "delivery probe";
      a.entity = "bench";
      a.details = "{}";
      const int64_t at = NowMicros();
      a.raised_at_us = at;
      a.alert_date = FormatDate(at);
      probes.Sent(seq, at);
      live_state.OnAlert(a);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  ingest::IngestLoopOptions options;
  options.domains = model::DomainFilter::All();
  options.commit_interval_s = 1;
  options.on_rows = [&](const format::RecordBatch& rows) { live_state.Observe(rows); };
  ingest::IngestLoop loop(source->get(), writer->get(), options);
  std::atomic<bool> never{false};
  const int64_t started = NowMicros();
  Status s = loop.Run(never);
  const double ran_s = static_cast<double>(NowMicros() - started) / 1e6;
  stop = true;
  prober.join();
  // The last probes and the next summary are still on their way.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  reading = false;
  reader.join();
  server.Stop();
  for (Client& c : conns) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(ep);
  alert_sink.Shutdown();
  std::filesystem::remove_all(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  size_t got_nothing = 0, ended = 0;
  for (const Client& c : conns) {
    got_nothing += c.delivered == 0 ? 1 : 0;
    ended += c.ended ? 1 : 0;
  }
  std::printf("/api/live delivery (%s, %d clients, %.0f events/s ingested for %.1f s, %llu rows observed):\n",
              std::string(serve::HttpTransportName(*transport)).c_str(), clients, rate, ran_s,
              static_cast<unsigned long long>(live_state.observed_rows()));
  Print("summary", stats.summary_ms);
  Print("alert", stats.alert_ms);
  std::vector<double> all = stats.summary_ms;
  all.insert(all.end(), stats.alert_ms.begin(), stats.alert_ms.end());
  Print("all", all);
  std::printf("  clients that got nothing: %zu; streams ended early: %zu\n", got_nothing, ended);
  return 0;
}
