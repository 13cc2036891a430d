// Fuzzes SseFramer. The input is both the byte stream and, through its
// first bytes, where the stream is cut into chunks. Property: chunking never
// changes the result (the framer is incremental: bytes may arrive split
// anywhere, including inside a CRLF or a BOM), for either Finish() mode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "wikistream/source/sse_framer.h"

namespace {

struct Outcome {
  std::vector<ws::source::SseEvent> events;
  std::string last_id;
  std::optional<int64_t> retry;
};

Outcome Run(std::string_view stream, const std::vector<size_t>& cuts, bool dispatch_incomplete) {
  ws::source::SseFramer framer;
  Outcome o;
  size_t pos = 0;
  for (size_t cut : cuts) {
    if (cut <= pos || cut >= stream.size()) continue;
    framer.Feed(stream.substr(pos, cut - pos), &o.events);
    pos = cut;
  }
  framer.Feed(stream.substr(pos), &o.events);
  framer.Finish(dispatch_incomplete, &o.events);
  o.last_id = framer.last_event_id();
  o.retry = framer.retry_ms();
  return o;
}

bool Same(const Outcome& a, const Outcome& b) {
  if (a.events.size() != b.events.size() || a.last_id != b.last_id || a.retry != b.retry) return false;
  for (size_t i = 0; i < a.events.size(); ++i) {
    const auto &x = a.events[i], &y = b.events[i];
    if (x.type != y.type || x.data != y.data || x.id != y.id) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: how many cut points follow (0..7), each one byte, scaled to
  // the stream length; the rest is the stream.
  const size_t ncuts = data[0] % 8;
  if (size < 1 + ncuts) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data + 1 + ncuts), size - 1 - ncuts);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < ncuts; ++i) cuts.push_back(stream.empty() ? 0 : (data[1 + i] * stream.size()) / 256);
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size() && i < 4096; ++i) every_byte.push_back(i);

  for (bool dispatch_incomplete : {true, false}) {
    Outcome whole = Run(stream, {}, dispatch_incomplete);
    if (!Same(whole, Run(stream, cuts, dispatch_incomplete))) ws::fuzz::Fail("chunking changed the events");
    if (stream.size() <= 4096 && !Same(whole, Run(stream, every_byte, dispatch_incomplete))) {
      ws::fuzz::Fail("byte-at-a-time feeding changed the events");
    }
  }
  // Reset() after a partial stream must behave like a fresh connection
  // (apart from the last event id).
  ws::source::SseFramer framer;
  std::vector<ws::source::SseEvent> ignored, after;
  framer.Feed(stream.substr(0, stream.size() / 2), &ignored);
  framer.Reset();
  framer.Feed("data: x\n\n", &after);
  if (after.size() != 1 || after[0].data != "x") ws::fuzz::Fail("Reset() left partial state behind");
  return 0;
}
