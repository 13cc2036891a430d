// RiskLevel: the level of a user's risk score for a day (gold.risk_scores
// `risk_level`, the live risk table, the daily summary's per-level counts).
//
// Contract: RiskLevelFor(score) is HIGH for >= 70, MEDIUM for >= 40, else
// LOW (docs/tables.md, "Risk score"); a HIGH level is what raises a `risk`
// alert. Name() is the exact text written ("LOW", "MEDIUM", "HIGH"); the
// enumerator order is ascending severity.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class RiskLevel : uint8_t { kLow, kMedium, kHigh };

inline constexpr std::array<std::string_view, 3> kRiskLevelNames = {"LOW", "MEDIUM", "HIGH"};
inline constexpr size_t kRiskLevelCount = kRiskLevelNames.size();

constexpr std::string_view Name(RiskLevel l) { return NameIn(kRiskLevelNames, l); }
constexpr std::optional<RiskLevel> ParseRiskLevel(std::string_view s) {
  return ParseIn<RiskLevel>(kRiskLevelNames, s);
}
WS_MODEL_ENUM_TO_JSON(RiskLevel)

inline constexpr int kHighRiskFrom = 70;
inline constexpr int kMediumRiskFrom = 40;

constexpr RiskLevel RiskLevelFor(int score) {
  if (score >= kHighRiskFrom) return RiskLevel::kHigh;
  if (score >= kMediumRiskFrom) return RiskLevel::kMedium;
  return RiskLevel::kLow;
}

}  // namespace ws::model
