#include "wikistream/model/stage.h"

namespace ws::model {

std::string StageResult::FailedChecksText() const {
  std::string out;
  for (const std::string& c : failed_checks) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

std::string StageResult::ErrorText() const {
  switch (outcome) {
    case StageOutcome::kDone:
    case StageOutcome::kSkipped: return "";
    case StageOutcome::kFailed: return error.ToString();
    case StageOutcome::kGateFailed: return gate + " gate failed: " + FailedChecksText();
  }
  return "";
}

}  // namespace ws::model
