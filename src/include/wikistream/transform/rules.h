// The business rules shared by silver, gold and the live path (docs/tables.md):
// the large-edit thresholds and the risk score. (Who a user is, bot / ip /
// temporary / registered, is model/user.h.)
//
// Contract: pure functions, no I/O. Batch gold and the live aggregator call
// exactly these, which is why the two agree once the batch has caught up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wikistream/model/risk_level.h"

namespace ws::transform {

inline constexpr int32_t kLargeDeletionBelow = -5000;   // is_large_deletion: delta < -5000
inline constexpr int32_t kLargeAdditionAbove = 50000;   // is_large_addition: delta > 50000
inline constexpr int64_t kMinEventsForRiskScore = 5;

struct RiskInputs {
  int64_t total_edits = 0;
  int64_t peak_hour_edits = 0;
  int64_t large_deletions = 0;
  int64_t domains_edited = 0;
  int64_t anonymous_edits = 0;
};

struct RiskAssessment {
  int velocity_points = 0;
  int deletion_points = 0;
  int anonymous_points = 0;
  int cross_domain_points = 0;
  int score = 0;                // min(100, sum)
  model::RiskLevel level = model::RiskLevel::kLow;  // model::RiskLevelFor(score)
  bool alert = false;           // level == HIGH
  std::vector<std::string_view> factors;  // "velocity", "deletions", "anonymous", "cross_domain" (non-zero groups, in that order)
};

RiskAssessment AssessRisk(const RiskInputs& in);
// {"peak_hour_edits":..,"large_deletions":..,"domains_edited":..,"total_edits":..,"anonymous_edits":..,"factors":[..]}
std::string RiskEvidenceJson(const RiskInputs& in, const RiskAssessment& a);

// Half away from zero.
double Round2(double x);
double RoundTo(double x, int digits);

}  // namespace ws::transform
