#include "wikistream/batch/stage_runner.h"

#include <gtest/gtest.h>

#include <thread>

namespace ws::batch {

using model::StageAttempt;
using model::StageResult;

namespace {

TEST(StageRunnerTest, RetriesTransientFailuresThenSucceeds) {
  std::atomic<bool> stop{false};
  StageRunner runner(3, 10, &stop, /*backoff_base_ms=*/1);
  int calls = 0;
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c1", "silver", [&](const Deadline&) {
    StageResult s;
    if (++calls < 3) s.status = Status::IOError("disk hiccup");
    s.rows_out = 7;
    return s;
  }, &log);
  EXPECT_TRUE(r.status.ok());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status, "RETRYING");
  EXPECT_EQ(log[1].status, "RETRYING");
  EXPECT_EQ(log[2].status, "SUCCEEDED");
  EXPECT_EQ(log[2].attempt, 3);
  EXPECT_EQ(log[2].result.rows_out, 7);
  EXPECT_NE(log[0].run_id, log[1].run_id);
  EXPECT_EQ(log[0].cycle_id, "c1");
}

TEST(StageRunnerTest, GivesUpAfterTheLastAttempt) {
  StageRunner runner(2, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", "gold", [](const Deadline&) {
    StageResult s;
    s.status = Status::IOError("still broken");
    return s;
  }, &log);
  EXPECT_FALSE(r.status.ok());
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].status, "FAILED");
}

TEST(StageRunnerTest, GateFailuresAreNotRetried) {
  StageRunner runner(3, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", "dq_silver", [](const Deadline&) {
    StageResult s;
    s.status = Status::InvalidArgument("gate failed");
    s.gate_failed = true;
    return s;
  }, &log);
  EXPECT_TRUE(r.gate_failed);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, "FAILED");
}

TEST(StageRunnerTest, SkippedStagesAreRecordedAsSkipped) {
  StageRunner runner(3, 10, nullptr, 1);
  std::vector<StageAttempt> log;
  runner.Run("c", "silver", [](const Deadline&) {
    StageResult s;
    s.skipped = true;
    return s;
  }, &log);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, "SKIPPED");
}

TEST(StageRunnerTest, DeadlineExpiresAndShutdownCancels) {
  StageRunner runner(1, 0.05, nullptr, 1);
  std::vector<StageAttempt> log;
  StageResult r = runner.Run("c", "gold", [](const Deadline& d) {
    while (!d.Expired()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    StageResult s;
    s.status = d.Check("gold");
    return s;
  }, &log);
  EXPECT_EQ(r.status.code(), Status::Code::kTimeout);

  std::atomic<bool> stop{true};
  Deadline cancelled(INT64_MAX, &stop);
  EXPECT_TRUE(cancelled.Expired());
  EXPECT_EQ(cancelled.Check("x").code(), Status::Code::kCancelled);
  EXPECT_TRUE(Deadline::Never().Check("x").ok());
}

}  // namespace
}  // namespace ws::batch
