// EventStreamsSource: the live Wikimedia EventStreams (Server-Sent Events)
// client, a Source named "eventstreams".
//
// Contract:
// - One background thread (started by the first Poll) runs libcurl and feeds
//   an SseFramer; every dispatched event of type "message" with non-empty
//   data becomes a SourceRecord{payload = data, received_at_us, position =
//   the event's `id:` value exactly as received}. Other event types are
//   counted and skipped.
// - Nothing is dropped: the framer output goes into a bounded queue; when it
//   is full the curl write callback blocks, so curl stops reading and TCP
//   backpressure reaches the server.
// - Requests send `Accept: text/event-stream`, the User-Agent, and
//   `Last-Event-ID` = the id of the last event dispatched on this source (or
//   the Resume() position before the first event). `since` is added as a
//   query parameter only while there is no Last-Event-ID.
// - Reconnects: a clean server close after a successful stream (Wikimedia
//   closes every ~15 min) reconnects at once (after the server's `retry:`
//   time if it sent one). Failures (connect error, HTTP 429/5xx, dropped
//   connection, no bytes for idle_timeout) wait an exponential backoff with
//   jitter in [backoff_min, min(backoff_max, backoff_min * 2^n)], at least
//   the server's `retry:` and `Retry-After`. The attempt count resets after
//   a connection that delivered at least one event. HTTP 403 logs one line
//   about Wikimedia's User-Agent policy and retries at backoff_max. An event
//   cut off by a dropped connection is discarded; the resume re-delivers it.
// - Poll() appends up to max_records records to *out, waits at most
//   `timeout`, returns OK (possibly with none), or Cancelled after Stop().
//   Network errors never surface from Poll: they are retried and visible in
//   stats(). ResumePosition() is the position of the last record returned by
//   Poll() (or the Resume() position), "" before any.
// - Stop() is thread-safe and ends a blocked Poll and the network thread
//   within ~100 ms.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "wikistream/common/result.h"
#include "wikistream/source/source.h"

namespace ws::source {

struct EventStreamsOptions {
  std::string url = "https://stream.wikimedia.org/v2/stream/recentchange";
  // Wikimedia answers 403 without a descriptive User-Agent with contact info.
  std::string user_agent;  // see MakeEventStreamsUserAgent
  std::string since;       // optional ISO-8601; used only while there is no Last-Event-ID
  std::chrono::milliseconds backoff_min{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds idle_timeout{60000};    // no bytes for this long -> reconnect
  std::chrono::milliseconds connect_timeout{15000};
  size_t queue_capacity = 20000;  // events buffered between the network thread and Poll
  uint64_t jitter_seed = 0;       // 0: random
};

// "wikistream/0.1.0 (https://github.com/wikistream/wikistream)"
std::string MakeEventStreamsUserAgent(const std::string& version, const std::string& contact);

// A consistent copy of the client's counters, for /metrics and health.
struct EventStreamsStats {
  int64_t connect_attempts = 0;
  int64_t connects = 0;     // responses with HTTP 200
  int64_t reconnects = 0;   // connect attempts after the first
  int64_t bytes = 0;        // body bytes received
  int64_t events = 0;       // records queued
  int64_t skipped_events = 0;  // dispatched events of another type
  int64_t http_errors = 0;  // non-200 responses
  int64_t idle_timeouts = 0;
  int64_t last_http_status = 0;
  bool connected = false;       // a 200 stream is open now
  int64_t last_event_at_us = 0;  // wall clock of the last queued record, 0 if none
  size_t queued = 0;            // records waiting for Poll
  std::string last_error;       // "" if none yet
};

class EventStreamsSource : public Source {
 public:
  ~EventStreamsSource() override;
  model::SourceKind kind() const override { return model::SourceKind::kEventStreams; }
  Status Resume(const std::string& position) override;
  Status Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) override;
  std::string ResumePosition() const override;
  void Stop() override;

  EventStreamsStats stats() const;

  struct Impl;

 private:
  friend Result<std::unique_ptr<EventStreamsSource>> OpenEventStreamsSource(EventStreamsOptions options);
  explicit EventStreamsSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Validates the options (URL scheme http/https, non-empty User-Agent, since
// parses as ISO-8601, backoff_min <= backoff_max); does not connect yet.
Result<std::unique_ptr<EventStreamsSource>> OpenEventStreamsSource(EventStreamsOptions options);

}  // namespace ws::source
