// EventIngestor: ingest rules 1-4 (docs/ingest-rules.md) for one raw recentchange payload.
//
// Contract: Ingest() classifies a payload as accepted (ONE row appended to a
// bronze::RawEventsSchema() batch), DLQ (ONE row appended to a
// bronze::DlqEventsSchema() batch, error_code one of the codes below),
// canary or filtered (nothing appended), and updates counters().
// Checks, first failure decides:
//   1. too_large (> 1 MiB), invalid_utf8, invalid_json (also a lone-surrogate
//      escape, and an integer literal beyond 64 bits), not_an_object;
//   2. meta.domain == "canary" -> kCanary;
//   3. missing_field:<path> / wrong_type:<path> in the order meta, meta.id,
//      meta.domain, type, then the known fields in bronze column order, then
//      the event time (missing_field:timestamp). `null` is absent. Integers
//      must be JSON integer literals that fit (int32: namespace, length.*,
//      meta.partition; int64 otherwise);
//   4. domain filter -> kFiltered.
// Rule 5 (duplicate event ids) is the bronze writer's job: it reports them
// with CountDuplicate(). dlq_id is a UUID-formatted hash of (source name,
// record position, payload): a re-delivered bad payload gets the same id.
// One simdjson DOM parser and one padded buffer are reused for every call,
// so steady-state ingest allocates nothing beyond the columns' own growth.
// Not thread-safe: use one EventIngestor per thread and Merge the counters.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "wikistream/format/record_batch.h"
#include "wikistream/model/region.h"
#include "wikistream/source/source.h"

namespace ws::ingest {

enum class IngestOutcome { kAccepted, kDlq, kCanary, kFiltered };

struct IngestCounters {
  int64_t accepted = 0, canary = 0, filtered = 0, duplicate = 0;
  std::map<std::string, int64_t> dlq_by_code;  // "too_large", "invalid_json", "missing_field:meta.id", ...
  int64_t dlq_total() const;
  void Merge(const IngestCounters& other);
};

inline constexpr size_t kMaxPayloadBytes = size_t{1} << 20;  // 1 MiB

// Deterministic "xxxxxxxx-xxxx-8xxx-yxxx-xxxxxxxxxxxx" (RFC 9562 version 8)
// from a 128-bit hash of the three parts.
std::string DlqIdFor(std::string_view source_name, std::string_view position, std::string_view payload);

class EventIngestor {
 public:
  EventIngestor(model::DomainFilter filter, std::string source_name);  // source_name = bronze `source` column value
  ~EventIngestor();
  EventIngestor(EventIngestor&&) noexcept;
  EventIngestor& operator=(EventIngestor&&) noexcept;

  IngestOutcome Ingest(const source::SourceRecord& rec, format::RecordBatch* bronze, format::RecordBatch* dlq);
  const IngestCounters& counters() const { return counters_; }
  void CountDuplicate(int64_t n = 1) { counters_.duplicate += n; }
  const std::string& source_name() const { return source_name_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  model::DomainFilter filter_;
  std::string source_name_;
  IngestCounters counters_;
};

}  // namespace ws::ingest
