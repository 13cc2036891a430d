// StageRunner: runs one batch stage with a deadline and bounded retries, and
// records every attempt (the rows of ops.pipeline_runs).
//
// Contract: a stage function gets a Deadline it must check before any commit
// (a stage never commits after its deadline, so a timed-out stage leaves no
// partial effect). A failed attempt is retried with exponential backoff (1 s,
// 2 s, 4 s ... capped at 30 s) up to `attempts` times, except when the
// failure is a data-quality gate (outcome kGateFailed: retrying identical
// input gives the identical verdict), shutdown was requested, or `give_up`
// (may be empty) says so after the attempt. Each attempt yields one
// StageAttempt: RETRYING for a failed attempt that will be retried, FAILED for
// the last one, SUCCEEDED or SKIPPED (nothing to do) otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/common/time.h"
#include "wikistream/model/stage.h"

namespace ws::batch {

class Deadline {
 public:
  explicit Deadline(int64_t at_monotonic_us, const std::atomic<bool>* stop = nullptr)
      : at_us_(at_monotonic_us), stop_(stop) {}
  static Deadline Never() { return Deadline(INT64_MAX); }
  bool Expired() const { return MonotonicMicros() >= at_us_ || (stop_ && stop_->load()); }
  // OK, or Timeout/Cancelled naming `what`.
  Status Check(const char* what) const;

 private:
  int64_t at_us_;
  const std::atomic<bool>* stop_;
};

class StageRunner {
 public:
  StageRunner(int attempts, double timeout_s, const std::atomic<bool>* stop, int64_t backoff_base_ms = 1000)
      : attempts_(attempts), timeout_s_(timeout_s), stop_(stop), backoff_base_ms_(backoff_base_ms) {}

  model::StageResult Run(const std::string& cycle_id, model::StageName stage,
                         const std::function<model::StageResult(const Deadline&)>& fn,
                         std::vector<model::StageAttempt>* attempts,
                         const std::function<bool()>& give_up = nullptr);

 private:
  int attempts_;
  double timeout_s_;
  const std::atomic<bool>* stop_;
  int64_t backoff_base_ms_;
};

}  // namespace ws::batch
