// Source: where raw recentchange payloads come from.
//
// Contract: Poll() returns payloads in source order, each with the time it
// was received. ResumePosition() is an opaque string that, given to Resume()
// on a fresh source of the same kind, makes it deliver exactly the records
// after every record returned by Poll() so far (possibly re-delivering some
// earlier ones: the bronze writer drops those by event_id). Positions are
// stored in the Iceberg snapshot summary under `wikistream.source.<name>`.
//   eventstreams: the SSE `id:` JSON array of the last dispatched event, as received
//   replay:       a JSON object {"file":..., "offset": byte offset after the last record}
//   synthetic:    a JSON object {"seed":..., "next": index of the next event}
//   kafka:        a JSON object mapping partition -> next offset
// Poll() blocks at most `timeout`; it returns EndOfStream when a finite
// source is exhausted, Cancelled after Stop(), and retries transient network
// failures internally (it never gives up on a live source by itself).
// Stop() may be called from any thread (e.g. a signal-handling thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/model/source_kind.h"

namespace ws::source {

// Sources that can should leave kPayloadPadding bytes of spare capacity
// after the payload: the JSON parser then reads it in place instead of
// copying it into a padded buffer.
inline constexpr size_t kPayloadPadding = 64;

struct SourceRecord {
  std::string payload;         // the raw event JSON text, as received
  int64_t received_at_us = 0;  // wall clock when it arrived
  std::string position;        // the source position of this record (for the DLQ row)
};

class Source {
 public:
  virtual ~Source() = default;
  virtual model::SourceKind kind() const = 0;
  // Name(kind()): the bronze `source` column.
  std::string name() const { return std::string(model::Name(kind())); }
  virtual Status Resume(const std::string& position) = 0;  // before the first Poll
  virtual Status Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) = 0;
  virtual std::string ResumePosition() const = 0;
  virtual void Stop() = 0;
};

}  // namespace ws::source
