// ReplaySource: replays a recorded file of recentchange events, a Source
// named "replay".
//
// Contract:
// - The format is detected from the file's first non-blank line (after an
//   optional UTF-8 BOM): a raw SSE capture if it is a comment (":...") or an
//   `event`/`data`/`id`/`retry` field line, NDJSON otherwise.
// - NDJSON: one payload per line (LF or CRLF), blank lines skipped, a last
//   line without a newline is a record.
// - SSE: parsed with SseFramer; every dispatched event of type "message"
//   with non-empty data is a record (as the live EventStreams source does).
//   The file is complete by definition, so a last event without a trailing
//   blank line is dispatched (Finish(true)); a trailing `id:` alone is not.
// - The file is read in 1 MiB chunks: memory is bounded by the chunk plus
//   the longest line, whatever the file size.
// - Positions: {"file": <path as given>, "offset": <byte offset just after
//   the last polled record>}. Every SourceRecord carries the position after
//   itself. Resume(position) continues from that offset (the file name must
//   match by its last path component). Format detection always looks at the
//   start of the file.
// - speed 0: records as fast as Poll asks. speed N > 0: paced by meta.dt at
//   N x real time (the first record is due at once; a record whose meta.dt is
//   missing or earlier than its predecessor's is due at once).
// - Poll returns EndOfStream once every record was returned, Cancelled after
//   Stop() (thread-safe; wakes a pacing wait at once).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/common/file_system.h"
#include "wikistream/common/result.h"
#include "wikistream/source/source.h"

namespace ws::source {

Result<std::unique_ptr<Source>> OpenReplaySource(FileSystem* fs, const std::string& path, double speed);

// Extracts and parses "dt" of a recentchange payload's meta object without a
// full JSON parse (pacing only needs an approximate, cheap answer): the value
// of the first `"dt"` key. nullopt if absent or not ISO-8601.
std::optional<int64_t> QuickMetaDtMicros(std::string_view payload);

}  // namespace ws::source
