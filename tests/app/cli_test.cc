// The command line as a user meets it: exit codes, one-line errors, option
// precedence (flag > environment > config file > default).
#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"

namespace ws::app {
namespace {

using testing::RunCommand;
using testing::TempDir;
using testing::WikistreamBinary;
using testing::WriteFile;

std::string Bin() { return WikistreamBinary().string(); }

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CliTest, HelpListsEveryCommandAndExitsZero) {
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " --help", &out), 0);
  for (const char* cmd : {"run", "produce", "bronze", "batch", "silver", "dq", "gold", "serve", "tables",
                          "snapshots", "maintain", "generate"}) {
    EXPECT_NE(out.find(std::string("  ") + cmd + " "), std::string::npos) << cmd;
  }
}

TEST(CliTest, RunHelpShowsDefaultsAndEnvironmentNames) {
  std::string out;
  ASSERT_EQ(RunCommand(Bin() + " run --help", &out), 0);
  EXPECT_NE(out.find("--warehouse TEXT=./warehouse"), std::string::npos) << out;
  EXPECT_NE(out.find("WIKISTREAM_WAREHOUSE"), std::string::npos);
  EXPECT_NE(out.find("--commit-interval FLOAT=10"), std::string::npos);
  EXPECT_NE(out.find("--batch-interval FLOAT=30"), std::string::npos);
  EXPECT_NE(out.find("--http TEXT=127.0.0.1:8080"), std::string::npos);
}

// --catalog-name is a catalog setting like --catalog: flag, environment,
// config file; a value the catalog's column cannot hold is a usage error.
TEST(CliTest, CatalogNameIsValidatedAndSharedByTheWarehouseCommands) {
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " tables --warehouse /nonexistent --catalog-name '' 2>&1", &out), 2);
  EXPECT_NE(out.find("--catalog-name must be 1 to 255 characters"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand("WIKISTREAM_CATALOG_NAME=" + std::string(256, 'x') + " " + Bin() + " batch --warehouse /x 2>&1", &out), 2);
  EXPECT_NE(out.find("--catalog-name"), std::string::npos) << out;
  for (const char* cmd : {"run", "bronze", "batch", "serve", "tables", "maintain"}) {
    out.clear();
    ASSERT_EQ(RunCommand(Bin() + " " + cmd + " --help", &out), 0) << cmd;
    EXPECT_NE(out.find("--catalog-name"), std::string::npos) << cmd;
  }
}

// The maintenance schedule and policy (docs/operations.md, "Maintenance"):
// the schedule where a loop runs, the policy wherever maintenance can run.
TEST(CliTest, MaintenanceSettingsAreDeclaredWhereMaintenanceRunsAndValidated) {
  std::string out;
  for (const char* cmd : {"run", "batch"}) {
    out.clear();
    ASSERT_EQ(RunCommand(Bin() + " " + cmd + " --help", &out), 0) << cmd;
    EXPECT_NE(out.find("--maintain-every FLOAT=3600"), std::string::npos) << cmd << out;
    EXPECT_NE(out.find("WIKISTREAM_MAINTAIN_EVERY"), std::string::npos) << cmd;
  }
  for (const char* cmd : {"run", "batch", "serve", "maintain"}) {
    out.clear();
    ASSERT_EQ(RunCommand(Bin() + " " + cmd + " --help", &out), 0) << cmd;
    for (const char* flag : {"--snapshot-retention", "--retain-snapshots", "--compact-min-files",
                             "--compact-small-file-mb"}) {
      EXPECT_NE(out.find(flag), std::string::npos) << cmd << " " << flag;
    }
  }
  out.clear();
  EXPECT_EQ(RunCommand("WIKISTREAM_MAINTAIN_EVERY=-1 " + Bin() + " batch --warehouse /x 2>&1", &out), 2);
  EXPECT_NE(out.find("--maintain-every must be 0 or positive"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " maintain --warehouse /x --retain-snapshots 0 2>&1", &out), 2);
  EXPECT_NE(out.find("--retain-snapshots must be at least 1"), std::string::npos) << out;
}

TEST(CliTest, UnknownFlagIsOneLineAndExitTwo) {
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " run --no-such-flag", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("--no-such-flag"), std::string::npos);
}

TEST(CliTest, MissingSubcommandIsAUsageError) {
  std::string out;
  EXPECT_EQ(RunCommand(Bin(), &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
}

TEST(CliTest, BadValuesAreRejectedBeforeAnyWork) {
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " run --commit-interval 0 --http off", &out), 2);
  EXPECT_NE(out.find("--commit-interval must be positive"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " run --commit-interval soon", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " run --log-level chatty", &out), 2);
  EXPECT_NE(out.find("unknown level 'chatty'"), std::string::npos) << out;
}

TEST(CliTest, ConfigFileErrorsNameTheFileAndLine) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " --config " + dir.str() + "/absent.ini tables", &out), 2);
  EXPECT_NE(out.find("cannot read config file"), std::string::npos) << out;
  WriteFile(dir.path() / "bad.ini", "# comment\nwarehouse = /tmp/x\nno-such-key = 1\n");
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " tables --config " + dir.str() + "/bad.ini", &out), 2);
  EXPECT_NE(out.find("bad.ini:3: unknown key 'no-such-key'"), std::string::npos) << out;
  WriteFile(dir.path() / "badvalue.ini", "batch_interval = often\n");
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " tables --config " + dir.str() + "/badvalue.ini", &out), 2);
  EXPECT_NE(out.find("badvalue.ini:1: invalid value 'often' for batch-interval"), std::string::npos) << out;
}

// The config file sets a bad value; the environment overrides it with a good
// one; a flag overrides both. Observed through validation errors, which name
// the effective value's problem.
TEST(CliTest, PrecedenceIsFlagThenEnvironmentThenConfigFile) {
  TempDir dir;
  WriteFile(dir.path() / "c.ini", "commit-interval = -1\n");
  std::string cfg = " --config " + dir.str() + "/c.ini";
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " run --http off" + cfg, &out), 2);
  EXPECT_NE(out.find("--commit-interval must be positive"), std::string::npos) << out;

  out.clear();
  // Environment beats the config file: the bad config value is overridden,
  // and the environment's own bad batch interval shows it was read.
  EXPECT_EQ(RunCommand("WIKISTREAM_COMMIT_INTERVAL=5 WIKISTREAM_BATCH_INTERVAL=-3 " + Bin() + " run --http off" + cfg,
                       &out),
            2);
  EXPECT_NE(out.find("--batch-interval must be positive"), std::string::npos) << out;

  out.clear();
  // A flag beats the environment.
  EXPECT_EQ(RunCommand("WIKISTREAM_COMMIT_INTERVAL=-5 " + Bin() + " run --commit-interval 0 --http off", &out), 2);
  EXPECT_NE(out.find("--commit-interval must be positive"), std::string::npos);
  out.clear();
  EXPECT_EQ(RunCommand("WIKISTREAM_BATCH_INTERVAL=-5 " + Bin() + " run --batch-interval 0 --http off", &out), 2);
  EXPECT_NE(out.find("--batch-interval must be positive"), std::string::npos);
}

// Every subcommand reads the same WIKISTREAM_<OPTION> variables into one
// Config: a variable must not overwrite the flag given to the command that
// runs (an unused subcommand once applied it after the flag was parsed).
TEST(CliTest, FlagBeatsEnvironmentInEveryCommand) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunCommand("WIKISTREAM_WAREHOUSE=" + dir.str() + "/from-env " + Bin() + " tables --warehouse " + dir.str() +
                           "/from-flag",
                       &out),
            1);
  EXPECT_NE(out.find("from-flag"), std::string::npos) << out;
  EXPECT_EQ(out.find("from-env"), std::string::npos) << out;

  const std::string replay = " --source replay:" + (testing::SharedDataDir() / "ndjson/amommendes-2019-05-30.ndjson").string();
  out.clear();
  EXPECT_EQ(RunCommand("WIKISTREAM_LOG_LEVEL=debug " + Bin() + " run --once --http off --log-level error" + replay +
                           " --warehouse " + dir.str() + "/wh1",
                       &out),
            0);
  EXPECT_EQ(out.find("DEBUG"), std::string::npos) << out;
  EXPECT_EQ(out.find("INFO"), std::string::npos) << out;
  out.clear();
  // Without the flag, the environment is used.
  EXPECT_EQ(RunCommand("WIKISTREAM_LOG_LEVEL=debug " + Bin() + " run --once --http off" + replay + " --warehouse " +
                           dir.str() + "/wh2",
                       &out),
            0);
  EXPECT_NE(out.find("DEBUG"), std::string::npos) << out;
}

// --once is an option like any other: flag, WIKISTREAM_ONCE or `once = true`
// in a config file (docs/operations.md). A synthetic:N run without it would
// keep serving; with it, it ends with the one-line --once report.
TEST(CliTest, OnceComesFromFlagEnvironmentOrConfigFile) {
  TempDir dir;
  WriteFile(dir.path() / "once.ini", "once = yes\n");
  const std::string run = Bin() + " run --source synthetic:30 --log-level error --warehouse " + dir.str();
  for (const std::string& cmd : {"timeout 120 " + run + "/flag --once", "WIKISTREAM_ONCE=1 timeout 120 " + run + "/env",
                                 "timeout 120 " + run + "/file --config " + dir.str() + "/once.ini"}) {
    std::string out;
    EXPECT_EQ(RunCommand(cmd, &out), 0) << cmd << "\n" << out;
    EXPECT_NE(out.find("30 events polled"), std::string::npos) << cmd << "\n" << out;
  }
  std::string out;
  WriteFile(dir.path() / "bad.ini", "once = maybe\n");
  EXPECT_EQ(RunCommand(Bin() + " run --config " + dir.str() + "/bad.ini", &out), 2);
  EXPECT_NE(out.find("bad.ini:1:"), std::string::npos) << out;
}

// Options a command would ignore are not accepted: serve has no schedule
// (--batch-interval), produce forwards every domain (--domains), and serve is
// its HTTP server (--http off). serve takes what its admin batch needs.
TEST(CliTest, OptionsACommandWouldIgnoreAreUsageErrors) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunCommand(Bin() + " serve --batch-interval 5 --warehouse " + dir.str(), &out), 2);
  EXPECT_NE(out.find("--batch-interval"), std::string::npos) << out;
  EXPECT_EQ(CountLines(out), 1) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " produce --domains all --kafka 127.0.0.1:1", &out), 2);
  EXPECT_NE(out.find("--domains"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " serve --http off --warehouse " + dir.str(), &out), 2);
  EXPECT_NE(out.find("serve --http off"), std::string::npos) << out;
  EXPECT_EQ(CountLines(out), 1) << out;
  out.clear();
  ASSERT_EQ(RunCommand(Bin() + " serve --help", &out), 0);
  for (const char* o : {"--alert-webhook", "--threads", "--stage-timeout", "--stage-attempts"}) {
    EXPECT_NE(out.find(o), std::string::npos) << o;
  }
}

// --kafka-property KEY=VALUE reaches librdkafka; every mistake is caught
// before any connection, as one line naming where the value came from.
TEST(CliTest, KafkaPropertyMistakesAreOneLineUsageErrors) {
  TempDir dir;
  const std::string bronze = Bin() + " bronze --source kafka://127.0.0.1:9 --warehouse " + dir.str() + "/wh";
  std::string out;
  EXPECT_EQ(RunCommand(bronze + " --kafka-property session.timeout.ms", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("--kafka-property: expected KEY=VALUE"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(bronze + " --kafka-property =6000", &out), 2);
  EXPECT_NE(out.find("expected KEY=VALUE"), std::string::npos) << out;

  out.clear();
  EXPECT_EQ(RunCommand(bronze + " --kafka-property no.such.property=1", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("No such configuration property: \"no.such.property\""), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " produce --kafka 127.0.0.1:9 --source synthetic:1 --kafka-property "
                                   "session.timeout.ms=soon",
                       &out),
            2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("session.timeout.ms"), std::string::npos) << out;

  // What exactly-once relies on cannot be overridden.
  out.clear();
  EXPECT_EQ(RunCommand(bronze + " --kafka-property enable.auto.commit=true", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("enable.auto.commit is set by wikistream"), std::string::npos) << out;

  // The environment (';'-separated) and the config file (one per line) are
  // read too, and their errors say so.
  out.clear();
  EXPECT_EQ(RunCommand("WIKISTREAM_KAFKA_PROPERTY='socket.timeout.ms=5000;broken' " + bronze, &out), 2);
  EXPECT_NE(out.find("WIKISTREAM_KAFKA_PROPERTY: expected KEY=VALUE (a librdkafka property), got 'broken'"),
            std::string::npos)
      << out;
  WriteFile(dir.path() / "k.ini", "kafka-property = socket.timeout.ms=5000\nkafka_property = bad.name=1\n");
  out.clear();
  EXPECT_EQ(RunCommand(bronze + " --config " + dir.str() + "/k.ini", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
  EXPECT_NE(out.find("k.ini:2: No such configuration property"), std::string::npos) << out;

  // Only the commands that talk to Kafka take it.
  out.clear();
  EXPECT_EQ(RunCommand(Bin() + " tables --kafka-property a=b", &out), 2);
  EXPECT_EQ(CountLines(out), 1) << out;
}

}  // namespace
}  // namespace ws::app
