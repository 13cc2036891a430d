#include "wikistream/source/sse_framer.h"

#include <cstring>

namespace ws::source {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Larger values are clamped: a reconnection delay of ~3 years is "never" anyway.
constexpr int64_t kMaxRetryMs = int64_t{1} << 50;

}  // namespace

void SseFramer::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  if (!bom_checked_) {
    // The BOM may itself be split across chunks: hold back a prefix of it.
    size_t take = std::min(bytes.size(), kBom.size() - bom_prefix_.size());
    bom_prefix_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (bom_prefix_.size() < kBom.size() && kBom.substr(0, bom_prefix_.size()) == bom_prefix_) {
      return;  // still undecided (bytes is empty here)
    }
    bom_checked_ = true;
    std::string held;
    held.swap(bom_prefix_);
    if (held != kBom) FeedLines(held, out);
  }
  FeedLines(bytes, out);
}

void SseFramer::FeedLines(std::string_view bytes, std::vector<SseEvent>* out) {
  size_t pos = 0;
  if (pending_cr_ && !bytes.empty()) {
    pending_cr_ = false;
    if (bytes[0] == '\n') pos = 1;  // the LF of a CRLF split across chunks
  }
  while (pos < bytes.size()) {
    const char* start = bytes.data() + pos;
    size_t n = bytes.size() - pos;
    // Find the first CR or LF; memchr twice is faster than a byte loop on ~1 KB lines.
    const char* lf = static_cast<const char*>(std::memchr(start, '\n', n));
    size_t cr_limit = lf ? static_cast<size_t>(lf - start) : n;
    const char* cr = static_cast<const char*>(std::memchr(start, '\r', cr_limit));
    const char* eol = cr ? cr : lf;
    if (!eol) {
      line_.append(start, n);
      return;
    }
    size_t len = static_cast<size_t>(eol - start);
    if (line_.empty()) {
      ProcessLine(std::string_view(start, len), out);
    } else {
      line_.append(start, len);
      ProcessLine(line_, out);
      line_.clear();
    }
    pos += len + 1;
    if (*eol == '\r') {
      if (pos < bytes.size()) {
        if (bytes[pos] == '\n') ++pos;
      } else {
        pending_cr_ = true;
      }
    }
  }
}

void SseFramer::Finish(bool dispatch_incomplete, std::vector<SseEvent>* out) {
  if (!bom_checked_) {
    bom_checked_ = true;
    std::string held;
    held.swap(bom_prefix_);
    if (held != kBom) FeedLines(held, out);
  }
  if (dispatch_incomplete) {
    // A complete recording: its last line and last block are whole even without terminators.
    if (!line_.empty()) {
      std::string last;
      last.swap(line_);
      ProcessLine(last, out);
    }
  }
  if (dispatch_incomplete && has_data_) {
    Dispatch(out);
  } else {
    // Nothing dispatched: a trailing `id:` without data must not move the resume point.
    id_buffer_ = last_event_id_;
  }
  line_.clear();
  pending_cr_ = false;
  data_.clear();
  has_data_ = false;
  type_.clear();
  bom_checked_ = false;
  bom_prefix_.clear();
}

void SseFramer::Reset() {
  line_.clear();
  pending_cr_ = false;
  bom_checked_ = false;
  bom_prefix_.clear();
  data_.clear();
  has_data_ = false;
  type_.clear();
  id_buffer_ = last_event_id_;
}

void SseFramer::ProcessLine(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {
    Dispatch(out);
    return;
  }
  if (line[0] == ':') return;  // comment (":ok" keep-alives)
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    if (value.empty()) return;
    int64_t ms = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      if (ms < kMaxRetryMs) ms = ms * 10 + (c - '0');
    }
    retry_ms_ = std::min(ms, kMaxRetryMs);
  }
  // Any other field name is ignored, as the spec requires.
}

void SseFramer::Dispatch(std::vector<SseEvent>* out) {
  last_event_id_ = id_buffer_;
  if (!has_data_) {
    type_.clear();
    return;
  }
  SseEvent ev;
  ev.type = type_.empty() ? std::string("message") : std::move(type_);
  ev.data = std::move(data_);
  ev.id = id_buffer_;
  out->push_back(std::move(ev));
  data_.clear();
  type_.clear();
  has_data_ = false;
}

}  // namespace ws::source
