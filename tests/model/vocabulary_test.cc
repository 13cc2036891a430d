// Every enum of the model: its names are the exact texts the tables and APIs
// hold, Parse is Name's inverse, and JSON gets the name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wikistream/model/alert.h"
#include "wikistream/model/event_type.h"
#include "wikistream/model/region.h"
#include "wikistream/model/risk_level.h"
#include "wikistream/model/source_kind.h"
#include "wikistream/model/stage.h"
#include "wikistream/model/user.h"

namespace ws::model {
namespace {

// Name and Parse are inverse over every enumerator, and nothing else parses.
template <class E, size_t N, class ParseFn>
void ExpectRoundTrip(const std::array<std::string_view, N>& names, ParseFn parse) {
  for (size_t i = 0; i < N; ++i) {
    E e = static_cast<E>(i);
    EXPECT_EQ(Name(e), names[i]);
    ASSERT_TRUE(parse(names[i]).has_value()) << names[i];
    EXPECT_EQ(*parse(names[i]), e);
    EXPECT_EQ(nlohmann::json(e), nlohmann::json(std::string(names[i])));
  }
  EXPECT_FALSE(parse("").has_value());
  EXPECT_FALSE(parse("no such value").has_value());
}

TEST(Vocabulary, EventTypesInHourlyColumnOrder) {
  EXPECT_EQ(kEventTypeNames, (std::array<std::string_view, 5>{"edit", "new", "log", "categorize", "external"}));
  ExpectRoundTrip<EventType>(kEventTypeNames, ParseEventType);
  EXPECT_FALSE(ParseEventType("142").has_value());  // the feed has types nothing counts by name
  EXPECT_FALSE(ParseEventType("Edit").has_value());
}

TEST(Vocabulary, RegionsInDailySummaryColumnOrder) {
  EXPECT_EQ(kRegionNames,
            (std::array<std::string_view, 5>{"europe", "americas", "asia_pacific", "middle_east", "other"}));
  ExpectRoundTrip<Region>(kRegionNames, ParseRegion);
}

TEST(Vocabulary, RiskLevels) {
  ExpectRoundTrip<RiskLevel>(kRiskLevelNames, ParseRiskLevel);
  EXPECT_EQ(Name(RiskLevel::kHigh), "HIGH");
  EXPECT_EQ(RiskLevelFor(0), RiskLevel::kLow);
  EXPECT_EQ(RiskLevelFor(39), RiskLevel::kLow);
  EXPECT_EQ(RiskLevelFor(40), RiskLevel::kMedium);
  EXPECT_EQ(RiskLevelFor(69), RiskLevel::kMedium);
  EXPECT_EQ(RiskLevelFor(70), RiskLevel::kHigh);
  EXPECT_EQ(RiskLevelFor(100), RiskLevel::kHigh);
  EXPECT_LT(RiskLevel::kLow, RiskLevel::kHigh);  // ascending severity
}

TEST(Vocabulary, AlertKindsAndSeverities) {
  ExpectRoundTrip<AlertKind>(kAlertKindNames, ParseAlertKind);
  ExpectRoundTrip<AlertSeverity>(kAlertSeverityNames, ParseAlertSeverity);
  EXPECT_EQ(Name(AlertKind::kRisk), "risk");
  EXPECT_EQ(Name(AlertSeverity::kCritical), "CRITICAL");
}

TEST(Vocabulary, StageNamesAndStatuses) {
  ExpectRoundTrip<StageName>(kStageNames, ParseStageName);
  ExpectRoundTrip<StageStatus>(kStageStatusNames, ParseStageStatus);
  EXPECT_EQ(Name(StageName::kDq), "dq");
  EXPECT_EQ(Name(StageStatus::kRetrying), "RETRYING");
}

TEST(Vocabulary, SourceKinds) {
  ExpectRoundTrip<SourceKind>(kSourceKindNames, ParseSourceKind);
  EXPECT_TRUE(IsLiveSource(SourceKind::kEventStreams));
  EXPECT_TRUE(IsLiveSource(SourceKind::kKafka));  // carries the EventStreams feed
  EXPECT_FALSE(IsLiveSource(SourceKind::kReplay));
  EXPECT_FALSE(IsLiveSource(SourceKind::kSynthetic));
}

TEST(Vocabulary, UserTypes) { ExpectRoundTrip<UserType>(kUserTypeNames, ParseUserType); }

TEST(Vocabulary, AnAlertInJsonReadsAsBefore) {
  Alert a;
  a.kind = AlertKind::kDq;
  a.severity = AlertSeverity::kWarning;
  nlohmann::json j = {{"kind", a.kind}, {"severity", a.severity}};
  EXPECT_EQ(j.dump(), R"({"kind":"dq","severity":"WARNING"})");
}

TEST(AlertKey, IsKindEntityAndDate) {
  EXPECT_EQ(AlertKey(AlertKind::kRisk, "Alice", "2024-08-22"), "risk|2024-08-22|Alice");
  Alert a;
  a.kind = AlertKind::kPipeline;
  a.entity = "gold";
  a.alert_date = "2024-08-22";
  EXPECT_EQ(AlertKey(a), AlertKey(AlertKind::kPipeline, "gold", "2024-08-22"));
  // Each part of the identity tells keys apart; the entity's text cannot
  // forge another identity's key: it comes after the fixed-width date.
  EXPECT_NE(AlertKey(AlertKind::kDq, "gold", "2024-08-22"), AlertKey(a));
  EXPECT_NE(AlertKey(AlertKind::kPipeline, "silver", "2024-08-22"), AlertKey(a));
  EXPECT_NE(AlertKey(AlertKind::kPipeline, "gold", "2024-08-23"), AlertKey(a));
  EXPECT_NE(AlertKey(AlertKind::kPipeline, "2024-08-22|gold", "2024-08-21"), AlertKey(a));
  EXPECT_NE(AlertKey(AlertKind::kRisk, "a|b", "2024-08-22"), AlertKey(AlertKind::kRisk, "a", "2024-08-22"));
}

TEST(StageResult, OutcomesAndTheirErrorText) {
  StageResult r;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.ErrorText(), "");
  r.outcome = StageOutcome::kSkipped;
  EXPECT_TRUE(r.ok());
  r.Fail(Status::IOError("disk full"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ErrorText(), "IO error: disk full");
  StageResult g;
  g.FailGate("silver", {"unique_event_id", "valid_event_type"});
  EXPECT_FALSE(g.ok());
  EXPECT_EQ(g.outcome, StageOutcome::kGateFailed);
  EXPECT_TRUE(g.error.ok());  // a gate failure is not an error Status
  EXPECT_EQ(g.ErrorText(), "silver gate failed: unique_event_id, valid_event_type");
}

}  // namespace
}  // namespace ws::model
