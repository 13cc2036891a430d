// The batch stages, how one attempt of a stage ended, and the record of an
// attempt: the rows of ops.pipeline_runs (written by warehouse::RecordRuns,
// produced by batch::StageRunner).
//
// Contract: StageName and StageStatus Name() are the exact `stage` and
// `status` texts of ops.pipeline_runs. A StageResult's outcome says how the
// attempt ended: done, skipped (nothing to do), failed (`error` says why:
// retried), or gate failed (a data-quality gate rejected the data: never
// retried, since the same input gets the same verdict; `gate` and
// `failed_checks` say which). A gate failure is an outcome of its own, not an
// error Status. Its attempt is recorded as FAILED, with the error text
// "<gate> gate failed: <checks>".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wikistream/common/status.h"
#include "wikistream/model/vocabulary.h"

namespace ws::model {

// silver: silver and its gate; gold: gold and its gate; dq: the gold gate
// re-run over the latest date (`wikistream dq`).
enum class StageName : uint8_t { kSilver, kGold, kDq };
inline constexpr std::array<std::string_view, 3> kStageNames = {"silver", "gold", "dq"};
constexpr std::string_view Name(StageName s) { return NameIn(kStageNames, s); }
constexpr std::optional<StageName> ParseStageName(std::string_view s) { return ParseIn<StageName>(kStageNames, s); }
WS_MODEL_ENUM_TO_JSON(StageName)

enum class StageStatus : uint8_t { kSucceeded, kFailed, kSkipped, kRetrying };
inline constexpr std::array<std::string_view, 4> kStageStatusNames = {"SUCCEEDED", "FAILED", "SKIPPED", "RETRYING"};
constexpr std::string_view Name(StageStatus s) { return NameIn(kStageStatusNames, s); }
constexpr std::optional<StageStatus> ParseStageStatus(std::string_view s) {
  return ParseIn<StageStatus>(kStageStatusNames, s);
}
WS_MODEL_ENUM_TO_JSON(StageStatus)

enum class StageOutcome : uint8_t { kDone, kSkipped, kFailed, kGateFailed };

struct StageResult {
  StageOutcome outcome = StageOutcome::kDone;
  Status error;                            // kFailed: why
  std::string gate;                        // kGateFailed: the layer whose gate failed ("silver", "gold")
  std::vector<std::string> failed_checks;  // kGateFailed: the error checks that failed
  std::string input_snapshot;
  std::string output_snapshot;
  int64_t rows_in = 0;
  int64_t rows_out = 0;

  bool ok() const { return outcome == StageOutcome::kDone || outcome == StageOutcome::kSkipped; }
  void Fail(Status why) {
    outcome = StageOutcome::kFailed;
    error = std::move(why);
  }
  void FailGate(std::string layer, std::vector<std::string> checks) {
    outcome = StageOutcome::kGateFailed;
    gate = std::move(layer);
    failed_checks = std::move(checks);
  }
  // The failed checks, comma-separated.
  std::string FailedChecksText() const;
  // ops.pipeline_runs.error: empty when ok, else the error or "<gate> gate failed: <checks>".
  std::string ErrorText() const;
};

struct StageAttempt {
  std::string run_id;
  std::string cycle_id;
  StageName stage = StageName::kSilver;
  int attempt = 1;
  StageStatus status = StageStatus::kSucceeded;
  int64_t started_at_us = 0;
  int64_t finished_at_us = 0;
  StageResult result;
};

}  // namespace ws::model
