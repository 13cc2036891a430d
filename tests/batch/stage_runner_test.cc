#include "wikistream/batch/stage_runner.h"

#include <gtest/gtest.h>

#include <thread>

namespace ws::batch {

using model::StageAttempt;
using model::StageName;
using model::StageOutcome;
using model::StageResult;
using model::StageStatus;

namespace {

TEST(StageRunnerTest, RetriesTransientFailuresThenSucceeds) {
  std::atomic<bool> stop{false};
  StageRunner runner(3, 10, &stop, /*backoff_base_ms=*/1);
  int calls = 0;
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c1", StageName::kSilver, [&](const Deadline&) {
    StageResult s;
    if (++calls < 3) s.Fail(Status::IOError("disk hiccup"));
    s.rows_out = 7;
    return s;
  }, &log);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status, StageStatus::kRetrying);
  EXPECT_EQ(log[1].status, StageStatus::kRetrying);
  EXPECT_EQ(log[2].status, StageStatus::kSucceeded);
  EXPECT_EQ(log[2].stage, StageName::kSilver);
  EXPECT_EQ(log[2].attempt, 3);
  EXPECT_EQ(log[2].result.rows_out, 7);
  EXPECT_NE(log[0].run_id, log[1].run_id);
  EXPECT_EQ(log[0].cycle_id, "c1");
}

TEST(StageRunnerTest, GivesUpAfterTheLastAttempt) {
  StageRunner runner(2, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", StageName::kGold, [](const Deadline&) {
    StageResult s;
    s.Fail(Status::IOError("still broken"));
    return s;
  }, &log);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.outcome, StageOutcome::kFailed);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].status, StageStatus::kFailed);
  EXPECT_EQ(log[1].result.ErrorText(), "IO error: still broken");
}

TEST(StageRunnerTest, GateFailuresAreNotRetried) {
  StageRunner runner(3, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", StageName::kSilver, [](const Deadline&) {
    StageResult s;
    s.FailGate("silver", {"unique_event_id"});
    return s;
  }, &log);
  EXPECT_EQ(r.outcome, StageOutcome::kGateFailed);
  EXPECT_TRUE(r.error.ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, StageStatus::kFailed);
  EXPECT_EQ(log[0].result.ErrorText(), "silver gate failed: unique_event_id");
}

TEST(StageRunnerTest, SkippedStagesAreRecordedAsSkipped) {
  StageRunner runner(3, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", StageName::kSilver, [](const Deadline&) {
    StageResult s;
    s.outcome = StageOutcome::kSkipped;
    return s;
  }, &log);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, StageStatus::kSkipped);
}

TEST(StageRunnerTest, DeadlineExpiresAndShutdownCancels) {
  StageRunner runner(1, 0.05, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", StageName::kGold, [](const Deadline& d) {
    while (!d.Expired()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    StageResult s;
    s.Fail(d.Check("gold"));
    return s;
  }, &log);
  EXPECT_EQ(r.error.code(), Status::Code::kTimeout);

  std::atomic<bool> stop{true};
  Deadline cancelled(INT64_MAX, &stop);
  EXPECT_TRUE(cancelled.Expired());
  EXPECT_EQ(cancelled.Check("x").code(), Status::Code::kCancelled);
  EXPECT_TRUE(Deadline::Never().Check("x").ok());
}

}  // namespace
}  // namespace ws::batch
