#include "wikistream/batch/stage_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "wikistream/common/logging.h"
#include "wikistream/common/uuid.h"

namespace ws::batch {

using model::StageAttempt;
using model::StageName;
using model::StageOutcome;
using model::StageResult;
using model::StageStatus;

Status Deadline::Check(const char* what) const {
  if (stop_ && stop_->load()) return Status::Cancelled(fmt::format("{}: shutdown requested", what));
  if (MonotonicMicros() >= at_us_) return Status::Timeout(fmt::format("{}: stage deadline passed", what));
  return Status::OK();
}

StageResult StageRunner::Run(const std::string& cycle_id, StageName stage,
                             const std::function<StageResult(const Deadline&)>& fn,
                             std::vector<StageAttempt>* attempts, const std::function<bool()>& give_up) {
  StageResult result;
  for (int attempt = 1; attempt <= attempts_; ++attempt) {
    StageAttempt record;
    record.run_id = NewUuid();
    record.cycle_id = cycle_id;
    record.stage = stage;
    record.attempt = attempt;
    record.started_at_us = NowMicros();
    Deadline deadline(MonotonicMicros() + static_cast<int64_t>(timeout_s_ * 1e6), stop_);
    result = fn(deadline);
    record.finished_at_us = NowMicros();
    bool stopping = (stop_ && stop_->load()) || (!result.ok() && give_up && give_up());
    bool last = attempt == attempts_ || result.outcome == StageOutcome::kGateFailed || stopping;
    if (result.ok()) {
      record.status = result.outcome == StageOutcome::kSkipped ? StageStatus::kSkipped : StageStatus::kSucceeded;
    } else {
      record.status = last ? StageStatus::kFailed : StageStatus::kRetrying;
      log::Warn("batch", "stage {} attempt {}/{} failed: {}", Name(stage), attempt, attempts_, result.ErrorText());
    }
    record.result = result;
    attempts->push_back(record);
    if (result.ok() || last) return result;
    int64_t backoff_ms = std::min<int64_t>(backoff_base_ms_ << (attempt - 1), 30000);
    for (int64_t slept = 0; slept < backoff_ms && !(stop_ && stop_->load()); slept += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return result;
}

}  // namespace ws::batch
