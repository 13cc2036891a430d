// Synthetic recentchange events: a deterministic generator, a Source named
// "synthetic", and the NDJSON writer behind `wikistream generate`.
//
// Contract:
// - SyntheticGenerator(seed, ...) produces one NDJSON line per Next() (no
//   trailing newline) shaped like a real recentchange event (~880 bytes:
//   $schema, meta{uri,request_id,id,dt,domain,stream,topic,partition,offset},
//   id, type, namespace, title, title_url, comment, timestamp, user, bot,
//   notify_url, minor, patrolled, length, revision, server_*, wiki,
//   parsedcomment; log events carry log_id/log_type/log_action/log_params).
//   The same arguments give byte-identical output, on every platform.
// - Mix: ~65% the 18 target Wikipedias (en largest), the rest commons,
//   wikidata and other wikis; types edit/categorize/log/new with rare
//   external and "142"; ~25% bot events; IPv4, IPv6 and temporary-account
//   (~2026-12345-6) editors; heavy-tailed length changes (some < -5000,
//   some > 50000); 8 non-bot heavy users (~1.5% of events, > 50 edits per
//   hour each from ~20k events on; four of them also make many large
//   deletions, which makes them HIGH risk, the others MEDIUM); ~0.1% canary events (meta.domain "canary"); ~0.2%
//   duplicates (an exact repeat of a recent valid line); `malformed_share`
//   (default 0.2%) broken lines: truncated JSON, missing meta.id, a known
//   field of the wrong type, or a JSON value that is not an object.
// - Event times start at start_time_us and advance by 1/events_per_second
//   on average (a little jitter; duplicates repeat their original's time).
// - MakeSyntheticSource: `count` lines then EndOfStream (-1: endless);
//   speed 0 = as fast as Poll asks, N > 0 = paced at N x real time. When
//   endless or paced, event times start at the current time, else at the
//   fixed default start. Position {"seed":S,"next":N,"start":T}: the next
//   line index plus the start time, so Resume() regenerates the identical
//   continuation (it replays the generator up to N: ~3 s per million).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "wikistream/common/result.h"
#include "wikistream/source/source.h"

namespace ws::source {

inline constexpr int64_t kSyntheticDefaultStartUs = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

// What the generator made so far (for tests and the generate command's summary).
struct SyntheticCounts {
  int64_t lines = 0;
  int64_t canaries = 0;
  int64_t duplicates = 0;
  int64_t malformed = 0;
  int64_t heavy = 0;  // valid events by the heavy users
};

class SyntheticGenerator {
 public:
  explicit SyntheticGenerator(uint64_t seed, int64_t start_time_us = kSyntheticDefaultStartUs,
                              double events_per_second = 200, double malformed_share = 0.002);
  ~SyntheticGenerator();
  SyntheticGenerator(SyntheticGenerator&&) noexcept;
  SyntheticGenerator& operator=(SyntheticGenerator&&) noexcept;

  std::string Next();
  void NextInto(std::string* line);  // same as Next(), reusing the caller's buffer
  // Event time of the line last returned (meta.dt of the event it is based on).
  int64_t last_event_time_us() const;
  const SyntheticCounts& counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Result<std::unique_ptr<Source>> MakeSyntheticSource(uint64_t seed, int64_t count /* -1 endless */,
                                                    double speed /* 0 = as fast as possible */);

// `wikistream generate N --seed S`: N lines, each followed by '\n'.
Status WriteSyntheticNdjson(int64_t count, uint64_t seed, std::FILE* out);

}  // namespace ws::source
