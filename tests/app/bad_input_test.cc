// The bad-input catalogue (docs/bad-input.md), run through the real binary:
// bad payloads, bad files, bad flags and config files, an unreachable
// EventStreams URL, a damaged warehouse. Each case checks the exit code
// (0 ok, 1 work failed, 2 usage error), that stderr carries a one-line
// "wikistream: ..." error and no trace, and that nothing committed is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_util.h"
#include "wikistream/common/file_system.h"
#include "wikistream/format/parquet_reader.h"
#include "wikistream/table/catalog.h"
#include "wikistream/warehouse/bronze_schema.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::app {

namespace bronze = warehouse::bronze;
using format::Column;
using format::ParquetReader;
using format::SchemaPtr;
using table::Catalog;
using table::DataFile;
using warehouse::ProjectSchema;
using warehouse::Warehouse;

namespace {

namespace fsys = std::filesystem;
using ws::testing::ReadFile;
using ws::testing::RunCommand;
using ws::testing::SourceDir;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;
using ws::testing::WriteFile;

std::string Bin() { return WikistreamBinary().string(); }
std::string Fixture(const std::string& name) { return (SourceDir() / "tests/fixtures/bad" / name).string(); }

struct Outcome {
  int rc = -1;
  std::string out, err;
  std::vector<std::string> err_lines;  // non-empty stderr lines
};

// Runs `wikistream ARGS` with a scratch stderr file.
// `prefix`: shell commands before the binary (limits, a launcher such as timeout).
Outcome Wikistream(const std::string& args, const std::string& env = "", const std::string& prefix = "") {
  TempDir scratch;
  std::string err_file = scratch.str() + "/stderr";
  Outcome o;
  // RunCommand appends 2>&1: group the command so its own stderr goes to the file.
  o.rc = RunCommand("{ " + prefix + env + " " + Bin() + " " + args + " 2>" + err_file + " </dev/null; }", &o.out);
  o.err = ReadFile(err_file);
  size_t start = 0;
  while (start < o.err.size()) {
    size_t nl = o.err.find('\n', start);
    if (nl == std::string::npos) nl = o.err.size();
    if (nl > start) o.err_lines.push_back(o.err.substr(start, nl - start));
    start = nl + 1;
  }
  return o;
}

// A usage error: exit 2, exactly one stderr line naming the problem.
void ExpectUsageError(const std::string& args, const std::string& mentions) {
  Outcome o = Wikistream(args);
  EXPECT_EQ(o.rc, 2) << args << "\n" << o.err;
  ASSERT_EQ(o.err_lines.size(), 1u) << args << "\n" << o.err;
  EXPECT_EQ(o.err_lines[0].rfind("wikistream: ", 0), 0u) << o.err;
  EXPECT_NE(o.err_lines[0].find(mentions), std::string::npos) << args << "\n" << o.err;
}

void ExpectNoTrace(const Outcome& o) {
  for (const char* bad : {"terminate called", "Aborted", "Segmentation", "what():", "#0 ", "core dumped"}) {
    EXPECT_EQ(o.err.find(bad), std::string::npos) << o.err;
  }
}

std::multiset<std::string> Column(const std::string& warehouse, const std::string& table, const std::string& col) {
  auto wh = Warehouse::Open(DefaultFileSystem(), warehouse, false);
  EXPECT_TRUE(wh.ok()) << wh.status().ToString();
  if (!wh.ok()) return {};
  auto t = (*wh)->table(table);
  EXPECT_TRUE(t.ok());
  auto rows = (*wh)->ReadTable(**t, ProjectSchema(*(*t)->schema(), {col}));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::multiset<std::string> out;
  for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) out.insert(rows->column(0).ValueToString(i));
  return out;
}

// Bronze event ids read through the catalog and the Parquet files alone (the
// Warehouse refuses to open when any table's metadata is damaged).
std::multiset<std::string> BronzeIdsViaCatalog(const std::string& warehouse) {
  std::multiset<std::string> out;
  auto catalog = Catalog::Open(DefaultFileSystem(), warehouse);
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  if (!catalog.ok()) return out;
  auto t = (*catalog)->LoadTable("bronze", "raw_events");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return out;
  auto files = (*t)->Scan();
  EXPECT_TRUE(files.ok());
  SchemaPtr ids = ProjectSchema(*bronze::RawEventsSchema(), {"event_id"});
  for (const DataFile& f : files.ok() ? *files : std::vector<DataFile>{}) {
    auto reader = ParquetReader::Open(DefaultFileSystem(), f.path);
    EXPECT_TRUE(reader.ok()) << f.path;
    if (!reader.ok()) continue;
    auto rows = (*reader)->ReadAll(ids);
    EXPECT_TRUE(rows.ok()) << f.path;
    for (size_t i = 0; rows.ok() && i < rows->num_rows(); ++i) out.insert(std::string(rows->column(0).GetString(i)));
  }
  return out;
}

std::string RunOnce(const std::string& file, const std::string& wh, const std::string& extra = "") {
  return "run --once --source replay:" + file + " --warehouse " + wh + " --log-level error " + extra;
}

// ---------------------------------------------------------------- payloads

TEST(BadInputTest, EveryDlqErrorCodeLandsInTheDlqWithItsCode) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(Fixture("payloads.ndjson"), wh));
  ASSERT_EQ(o.rc, 0) << o.err;
  ExpectNoTrace(o);
  std::multiset<std::string> expected;
  std::ifstream in(Fixture("payloads.expected"));
  for (std::string code; std::getline(in, code);) {
    if (!code.empty()) expected.insert(code);
  }
  ASSERT_GT(expected.size(), 40u);
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "error_code"), expected);
  // The good event lands; the canary and the other wiki are dropped, not DLQ'd.
  EXPECT_EQ(Column(wh, "bronze.raw_events", "event_id"), std::multiset<std::string>{"good-1"});
  EXPECT_NE(o.err.find("1 canary"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("1 filtered"), std::string::npos) << o.err;
  EXPECT_EQ(Column(wh, "silver.cleaned_events", "event_id"), std::multiset<std::string>{"good-1"});

  // Replaying the same file again doubles nothing.
  ASSERT_EQ(Wikistream(RunOnce(Fixture("payloads.ndjson"), wh)).rc, 0);
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "error_code").size(), expected.size());
  EXPECT_EQ(Column(wh, "bronze.raw_events", "event_id").size(), 1u);
}

// ---------------------------------------------------------------- files

TEST(BadInputTest, TwoMebibyteLineIsDlqTooLargeAndTheNextLineLands) {
  TempDir dir;
  std::string file = dir.str() + "/big.ndjson";
  std::string big = R"({"meta":{"id":"big","domain":"en.wikipedia.org","dt":"2024-08-22T10:00:00Z"},"type":"edit","comment":")" +
                    std::string(2 << 20, 'x') + "\"}";
  WriteFile(file, big + "\n" +
                      R"({"meta":{"id":"after-big","domain":"en.wikipedia.org","dt":"2024-08-22T10:00:01Z"},"type":"edit"})" +
                      "\n");
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(file, wh));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "error_code"), std::multiset<std::string>{"too_large"});
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "payload_bytes"), std::multiset<std::string>{std::to_string(big.size())});
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "payload_truncated"), std::multiset<std::string>{"true"});
  EXPECT_EQ(Column(wh, "bronze.raw_events", "event_id"), std::multiset<std::string>{"after-big"});
}

TEST(BadInputTest, EmptyFileIsAnEmptyRun) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(Fixture("empty.ndjson"), wh));
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.err.find("0 events polled"), std::string::npos) << o.err;
  EXPECT_TRUE(Column(wh, "bronze.raw_events", "event_id").empty());
}

TEST(BadInputTest, BinaryGarbageGoesToTheDlqLineByLine) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(Fixture("garbage.bin"), wh));
  EXPECT_EQ(o.rc, 0) << o.err;
  ExpectNoTrace(o);
  auto codes = Column(wh, "bronze.dlq_events", "error_code");
  EXPECT_GT(codes.size(), 5u);
  for (const auto& c : codes) EXPECT_TRUE(c == "invalid_utf8" || c == "invalid_json") << c;
  EXPECT_TRUE(Column(wh, "bronze.raw_events", "event_id").empty());
}

TEST(BadInputTest, CrlfLinesAreAccepted) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(Fixture("crlf.ndjson"), wh));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(Column(wh, "bronze.raw_events", "event_id"), (std::multiset<std::string>{"crlf-0", "crlf-1", "crlf-2"}));
  EXPECT_TRUE(Column(wh, "bronze.dlq_events", "error_code").empty());
}

TEST(BadInputTest, TruncatedSseCaptureKeepsWholeEventsAndDlqsTheCutOne) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  Outcome o = Wikistream(RunOnce(Fixture("truncated.sse"), wh));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(Column(wh, "bronze.raw_events", "event_id"), (std::multiset<std::string>{"sse-0", "sse-1"}));
  EXPECT_EQ(Column(wh, "bronze.dlq_events", "error_code"), std::multiset<std::string>{"invalid_json"});
}

// ---------------------------------------------------------------- flags

TEST(BadInputTest, BadFlagsAreOneLineUsageErrors) {
  TempDir dir;
  std::string wh = " --warehouse " + dir.str() + "/wh";
  std::string crlf = " --source replay:" + Fixture("crlf.ndjson");
  ExpectUsageError("run --bogus" + wh, "--bogus");
  // CLI11 reports an unknown subcommand as a missing one (it does not name it).
  ExpectUsageError("frobnicate", "subcommand");
  ExpectUsageError("", "subcommand");
  ExpectUsageError("run --commit-interval abc" + crlf + wh, "commit-interval");
  ExpectUsageError("run --commit-interval -1" + crlf + wh, "--commit-interval must be positive");
  ExpectUsageError("run --batch-interval 0" + crlf + wh, "--batch-interval must be positive");
  ExpectUsageError("run --commit-max-events 0" + crlf + wh, "--commit-max-events");
  ExpectUsageError("run --threads -2" + crlf + wh, "--threads");
  ExpectUsageError("run --speed -1" + crlf + wh, "--speed");
  ExpectUsageError("run --stage-attempts 0" + crlf + wh, "--stage-attempts");
  ExpectUsageError("run --log-level loud" + crlf + wh, "loud");
  ExpectUsageError("run --once --source nowhere:x" + wh, "nowhere");
  ExpectUsageError("run --once --source replay:/no/such/file.ndjson" + wh, "/no/such/file.ndjson");
  ExpectUsageError("run --once --domains ,," + crlf + wh, "--domains");
  ExpectUsageError("run --once --domains all,en.wikipedia.org" + crlf + wh, "--domains");
  ExpectUsageError("run --once --domains 'not a domain'" + crlf + wh, "--domains");
  ExpectUsageError("generate -5", "count");
  ExpectUsageError("generate", "count");
  ExpectUsageError("snapshots nodot" + wh, "namespace.table");
  // --http is checked before the warehouse is created or the source opened.
  const std::string http_wh = dir.str() + "/http-wh";
  ExpectUsageError("run --once --http nonsense" + crlf + " --warehouse " + http_wh, "--http");
  ExpectUsageError("run --once --http 127.0.0.1:99999" + crlf + " --warehouse " + http_wh, "--http");
  EXPECT_FALSE(std::filesystem::exists(http_wh));
}

// A mistyped --warehouse is an error naming the path, not a new empty
// warehouse: the commands that read a warehouse never create one.
TEST(BadInputTest, MistypedWarehouseIsAnErrorAndCreatesNothing) {
  TempDir dir;
  const std::string wh = dir.str() + "/no-such-warehouse";
  for (const char* command : {"tables", "maintain", "batch"}) {
    Outcome o = Wikistream(std::string(command) + " --warehouse " + wh);
    EXPECT_EQ(o.rc, 1) << command << "\n" << o.err;
    ASSERT_EQ(o.err_lines.size(), 1u) << command << "\n" << o.err;
    EXPECT_NE(o.err_lines[0].find("wikistream: no warehouse at " + wh), std::string::npos) << o.err;
    EXPECT_FALSE(std::filesystem::exists(wh)) << command;
  }
}

TEST(BadInputTest, ConfigFileErrorsNameTheFileAndLine) {
  ExpectUsageError("tables --config /no/such.conf", "/no/such.conf");
  ExpectUsageError("tables --config " + Fixture("unknown-key.conf"), "unknown-key.conf:3: unknown key 'batch-intervall'");
  ExpectUsageError("tables --config " + Fixture("bad-value.conf"), "bad-value.conf:1: invalid value 'soon'");
  ExpectUsageError("tables --config " + Fixture("no-equals.conf"), "no-equals.conf:2: expected key = value");
  // The environment variable takes the same path.
  Outcome o = Wikistream("tables", "WIKISTREAM_CONFIG=" + Fixture("bad-value.conf"));
  EXPECT_EQ(o.rc, 2) << o.err;
  EXPECT_EQ(o.err_lines.size(), 1u) << o.err;
}

// ---------------------------------------------------------------- network

// Nothing listens on 127.0.0.1:1: the source retries with backoff, the
// process stays up (no hang in connect, no exit), and SIGTERM stops it with
// exit 0 and an empty but valid warehouse.
TEST(BadInputTest, UnreachableEventStreamsRetriesAndStopsOnSigterm) {
  TempDir dir;
  std::string wh = dir.str() + "/wh";
  std::string err_file = dir.str() + "/stderr";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* f = freopen(err_file.c_str(), "w", stderr);
    (void)f;
    execl(Bin().c_str(), "wikistream", "run", "--source", "eventstreams", "--eventstreams-url", "http://127.0.0.1:1/",
          "--contact", "test@example.org", "--warehouse", wh.c_str(), "--http", "off", "--commit-interval", "0.5",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "exited early: " << ReadFile(err_file);
  kill(pid, SIGTERM);
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    exited = waitpid(pid, &status, WNOHANG) == pid;
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  std::string err = ReadFile(err_file);
  ASSERT_TRUE(exited) << "did not stop within 10 s of SIGTERM\n" << err;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << err;
  EXPECT_NE(err.find("127.0.0.1:1"), std::string::npos) << err;  // the retries are logged
  EXPECT_EQ(err.find("terminate called"), std::string::npos) << err;
  EXPECT_TRUE(Column(wh, "bronze.raw_events", "event_id").empty());
}

// ---------------------------------------------------------------- full disk

// A cheap full disk: RLIMIT_FSIZE (`ulimit -f`, with SIGXFSZ ignored) makes
// every write past 200 KiB fail with EFBIG, so the Parquet files of bronze
// commits fail while small files (DLQ, metadata) still land - the partial
// failure a filling disk gives.
const char* kFullDisk = "trap '' XFSZ; ulimit -f 400; ";

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = dir_.str() + "/events.ndjson";
    std::string out;
    ASSERT_EQ(RunCommand(Bin() + " generate 20000 --seed 11 > " + input_, &out), 0) << out;
    const std::string ref = dir_.str() + "/ref";
    ASSERT_EQ(Wikistream(RunOnce(input_, ref)).rc, 0);
    ref_ids_ = Column(ref, "bronze.raw_events", "event_id");
    ref_dlq_ = Column(ref, "bronze.dlq_events", "dlq_id");
    ASSERT_GT(ref_ids_.size(), 10000u);
    ASSERT_GT(ref_dlq_.size(), 0u);
    wh_ = dir_.str() + "/wh";
  }
  // Once space is back, a run lands every event exactly once and the DLQ
  // holds every bad payload once, although DLQ commits landed while the
  // bronze commits after them failed (BronzeDlqFaultTest).
  void ExpectTheRerunLandsEverything() {
    Outcome again = Wikistream(RunOnce(input_, wh_));
    ASSERT_EQ(again.rc, 0) << again.err;
    EXPECT_EQ(Column(wh_, "bronze.raw_events", "event_id"), ref_ids_);
    EXPECT_EQ(Column(wh_, "silver.cleaned_events", "event_id"), ref_ids_);
    EXPECT_EQ(Column(wh_, "bronze.dlq_events", "dlq_id"), ref_dlq_);
  }
  TempDir dir_;
  std::string input_, wh_;
  std::multiset<std::string> ref_ids_, ref_dlq_;
};

// A service on a full disk keeps retrying (5 failed commits, then a restart
// from the committed position with backoff). SIGTERM - sent once the first
// restart is logged, however slow the machine - stops it with exit 0 even
// though its final commit cannot land either (docs/operations.md): the
// position did not advance, so nothing is lost.
TEST_F(FullDiskTest, ServiceKeepsRetryingExitsZeroOnSigtermAndLosesNothing) {
  const std::string err_file = dir_.str() + "/stderr";
  const std::string wait_then_term =
      "for i in $(seq 1200); do grep -q 'restarting from the committed position' " + err_file +
      " && break; sleep 0.1; done; kill -TERM $pid; wait $pid";
  std::string out;
  const int rc = RunCommand("{ " + std::string(kFullDisk) + Bin() + " run --source replay:" + input_ +
                                " --warehouse " + wh_ + " --commit-max-events 2000 --http off --log-level error 2>" +
                                err_file + " </dev/null & pid=$!; " + wait_then_term + "; }",
                            &out);
  Outcome full;
  full.err = ReadFile(err_file);
  EXPECT_EQ(rc, 0) << full.err;
  ExpectNoTrace(full);
  EXPECT_NE(full.err.find("File too large"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("restarting from the committed position"), std::string::npos) << full.err;
  EXPECT_LT(Column(wh_, "bronze.raw_events", "event_id").size(), ref_ids_.size());
  ExpectTheRerunLandsEverything();
}

// `run --once` on a full disk gives up after three failed ingest sessions in
// a row (2 s + 4 s of backoff between them): exit 1 and one line saying why,
// no batch cycle over a partial bronze; nothing is lost.
TEST_F(FullDiskTest, RunOnceGivesUpAfterBoundedRetriesWithExitOneAndLosesNothing) {
  Outcome once = Wikistream("run --once --source replay:" + input_ + " --warehouse " + wh_ +
                                " --commit-max-events 2000 --log-level off",
                            "", std::string(kFullDisk) + "exec timeout 300 ");
  EXPECT_EQ(once.rc, 1) << once.err;
  ExpectNoTrace(once);
  ASSERT_EQ(once.err_lines.size(), 1u) << once.err;
  EXPECT_EQ(once.err_lines[0].rfind("wikistream: ingest failed 3 times in a row, giving up: ", 0), 0u) << once.err;
  EXPECT_NE(once.err.find("File too large"), std::string::npos) << once.err;
  EXPECT_LT(Column(wh_, "bronze.raw_events", "event_id").size(), ref_ids_.size());
  ExpectTheRerunLandsEverything();
}

// ---------------------------------------------------------------- warehouse

class DamagedWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wh_ = dir_.str() + "/wh";
    ASSERT_EQ(Wikistream(RunOnce(Fixture("crlf.ndjson"), wh_)).rc, 0);
  }
  std::string CurrentMetadata(const std::string& table) {
    auto wh = Warehouse::Open(DefaultFileSystem(), wh_, false);
    EXPECT_TRUE(wh.ok());
    auto t = (*wh)->table(table);
    EXPECT_TRUE(t.ok());
    return (*t)->metadata_location();
  }
  std::string SomeDataFile(const std::string& table) {
    auto wh = Warehouse::Open(DefaultFileSystem(), wh_, false);
    auto t = (*wh)->table(table);
    auto files = (*t)->Scan();
    EXPECT_TRUE(files.ok() && !files->empty());
    return files->front().path;
  }
  static void Truncate(const std::string& path) {
    auto size = fsys::file_size(path);
    fsys::resize_file(path, size / 2);
  }
  TempDir dir_;
  std::string wh_;
};

TEST_F(DamagedWarehouseTest, TruncatedMetadataJsonFailsCleanlyAndDamagesNothingElse) {
  std::string meta = CurrentMetadata("silver.cleaned_events");
  auto before_bronze = BronzeIdsViaCatalog(wh_);
  ASSERT_EQ(before_bronze.size(), 3u);
  Truncate(meta);
  const std::string damaged = ReadFile(meta);

  Outcome tables = Wikistream("tables --warehouse " + wh_);
  EXPECT_EQ(tables.rc, 1) << tables.err;
  ASSERT_EQ(tables.err_lines.size(), 1u) << tables.err;
  EXPECT_NE(tables.err.find("silver"), std::string::npos) << tables.err;
  ExpectNoTrace(tables);

  Outcome batch = Wikistream("batch --log-level error --warehouse " + wh_);
  EXPECT_EQ(batch.rc, 1) << batch.out << batch.err;
  ExpectNoTrace(batch);
  Outcome again = Wikistream(RunOnce(Fixture("crlf.ndjson"), wh_));
  EXPECT_EQ(again.rc, 1) << again.err;
  ExpectNoTrace(again);

  // Nothing rewrote the damaged file, the catalog still names it, bronze is intact.
  EXPECT_EQ(ReadFile(meta), damaged);
  EXPECT_EQ(BronzeIdsViaCatalog(wh_), before_bronze);
  std::string loc;
  ASSERT_EQ(RunCommand("sqlite3 " + wh_ +
                           "/catalog.db \"select metadata_location from iceberg_tables where table_namespace='silver'\"",
                       &loc),
            0);
  EXPECT_NE(loc.find(meta), std::string::npos) << loc;
}

TEST_F(DamagedWarehouseTest, TruncatedParquetFileFailsTheStageAndIsLeftAlone) {
  std::string data = SomeDataFile("silver.cleaned_events");
  Truncate(data);
  const std::string damaged = ReadFile(data);
  auto gold_before = Column(wh_, "gold.hourly_stats", "total_events");

  // `dq` re-reads the latest silver date, so it meets the damaged file.
  Outcome dq = Wikistream("dq --log-level error --warehouse " + wh_);
  EXPECT_EQ(dq.rc, 1) << dq.out << dq.err;
  ExpectNoTrace(dq);
  EXPECT_NE(dq.out.find("FAILED"), std::string::npos) << dq.out;

  // New input for the same date: silver must read its existing ids and fails
  // without publishing anything.
  std::string more = dir_.str() + "/more.ndjson";
  WriteFile(more, R"({"meta":{"id":"more-1","domain":"en.wikipedia.org","dt":"2024-08-22T10:00:00Z"},"type":"edit"})"
                  "\n");
  Outcome run = Wikistream(RunOnce(more, wh_, "--stage-attempts 1"));  // a damaged file stays damaged
  EXPECT_EQ(run.rc, 1) << run.err;
  ExpectNoTrace(run);
  EXPECT_EQ(ReadFile(data), damaged);
  EXPECT_EQ(Column(wh_, "gold.hourly_stats", "total_events"), gold_before);
  // Bronze took the new event: ingest does not depend on silver.
  EXPECT_EQ(Column(wh_, "bronze.raw_events", "event_id").count("more-1"), 1u);
}

}  // namespace
}  // namespace ws::app
