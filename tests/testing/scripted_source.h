// ScriptedSource: a Source that plays a script of payloads, for tests of
// whatever polls a Source (the ingest loop, the runtime's services).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "wikistream/common/time.h"
#include "wikistream/source/source.h"

namespace ws::testing {

// Plays `payloads` in order, `batch` per Poll, but none at or past
// `*released` (the test releases more as it goes); its position is the
// index of the next one. With `ends`, EndOfStream after the last; else it
// then waits like a quiet live stream (Timeout) until stopped.
class ScriptedSource : public source::Source {
 public:
  ScriptedSource(std::vector<std::string> payloads, bool ends, const std::atomic<size_t>* released, size_t batch,
                 model::SourceKind kind = model::SourceKind::kEventStreams)
      : payloads_(std::move(payloads)), ends_(ends), released_(released), batch_(batch), kind_(kind) {}
  model::SourceKind kind() const override { return kind_; }
  Status Resume(const std::string& position) override {
    next_ = std::stoul(position);
    return Status::OK();
  }
  Status Poll(std::vector<source::SourceRecord>* out, size_t max_records, std::chrono::milliseconds) override {
    if (stopped_.load()) return Status::Cancelled("stopped");
    if (next_ >= payloads_.size() && ends_) return Status::EndOfStream();
    const size_t end = std::min(payloads_.size(), released_->load());
    if (next_ >= end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return Status::Timeout("quiet");
    }
    for (size_t i = 0; i < std::min(max_records, batch_) && next_ < end; ++i, ++next_) {
      source::SourceRecord r;
      r.payload = payloads_[next_];
      r.received_at_us = ws::NowMicros();
      r.position = std::to_string(next_ + 1);
      out->push_back(std::move(r));
    }
    return Status::OK();
  }
  std::string ResumePosition() const override { return std::to_string(next_); }
  void Stop() override { stopped_ = true; }

 private:
  std::vector<std::string> payloads_;
  bool ends_;
  const std::atomic<size_t>* released_;
  size_t batch_;
  model::SourceKind kind_;
  size_t next_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace ws::testing
