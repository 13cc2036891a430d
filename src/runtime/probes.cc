#include "wikistream/runtime/probes.h"

#include <fmt/format.h>

namespace ws::runtime {

Probes::Probes(std::string loop, int64_t stall_after_us, Clock* clock)
    : loop_(std::move(loop)), stall_after_us_(stall_after_us), clock_(clock), last_beat_us_(clock->MonotonicMicros()) {}

void Probes::Beat() {
  std::lock_guard<std::mutex> lock(mu_);
  last_beat_us_ = clock_->MonotonicMicros();
}

void Probes::Begin(std::string what, int64_t budget_us) {
  std::lock_guard<std::mutex> lock(mu_);
  last_beat_us_ = clock_->MonotonicMicros();
  activity_ = std::move(what);
  activity_budget_us_ = budget_us;
}

void Probes::End() {
  std::lock_guard<std::mutex> lock(mu_);
  last_beat_us_ = clock_->MonotonicMicros();
  activity_.clear();
}

void Probes::NotReady(std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  not_ready_ = std::move(reason);
}

void Probes::SetReady() {
  std::lock_guard<std::mutex> lock(mu_);
  not_ready_.clear();
}

void Probes::SetCheck(std::function<Status()> check) {
  std::lock_guard<std::mutex> lock(mu_);
  check_ = std::move(check);
}

void Probes::BeginShutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
}

Status Probes::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t idle = clock_->MonotonicMicros() - last_beat_us_;
  if (activity_.empty()) {
    if (idle <= stall_after_us_) return Status::OK();
    return Status::Unavailable(fmt::format("{} made no progress for {} s", loop_, idle / 1000000));
  }
  if (idle <= activity_budget_us_) return Status::OK();
  return Status::Unavailable(fmt::format("{} made no progress for {} s ({}, bound {} s)", loop_, idle / 1000000,
                                         activity_, activity_budget_us_ / 1000000));
}

Status Probes::Ready() const {
  std::function<Status()> check;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Status::Unavailable("shutting down");
    if (!not_ready_.empty()) return Status::Unavailable(not_ready_);
    check = check_;
  }
  // Outside the lock: the check may take its own locks (a source's stats).
  return check ? check() : Status::OK();
}

serve::ServerCallbacks Probes::Callbacks() const {
  serve::ServerCallbacks cb;
  cb.health = [this] { return Health(); };
  cb.ready = [this] { return Ready(); };
  return cb;
}

}  // namespace ws::runtime
