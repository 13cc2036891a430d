#include "wikistream/transform/rules.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace ws::transform {
using model::RiskLevel;

namespace {

RiskAssessment Assess(int64_t total, int64_t peak, int64_t dels, int64_t domains, int64_t anon) {
  return AssessRisk(RiskInputs{total, peak, dels, domains, anon});
}

TEST(RulesTest, VelocityTiers) {
  EXPECT_EQ(Assess(100, 10, 0, 1, 0).velocity_points, 0);
  EXPECT_EQ(Assess(100, 11, 0, 1, 0).velocity_points, 10);
  EXPECT_EQ(Assess(100, 25, 0, 1, 0).velocity_points, 10);
  EXPECT_EQ(Assess(100, 26, 0, 1, 0).velocity_points, 25);
  EXPECT_EQ(Assess(100, 50, 0, 1, 0).velocity_points, 25);
  EXPECT_EQ(Assess(100, 51, 0, 1, 0).velocity_points, 40);
}

TEST(RulesTest, DeletionTiers) {
  EXPECT_EQ(Assess(10, 1, 0, 1, 0).deletion_points, 0);
  EXPECT_EQ(Assess(10, 1, 1, 1, 0).deletion_points, 0);
  EXPECT_EQ(Assess(10, 1, 2, 1, 0).deletion_points, 15);
  EXPECT_EQ(Assess(10, 1, 3, 1, 0).deletion_points, 15);
  EXPECT_EQ(Assess(10, 1, 4, 1, 0).deletion_points, 30);
}

TEST(RulesTest, AnonymousShareMustExceedHalf) {
  EXPECT_EQ(Assess(10, 1, 0, 1, 5).anonymous_points, 0);
  EXPECT_EQ(Assess(10, 1, 0, 1, 6).anonymous_points, 20);
  EXPECT_EQ(Assess(5, 1, 0, 1, 2).anonymous_points, 0);
  EXPECT_EQ(Assess(5, 1, 0, 1, 3).anonymous_points, 20);
}

TEST(RulesTest, CrossDomainNeedsBothConditions) {
  EXPECT_EQ(Assess(100, 21, 0, 5, 0).cross_domain_points, 0);
  EXPECT_EQ(Assess(100, 20, 0, 6, 0).cross_domain_points, 0);
  EXPECT_EQ(Assess(100, 21, 0, 6, 0).cross_domain_points, 10);
}

TEST(RulesTest, ScoreLevelsAndFactors) {
  RiskAssessment a = Assess(100, 51, 4, 6, 60);  // 40 + 30 + 20 + 10 = 100
  EXPECT_EQ(a.score, 100);
  EXPECT_EQ(a.level, RiskLevel::kHigh);
  EXPECT_TRUE(a.alert);
  ASSERT_EQ(a.factors.size(), 4u);
  EXPECT_EQ(a.factors[0], "velocity");
  EXPECT_EQ(a.factors[3], "cross_domain");

  a = Assess(100, 51, 2, 1, 60);  // 40 + 15 + 20 = 75
  EXPECT_EQ(a.score, 75);
  EXPECT_EQ(a.level, RiskLevel::kHigh);

  a = Assess(100, 51, 0, 1, 0);  // 40
  EXPECT_EQ(a.score, 40);
  EXPECT_EQ(a.level, RiskLevel::kMedium);
  EXPECT_FALSE(a.alert);

  a = Assess(100, 26, 2, 1, 0);  // 25 + 15 = 40
  EXPECT_EQ(a.level, RiskLevel::kMedium);
  a = Assess(100, 26, 0, 1, 0);  // 25
  EXPECT_EQ(a.level, RiskLevel::kLow);
  a = Assess(100, 51, 0, 1, 51);  // 60
  EXPECT_EQ(a.level, RiskLevel::kMedium);
  a = Assess(5, 1, 0, 1, 0);
  EXPECT_EQ(a.score, 0);
  EXPECT_TRUE(a.factors.empty());

  EXPECT_EQ(model::RiskLevelFor(69), RiskLevel::kMedium);
  EXPECT_EQ(model::RiskLevelFor(70), RiskLevel::kHigh);
  EXPECT_EQ(model::RiskLevelFor(39), RiskLevel::kLow);
  EXPECT_EQ(model::RiskLevelFor(40), RiskLevel::kMedium);
  EXPECT_EQ(model::RiskLevelFor(0), RiskLevel::kLow);
}

TEST(RulesTest, EvidenceJson) {
  RiskInputs in{30, 26, 2, 3, 1};
  RiskAssessment a = AssessRisk(in);
  std::string text = RiskEvidenceJson(in, a);
  EXPECT_EQ(text,
            "{\"peak_hour_edits\":26,\"large_deletions\":2,\"domains_edited\":3,\"total_edits\":30,"
            "\"anonymous_edits\":1,\"factors\":[\"velocity\",\"deletions\"]}");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["factors"].size(), 2u);
  EXPECT_EQ(RiskEvidenceJson(RiskInputs{5, 1, 0, 1, 0}, AssessRisk(RiskInputs{5, 1, 0, 1, 0})),
            "{\"peak_hour_edits\":1,\"large_deletions\":0,\"domains_edited\":1,\"total_edits\":5,"
            "\"anonymous_edits\":0,\"factors\":[]}");
}

TEST(RulesTest, Round2HalfAwayFromZeroOnDecimalValue) {
  EXPECT_EQ(Round2(1.005), 1.01);
  EXPECT_EQ(Round2(-1.005), -1.01);
  EXPECT_EQ(Round2(2.675), 2.68);
  EXPECT_EQ(Round2(1.015), 1.02);
  EXPECT_EQ(Round2(0.125), 0.13);
  EXPECT_EQ(Round2(0.135), 0.14);
  EXPECT_EQ(Round2(-0.125), -0.13);
  EXPECT_EQ(Round2(1.004999), 1.0);
  EXPECT_EQ(Round2(1.0), 1.0);
  EXPECT_EQ(Round2(0.0), 0.0);
  EXPECT_EQ(Round2(99.995), 100.0);
  EXPECT_EQ(Round2(9.995), 10.0);
  EXPECT_EQ(Round2(0.005), 0.01);
  EXPECT_EQ(Round2(0.0049), 0.0);
  EXPECT_EQ(Round2(0.0001), 0.0);
  EXPECT_FALSE(std::signbit(Round2(-0.001)));
  EXPECT_EQ(Round2(100.0 / 3.0), 33.33);
  EXPECT_EQ(Round2(200.0 / 3.0), 66.67);
  EXPECT_EQ(Round2(12345678.125), 12345678.13);
  EXPECT_EQ(Round2(1e20), 1e20);
  EXPECT_EQ(Round2(123.4), 123.4);
  EXPECT_EQ(Round2(50.0), 50.0);
  EXPECT_TRUE(std::isnan(Round2(NAN)));
  EXPECT_EQ(Round2(INFINITY), INFINITY);
}

TEST(RulesTest, RoundToOtherDigits) {
  EXPECT_EQ(RoundTo(0.00005, 4), 0.0001);
  EXPECT_EQ(RoundTo(1.23445, 4), 1.2345);
  EXPECT_EQ(RoundTo(2.0 / 3.0, 4), 0.6667);
  EXPECT_EQ(RoundTo(2.5, 0), 3.0);
  EXPECT_EQ(RoundTo(-2.5, 0), -3.0);
  EXPECT_EQ(RoundTo(0.5, 0), 1.0);
  EXPECT_EQ(RoundTo(0.49, 0), 0.0);
  EXPECT_EQ(RoundTo(1234.5, -2), 1200.0);
  EXPECT_EQ(RoundTo(1250.0, -2), 1300.0);
  EXPECT_EQ(RoundTo(1.5e-10, 4), 0.0);
}

}  // namespace
}  // namespace ws::transform
