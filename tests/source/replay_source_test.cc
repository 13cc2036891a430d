#include "wikistream/source/replay_source.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::source {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using ingest::EventIngestor;
using model::DomainFilter;

namespace {

using ws::testing::TempDir;
using ws::testing::WriteFile;

std::vector<SourceRecord> PollAll(Source* src, size_t batch = 1000) {
  std::vector<SourceRecord> all;
  while (true) {
    std::vector<SourceRecord> out;
    Status s = src->Poll(&out, batch, std::chrono::milliseconds(1000));
    for (auto& r : out) all.push_back(std::move(r));
    if (s.IsEndOfStream()) break;
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) break;
  }
  return all;
}

std::unique_ptr<Source> Open(const std::string& path, double speed = 0) {
  auto r = OpenReplaySource(DefaultFileSystem(), path, speed);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<std::string> Payloads(const std::vector<SourceRecord>& recs) {
  std::vector<std::string> p;
  for (const auto& r : recs) p.push_back(r.payload);
  return p;
}

TEST(ReplaySource, NdjsonBlankLinesCrlfAndLastLineWithoutNewline) {
  TempDir dir;
  std::string path = dir.str() + "/a.ndjson";
  WriteFile(path, "\n{\"a\":1}\r\n\n   \n{\"b\":2}\nnot json\n{\"c\":3}");
  auto src = Open(path);
  EXPECT_EQ(src->name(), "replay");
  auto recs = PollAll(src.get());
  EXPECT_EQ(Payloads(recs), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "not json", "{\"c\":3}"}));
  auto pos = nlohmann::json::parse(recs[0].position);
  EXPECT_EQ(pos["file"], path);
  EXPECT_EQ(pos["offset"], 10);  // after "\n{\"a\":1}\r\n"
  EXPECT_EQ(nlohmann::json::parse(recs.back().position)["offset"], 39);  // the file size
  EXPECT_EQ(src->ResumePosition(), recs.back().position);
  EXPECT_GT(recs[0].received_at_us, 0);
  // Exhausted: stays at end of stream.
  std::vector<SourceRecord> more;
  EXPECT_TRUE(src->Poll(&more, 10, std::chrono::milliseconds(10)).IsEndOfStream());
}

TEST(ReplaySource, SseCaptureDispatchesLastEventWithoutBlankLine) {
  TempDir dir;
  std::string path = dir.str() + "/a.sse";
  WriteFile(path, ":ok\n\nevent: message\nid: [1]\ndata: {\"a\":1}\n\nevent: other\ndata: skip\n\n"
                  "event: message\nid: [2]\ndata: {\"b\":\ndata: 2}\n\nevent: message\ndata: {\"c\":3}");
  auto recs = PollAll(Open(path).get());
  EXPECT_EQ(Payloads(recs), (std::vector<std::string>{"{\"a\":1}", "{\"b\":\n2}", "{\"c\":3}"}));
}

TEST(ReplaySource, SseTrailingIdAloneDispatchesNothing) {
  TempDir dir;
  std::string path = dir.str() + "/a.sse";
  WriteFile(path, "event: message\r\nid: [1]\r\ndata: {\"a\":1}\r\n\r\nevent: message\r\nid: [2]\r\n");
  auto recs = PollAll(Open(path).get());
  EXPECT_EQ(Payloads(recs), (std::vector<std::string>{"{\"a\":1}"}));
}

TEST(ReplaySource, FormatDetectionSkipsBomAndBlankLines) {
  TempDir dir;
  std::string sse = dir.str() + "/x.txt";
  WriteFile(sse, "\xEF\xBB\xBF\n\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(Payloads(PollAll(Open(sse).get())), (std::vector<std::string>{"{\"a\":1}"}));
  std::string nd = dir.str() + "/y.txt";
  WriteFile(nd, "\n\n{\"data\": 1}\n");
  EXPECT_EQ(Payloads(PollAll(Open(nd).get())), (std::vector<std::string>{"{\"data\": 1}"}));
  std::string empty = dir.str() + "/z.txt";
  WriteFile(empty, "");
  EXPECT_TRUE(PollAll(Open(empty).get()).empty());
}

// Resuming from the position after any polled record delivers exactly the rest.
void CheckResumeEverywhere(const std::string& path) {
  auto all = Payloads(PollAll(Open(path).get()));
  ASSERT_FALSE(all.empty());
  for (size_t k = 0; k <= all.size(); ++k) {
    auto first = Open(path);
    std::vector<SourceRecord> got;
    while (got.size() < k) {
      std::vector<SourceRecord> out;
      ASSERT_TRUE(first->Poll(&out, k - got.size(), std::chrono::milliseconds(100)).ok());
      for (auto& r : out) got.push_back(std::move(r));
    }
    std::string pos = first->ResumePosition();
    auto second = Open(path);
    ASSERT_TRUE(second->Resume(pos).ok()) << pos;
    auto rest = Payloads(PollAll(second.get(), 3));
    std::vector<std::string> expected(all.begin() + static_cast<long>(k), all.end());
    EXPECT_EQ(rest, expected) << "after " << k;
  }
}

TEST(ReplaySource, ResumeContinuesAfterLastPolledRecord) {
  TempDir dir;
  std::string nd = dir.str() + "/a.ndjson";
  WriteFile(nd, "{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}\n{\"a\":4}");
  CheckResumeEverywhere(nd);
  std::string sse = dir.str() + "/a.sse";
  WriteFile(sse, ":ok\n\nid: 1\ndata: a\n\nid: 2\ndata: b\r\n\r\nid: 3\rdata: c\r\rid: 4\ndata: d");
  CheckResumeEverywhere(sse);
}

TEST(ReplaySource, ResumeRejectsBadPositions) {
  TempDir dir;
  std::string nd = dir.str() + "/a.ndjson";
  WriteFile(nd, "{\"a\":1}\n");
  EXPECT_FALSE(Open(nd)->Resume("garbage").ok());
  EXPECT_FALSE(Open(nd)->Resume("{\"file\":\"other.ndjson\",\"offset\":0}").ok());
  EXPECT_FALSE(Open(nd)->Resume("{\"file\":\"a.ndjson\",\"offset\":999}").ok());
  EXPECT_TRUE(Open(nd)->Resume("{\"file\":\"/elsewhere/a.ndjson\",\"offset\":8}").ok());
  EXPECT_FALSE(OpenReplaySource(DefaultFileSystem(), dir.str() + "/missing", 0).ok());
  EXPECT_FALSE(OpenReplaySource(DefaultFileSystem(), nd, -1).ok());
}

TEST(ReplaySource, LinesAcrossChunkBoundaries) {
  // ~3.5 MB with line lengths that do not divide the 1 MiB chunk, one line longer than a chunk.
  TempDir dir;
  std::string path = dir.str() + "/big.ndjson";
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    std::string line = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(static_cast<size_t>(i % 997) + 300, 'p') + "\"}";
    if (i == 1500) line = "{\"huge\":\"" + std::string(1500000, 'h') + "\"}";
    expected.push_back(line);
    text += line + (i % 3 == 0 ? "\r\n" : "\n");
  }
  WriteFile(path, text);
  auto got = Payloads(PollAll(Open(path).get(), 777));
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  std::string sse_path = dir.str() + "/big.sse";
  std::string sse;
  for (const auto& l : expected) sse += "event: message\nid: x\ndata: " + l + "\n\n";
  WriteFile(sse_path, sse);
  auto got_sse = Payloads(PollAll(Open(sse_path).get(), 500));
  EXPECT_TRUE(got_sse == expected);
}

// Counts the reads a replay makes: it must stream the file in bounded chunks, never read it whole.
class CountingFs : public FileSystem {
 public:
  struct Stats {
    size_t max_read = 0;
    uint64_t total = 0;
  };
  class File : public RandomAccessFile {
   public:
    File(std::unique_ptr<RandomAccessFile> base, Stats* stats) : base_(std::move(base)), stats_(stats) {}
    uint64_t Size() const override { return base_->Size(); }
    Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
      stats_->max_read = std::max(stats_->max_read, n);
      stats_->total += n;
      return base_->ReadAt(offset, n, out);
    }

   private:
    std::unique_ptr<RandomAccessFile> base_;
    Stats* stats_;
  };
  Stats stats;
  FileSystem* base = DefaultFileSystem();
  Result<std::unique_ptr<WritableFile>> Create(const std::string& p) override { return base->Create(p); }
  Result<std::unique_ptr<WritableFile>> CreateNoClobber(const std::string& p) override { return base->CreateNoClobber(p); }
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& p) override {
    auto f = base->OpenForRead(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<RandomAccessFile>(std::make_unique<File>(std::move(f).value(), &stats));
  }
  Result<std::string> ReadAll(const std::string&) override { return Status::Internal("replay must not read whole files"); }
  Status Rename(const std::string& a, const std::string& b) override { return base->Rename(a, b); }
  Status Remove(const std::string& p) override { return base->Remove(p); }
  Status CreateDirs(const std::string& p) override { return base->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return base->SyncDir(p); }
  Result<bool> Exists(const std::string& p) override { return base->Exists(p); }
  Result<std::vector<FileInfo>> List(const std::string& d) override { return base->List(d); }
  Result<std::vector<FileInfo>> ListRecursive(const std::string& d) override { return base->ListRecursive(d); }
};

TEST(ReplaySource, StreamsTheFileInBoundedChunks) {
  TempDir dir;
  std::string path = dir.str() + "/big.ndjson";
  std::string line = "{\"pad\":\"" + std::string(1000, 'x') + "\"}\n";
  std::string text;
  for (int i = 0; i < 6000; ++i) text += line;  // ~6 MB
  WriteFile(path, text);
  CountingFs fs;
  auto src = OpenReplaySource(&fs, path, 0);
  ASSERT_TRUE(src.ok());
  auto recs = PollAll(src->get(), 500);
  EXPECT_EQ(recs.size(), 6000u);
  EXPECT_LE(fs.stats.max_read, size_t{1} << 20);
  EXPECT_LE(fs.stats.total, text.size() + 64 * 1024);  // each byte once, plus the format sniff
}

TEST(ReplaySource, PacedByMetaDt) {
  TempDir dir;
  std::string path = dir.str() + "/p.ndjson";
  std::string text;
  for (int i = 0; i < 5; ++i) {
    text += "{\"meta\":{\"dt\":\"2024-01-01T00:00:0" + std::to_string(i) + "Z\"}}\n";
  }
  WriteFile(path, text);
  auto src = Open(path, 50);  // 4 s of event time at 50x = 80 ms
  int64_t start = MonotonicMicros();
  auto recs = PollAll(src.get());
  int64_t elapsed = MonotonicMicros() - start;
  EXPECT_EQ(recs.size(), 5u);
  EXPECT_GE(elapsed, 70000);
  EXPECT_LT(elapsed, 2000000);
}

TEST(ReplaySource, PacedPollReturnsAtTimeoutAndStopWakesIt) {
  TempDir dir;
  std::string path = dir.str() + "/p.ndjson";
  WriteFile(path, "{\"meta\":{\"dt\":\"2024-01-01T00:00:00Z\"}}\n{\"meta\":{\"dt\":\"2024-01-01T01:00:00Z\"}}\n");
  auto src = Open(path, 1);  // the second record is due in an hour
  std::vector<SourceRecord> out;
  ASSERT_TRUE(src->Poll(&out, 10, std::chrono::milliseconds(50)).ok());
  EXPECT_EQ(out.size(), 1u);
  int64_t start = MonotonicMicros();
  ASSERT_TRUE(src->Poll(&out, 10, std::chrono::milliseconds(50)).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_LT(MonotonicMicros() - start, 1000000);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    src->Stop();
  });
  start = MonotonicMicros();
  Status s = src->Poll(&out, 10, std::chrono::milliseconds(10000));
  stopper.join();
  EXPECT_EQ(s.code(), Status::Code::kCancelled);
  EXPECT_LT(MonotonicMicros() - start, 2000000);
}

TEST(QuickMetaDt, Extracts) {
  EXPECT_EQ(QuickMetaDtMicros(R"({"meta":{"id":"x","dt": "2024-08-22T10:00:00Z"}})"),
            ParseIso8601Micros("2024-08-22T10:00:00Z"));
  EXPECT_FALSE(QuickMetaDtMicros(R"({"meta":{}})").has_value());
  EXPECT_FALSE(QuickMetaDtMicros(R"({"dt":5})").has_value());
}

// ---- every recorded file in tests/data/recorded through replay + ingest ----

struct Expected {
  const char* file;
  int64_t accepted_default, filtered_default, accepted_all;
  std::map<std::string, int64_t> types;
  int64_t bots;
};

// Counted independently from the raw files with a Python script (json +
// its own SSE line parser); they agree with tests/data/recorded/README.md.
const std::vector<Expected>& SharedExpectations() {
  static const std::vector<Expected> e = {
      {"sse/kirajano-2021-08-27.sse", 783, 1167, 1950, {{"edit", 1230}, {"categorize", 586}, {"log", 93}, {"new", 39}, {"142", 2}}, 872},
      {"sse/kirajano-2021-09-10.sse", 86, 255, 341, {{"categorize", 157}, {"edit", 155}, {"log", 20}, {"new", 9}}, 147},
      {"sse/kirajano-2021-09-30-truncated.sse", 13, 49, 62, {{"edit", 30}, {"categorize", 24}, {"log", 6}, {"new", 2}}, 23},
      {"sse/dlw-2022-12-11.sse", 0, 3, 3, {{"edit", 3}}, 2},
      {"ndjson/yearfunla-2024-08-22.ndjson", 335, 2052, 2387, {{"edit", 1227}, {"categorize", 1020}, {"new", 108}, {"log", 31}, {"142", 1}}, 734},
      {"ndjson/sat99496-2026-02-26.ndjson", 25, 25, 50, {{"categorize", 27}, {"edit", 19}, {"log", 3}, {"new", 1}}, 7},
      {"ndjson/arvindp25-2025-05-03.ndjson", 39, 105, 144, {{"categorize", 68}, {"edit", 66}, {"log", 7}, {"new", 3}}, 60},
      {"ndjson/freelancecoderx-2024-02-06.ndjson", 96, 122, 218, {{"edit", 113}, {"categorize", 81}, {"log", 17}, {"new", 7}}, 110},
      {"ndjson/polars-2023-07-29.ndjson", 100, 0, 100, {{"edit", 100}}, 2},
      {"ndjson/amommendes-2019-06-02.ndjson", 38, 95, 133, {{"edit", 57}, {"categorize", 56}, {"log", 17}, {"new", 3}}, 0},
      {"ndjson/amommendes-2019-05-30.ndjson", 22, 24, 46, {{"edit", 33}, {"categorize", 8}, {"new", 3}, {"log", 2}}, 0},
      {"ndjson/editgroups-2018-03-07-a.ndjson", 0, 3818, 3818, {{"edit", 3754}, {"new", 42}, {"log", 22}}, 2932},
      {"ndjson/editgroups-2018-03-07-b.ndjson", 0, 1789, 1789, {{"edit", 1763}, {"new", 21}, {"log", 5}}, 1566},
  };
  return e;
}

TEST(SharedData, EveryRecordedFileMatchesTheReadmeCounts) {
  size_t files_seen = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(ws::testing::SharedDataDir())) {
    if (entry.is_regular_file() && entry.path().filename() != "README.md") ++files_seen;
  }
  EXPECT_EQ(files_seen, SharedExpectations().size()) << "a new file in tests/data/recorded needs expectations here";
  for (const auto& exp : SharedExpectations()) {
    SCOPED_TRACE(exp.file);
    std::string path = (ws::testing::SharedDataDir() / exp.file).string();
    auto recs = PollAll(Open(path).get(), 256);
    EventIngestor def(DomainFilter(), "replay");
    EventIngestor all(DomainFilter::All(), "replay");
    RecordBatch bronze_def(bronze::RawEventsSchema()), bronze_all(bronze::RawEventsSchema());
    RecordBatch dlq(bronze::DlqEventsSchema());
    for (const auto& r : recs) {
      def.Ingest(r, &bronze_def, &dlq);
      all.Ingest(r, &bronze_all, &dlq);
    }
    EXPECT_EQ(dlq.num_rows(), 0u);
    if (dlq.num_rows() > 0) ADD_FAILURE() << dlq.column(bronze::kErrorCode).GetString(0) << ": " << dlq.column(bronze::kErrorMessage).GetString(0);
    EXPECT_EQ(def.counters().accepted, exp.accepted_default);
    EXPECT_EQ(def.counters().filtered, exp.filtered_default);
    EXPECT_EQ(def.counters().canary, 0);
    EXPECT_EQ(all.counters().accepted, exp.accepted_all);
    EXPECT_EQ(all.counters().filtered, 0);
    ASSERT_TRUE(bronze_all.Validate().ok());
    std::map<std::string, int64_t> types;
    int64_t bots = 0;
    for (size_t i = 0; i < bronze_all.num_rows(); ++i) {
      ++types[std::string(bronze_all.column(bronze::kEventType).GetString(i))];
      bots += bronze_all.column(bronze::kIsBot).GetBool(i) ? 1 : 0;
      // raw is the payload exactly as dispatched/read.
      ASSERT_EQ(bronze_all.column(bronze::kRaw).GetString(i), recs[i].payload);
    }
    EXPECT_EQ(types, exp.types);
    EXPECT_EQ(bots, exp.bots);
  }
}

}  // namespace
}  // namespace ws::source
