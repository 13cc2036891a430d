// SseFramer: incremental parser of the WHATWG `text/event-stream` format.
//
// Contract (HTML Living Standard, "Server-sent events", parsing): bytes may
// arrive split anywhere; lines end in LF, CRLF or CR (a CR at a chunk end
// waits for the next byte); a leading UTF-8 BOM is skipped; lines starting
// with ':' are comments; `field: value` drops one leading space; `data`
// lines are joined with '\n'; `id` sets the last event id (ignored if it
// contains NUL) and persists across events; `retry` with only digits sets the
// reconnection time; a blank line dispatches the event if its data is
// non-empty. Finish() marks end of input: with `dispatch_incomplete` true
// (a complete recorded file) a pending event without a trailing blank line
// is dispatched; false (a dropped live connection) discards it.
//
// last_event_id() is the spec's "last event ID string": it changes only when
// an event is dispatched (or a blank line ends a data-less block), so an `id:`
// line that is never followed by a blank line (a cut connection, a truncated
// capture) does not move it: resuming from it re-delivers the cut event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::source {

struct SseEvent {
  std::string type;  // `event:` field; "message" when absent
  std::string data;
  std::string id;    // the last event id in force when dispatched
};

class SseFramer {
 public:
  void Feed(std::string_view bytes, std::vector<SseEvent>* out);
  void Finish(bool dispatch_incomplete, std::vector<SseEvent>* out);
  void Reset();  // new connection: keeps last_event_id, clears the partial state

  const std::string& last_event_id() const { return last_event_id_; }
  std::optional<int64_t> retry_ms() const { return retry_ms_; }

 private:
  void FeedLines(std::string_view bytes, std::vector<SseEvent>* out);
  void ProcessLine(std::string_view line, std::vector<SseEvent>* out);
  void Dispatch(std::vector<SseEvent>* out);

  std::string line_;
  bool pending_cr_ = false;
  bool bom_checked_ = false;
  std::string bom_prefix_;  // the first bytes of a stream, while they may still be a split BOM
  std::string data_;
  bool has_data_ = false;
  std::string type_;
  std::string id_buffer_;   // the spec's "last event ID buffer"
  std::string last_event_id_;
  std::optional<int64_t> retry_ms_;
};

}  // namespace ws::source
