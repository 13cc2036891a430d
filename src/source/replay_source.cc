#include "wikistream/source/replay_source.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "wikistream/common/time.h"
#include "wikistream/source/sse_framer.h"

namespace ws::source {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

std::string_view BaseName(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

bool LooksLikeSseLine(std::string_view line) {
  if (!line.empty() && line[0] == ':') return true;
  for (std::string_view f : {"data", "event", "id", "retry"}) {
    if (line.substr(0, f.size()) == f && (line.size() == f.size() || line[f.size()] == ':')) return true;
  }
  return false;
}

class ReplaySource : public Source {
 public:
  ReplaySource(std::string path, std::unique_ptr<RandomAccessFile> file, double speed)
      : path_(std::move(path)), file_(std::move(file)), size_(file_->Size()), speed_(speed) {
    position_prefix_ = "{\"file\":" + nlohmann::json(path_).dump() + ",\"offset\":";
  }

  model::SourceKind kind() const override { return model::SourceKind::kReplay; }

  Status Init() {
    // Detection reads the start of the file whatever the resume offset.
    std::string head;
    size_t n = static_cast<size_t>(std::min<uint64_t>(size_, 64 * 1024));
    if (Status s = file_->ReadAt(0, n, &head); !s.ok()) return s.WithContext("reading " + path_);
    std::string_view v = head;
    if (v.substr(0, 3) == "\xEF\xBB\xBF") v.remove_prefix(3);
    while (!v.empty()) {
      size_t eol = v.find_first_of("\r\n");
      std::string_view line = v.substr(0, eol);
      if (!IsBlank(line)) {
        sse_ = LooksLikeSseLine(line);
        break;
      }
      if (eol == std::string_view::npos) break;
      v.remove_prefix(eol + 1);
    }
    return Status::OK();
  }

  Status Resume(const std::string& position) override {
    if (position.empty()) return Status::OK();
    nlohmann::json j = nlohmann::json::parse(position, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("offset") || !j["offset"].is_number_unsigned()) {
      return Status::InvalidArgument("replay position is not {\"file\":...,\"offset\":N}: " + position);
    }
    if (j.contains("file") && j["file"].is_string() &&
        BaseName(j["file"].get<std::string>()) != BaseName(path_)) {
      return Status::InvalidArgument("replay position belongs to " + j["file"].get<std::string>() + ", not " + path_);
    }
    uint64_t off = j["offset"].get<uint64_t>();
    if (off > size_) {
      return Status::InvalidArgument("replay offset " + std::to_string(off) + " is past the end of " + path_);
    }
    read_offset_ = buf_file_offset_ = position_offset_ = off;
    buf_len_ = buf_pos_ = 0;
    return Status::OK();
  }

  Status Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) override {
    if (stopped_.load()) return Status::Cancelled("replay source stopped");
    int64_t deadline = MonotonicMicros() + std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    size_t added = 0;
    int64_t received_at = NowMicros();  // a poll's records arrive together
    while (added < max_records) {
      if (stopped_.load()) {
        if (added == 0) return Status::Cancelled("replay source stopped");
        break;
      }
      if (!has_next_) {
        Result<bool> r = NextRecord();
        if (!r.ok()) return r.status();
        if (!*r) {
          if (added == 0) return Status::EndOfStream();
          break;
        }
        has_next_ = true;
      }
      if (speed_ > 0) {
        int64_t due = DueMicros();
        int64_t now = MonotonicMicros();
        if (due > now) {
          if (added > 0 || now >= deadline) break;  // hand over what is due; don't hold it back
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait_for(lock, std::chrono::microseconds(std::min(due, deadline) - now), [&] { return stopped_.load(); });
          received_at = NowMicros();
          continue;
        }
      }
      SourceRecord rec;
      rec.payload = std::move(next_payload_);
      rec.received_at_us = received_at;
      rec.position = PositionAt(next_end_);
      position_offset_ = next_end_;
      has_next_ = false;
      out->push_back(std::move(rec));
      ++added;
    }
    return Status::OK();
  }

  std::string ResumePosition() const override { return PositionAt(position_offset_); }

  void Stop() override {
    stopped_.store(true);
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }

 private:
  std::string PositionAt(uint64_t offset) const {
    fmt::format_int digits(offset);
    std::string p;
    p.reserve(position_prefix_.size() + digits.size() + 1);
    p.append(position_prefix_).append(digits.data(), digits.size()).push_back('}');
    return p;
  }

  int64_t DueMicros() {
    if (!next_dt_checked_) {
      next_dt_checked_ = true;
      std::optional<int64_t> dt = QuickMetaDtMicros(next_payload_);
      int64_t now = MonotonicMicros();
      if (!pace_started_ && dt) {
        pace_started_ = true;
        first_dt_ = *dt;
        wall_base_ = now;
      }
      if (!dt || !pace_started_ || *dt < last_dt_) {
        next_due_ = now;
      } else {
        next_due_ = wall_base_ + static_cast<int64_t>(static_cast<double>(*dt - first_dt_) / speed_);
        last_dt_ = *dt;
      }
    }
    return next_due_;
  }

  // Reads the next chunk into buf_ after the unconsumed tail, straight from
  // the file into a buffer that is reused. False at end of file.
  Result<bool> Fill() {
    if (read_offset_ >= size_) return false;
    const size_t tail = buf_len_ - buf_pos_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size_ - read_offset_));
    if (tail + n > buf_cap_) {  // a line longer than a chunk, or the first fill
      size_t cap = std::max(tail + n, 2 * buf_cap_);
      auto bigger = std::make_unique<char[]>(cap);  // value-initialized once, then reused
      if (tail > 0) std::memcpy(bigger.get(), buf_.get() + buf_pos_, tail);
      buf_ = std::move(bigger);
      buf_cap_ = cap;
    } else if (tail > 0 && buf_pos_ > 0) {
      std::memmove(buf_.get(), buf_.get() + buf_pos_, tail);
    }
    buf_file_offset_ += buf_pos_;
    buf_pos_ = 0;
    buf_len_ = tail;
    if (Status s = file_->ReadInto(read_offset_, n, buf_.get() + tail); !s.ok()) return s.WithContext("reading " + path_);
    buf_len_ += n;
    read_offset_ += n;
    return true;
  }

  // Produces the next record into next_payload_/next_end_. False when the file is exhausted.
  Result<bool> NextRecord() {
    next_dt_checked_ = false;
    while (true) {
      if (finished_) return false;
      std::string_view rest(buf_.get() + buf_pos_, buf_len_ - buf_pos_);
      size_t eol = sse_ ? rest.find_first_of("\r\n") : rest.find('\n');
      if (eol == std::string_view::npos) {
        Result<bool> more = Fill();
        if (!more.ok()) return more.status();
        if (*more) continue;
        // End of file: the remainder is a last line without its terminator.
        finished_ = true;
        buf_pos_ = buf_len_;
        if (sse_) {
          framer_.Feed(rest, &events_);
          framer_.Finish(true, &events_);
          if (TakeSseEvent(size_)) return true;
          return false;
        }
        if (IsBlank(rest)) return false;
        next_payload_.assign(rest);
        if (!next_payload_.empty() && next_payload_.back() == '\r') next_payload_.pop_back();
        next_end_ = size_;
        return true;
      }
      std::string_view line = rest.substr(0, eol + 1);
      buf_pos_ += eol + 1;
      uint64_t end = buf_file_offset_ + buf_pos_;
      if (sse_) {
        framer_.Feed(line, &events_);
        if (TakeSseEvent(end)) return true;
        continue;
      }
      line.remove_suffix(1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (IsBlank(line)) continue;
      next_payload_.reserve(line.size() + kPayloadPadding);
      next_payload_.assign(line);
      next_end_ = end;
      return true;
    }
  }

  bool TakeSseEvent(uint64_t end) {
    bool found = false;
    for (auto& ev : events_) {
      // One line dispatches at most one event; Finish(true) likewise.
      if (ev.type == "message" && !ev.data.empty() && !found) {
        next_payload_ = std::move(ev.data);
        next_end_ = end;
        found = true;
      }
    }
    events_.clear();
    return found;
  }

  const std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  const uint64_t size_;
  const double speed_;
  std::string position_prefix_;
  bool sse_ = false;

  std::unique_ptr<char[]> buf_;  // [buf_pos_, buf_len_) is read but not consumed
  size_t buf_cap_ = 0, buf_len_ = 0;
  size_t buf_pos_ = 0;
  uint64_t buf_file_offset_ = 0;
  uint64_t read_offset_ = 0;
  bool finished_ = false;
  SseFramer framer_;
  std::vector<SseEvent> events_;

  bool has_next_ = false;
  std::string next_payload_;
  uint64_t next_end_ = 0;
  uint64_t position_offset_ = 0;

  bool next_dt_checked_ = false;
  int64_t next_due_ = 0;
  bool pace_started_ = false;
  int64_t first_dt_ = 0, wall_base_ = 0, last_dt_ = INT64_MIN;

  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace

std::optional<int64_t> QuickMetaDtMicros(std::string_view payload) {
  size_t pos = payload.find("\"dt\"");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 4;
  while (pos < payload.size() && (payload[pos] == ' ' || payload[pos] == ':' || payload[pos] == '\t')) ++pos;
  if (pos >= payload.size() || payload[pos] != '"') return std::nullopt;
  size_t end = payload.find('"', pos + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return ParseIso8601Micros(payload.substr(pos + 1, end - pos - 1));
}

Result<std::unique_ptr<Source>> OpenReplaySource(FileSystem* fs, const std::string& path, double speed) {
  if (!(speed >= 0)) return Status::InvalidArgument("replay speed must be >= 0");
  auto file = fs->OpenForRead(path);
  if (!file.ok()) return file.status().WithContext("opening replay file");
  auto src = std::make_unique<ReplaySource>(path, std::move(file).value(), speed);
  if (Status s = src->Init(); !s.ok()) return s;
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace ws::source
