// The outcome of a batch stage and the record of one attempt: the rows of
// ops.pipeline_runs (written by warehouse::RecordRuns, produced by
// batch::StageRunner).
//
// Contract: plain records. A StageAttempt's status is SUCCEEDED, FAILED,
// SKIPPED or RETRYING; its result is the attempt's StageResult.
#pragma once

#include <cstdint>
#include <string>

#include "wikistream/common/status.h"

namespace ws::model {

struct StageResult {
  Status status;
  bool skipped = false;      // nothing to do (no new input)
  bool gate_failed = false;  // a data-quality gate failed: not retried
  std::string input_snapshot;
  std::string output_snapshot;
  int64_t rows_in = 0;
  int64_t rows_out = 0;
};

struct StageAttempt {
  std::string run_id;
  std::string cycle_id;
  std::string stage;
  int attempt = 1;
  std::string status;  // SUCCEEDED | FAILED | SKIPPED | RETRYING
  int64_t started_at_us = 0;
  int64_t finished_at_us = 0;
  StageResult result;
};

}  // namespace ws::model
