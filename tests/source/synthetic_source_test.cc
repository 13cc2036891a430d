#include "wikistream/source/synthetic_source.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "testing/test_util.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/model/region.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::source {

namespace bronze = warehouse::bronze;
using format::RecordBatch;
using ingest::EventIngestor;
using model::DomainFilter;

namespace {

using nlohmann::json;

TEST(SyntheticGenerator, SameSeedSameBytesOtherSeedOtherBytes) {
  SyntheticGenerator a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 5000; ++i) {
    std::string la = a.Next();
    ASSERT_EQ(la, b.Next()) << i;
    if (la != c.Next()) differs = true;
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.counts().malformed, b.counts().malformed);
}

TEST(SyntheticGenerator, WriteNdjsonIsDeterministicAndNewlineTerminated) {
  ws::testing::TempDir dir;
  std::string p1 = dir.str() + "/a.ndjson", p2 = dir.str() + "/b.ndjson";
  for (const auto& p : {p1, p2}) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(WriteSyntheticNdjson(3000, 99, f).ok());
    std::fclose(f);
  }
  std::string a = ws::testing::ReadFile(p1);
  EXPECT_EQ(a, ws::testing::ReadFile(p2));
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 3000);
  EXPECT_EQ(a.back(), '\n');
  SyntheticGenerator g(99);
  EXPECT_EQ(a.substr(0, a.find('\n')), g.Next());
}

struct Stats {
  int64_t lines = 0, valid = 0, target = 0, bots = 0, ip = 0, temp = 0, canary = 0, big_del = 0, big_add = 0;
  std::map<std::string, int64_t> types, domains;
  std::set<std::string> ids;
  int64_t dup_ids = 0;
  double bytes = 0;
};

Stats Analyze(SyntheticGenerator& g, int n) {
  Stats s;
  DomainFilter targets;
  for (int i = 0; i < n; ++i) {
    std::string line = g.Next();
    ++s.lines;
    s.bytes += static_cast<double>(line.size());
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j["meta"].contains("id") || !j["bot"].is_boolean() ||
        !j["namespace"].is_number_integer() || !j["timestamp"].is_number_integer()) {
      continue;
    }
    ++s.valid;
    std::string domain = j["meta"]["domain"];
    if (domain == "canary") {
      ++s.canary;
      continue;
    }
    if (!s.ids.insert(j["meta"]["id"].get<std::string>()).second) ++s.dup_ids;
    ++s.domains[domain];
    if (targets.Accepts(domain)) ++s.target;
    ++s.types[j["type"].get<std::string>()];
    if (j["bot"].get<bool>()) ++s.bots;
    std::string user = j["user"];
    if (user.rfind("~2026-", 0) == 0) ++s.temp;
    if (std::count(user.begin(), user.end(), '.') == 3 || user.find(':') != std::string::npos) ++s.ip;
    if (j.contains("length") && j["length"].contains("old")) {
      int64_t d = j["length"]["new"].get<int64_t>() - j["length"]["old"].get<int64_t>();
      if (d < -5000) ++s.big_del;
      if (d > 50000) ++s.big_add;
    }
  }
  return s;
}

TEST(SyntheticGenerator, ProportionsRoughlyRight) {
  SyntheticGenerator g(1);
  const int n = 40000;
  Stats s = Analyze(g, n);
  double valid = static_cast<double>(s.valid - s.canary);
  EXPECT_NEAR(s.bytes / n, 900, 150);
  EXPECT_NEAR(static_cast<double>(s.bots) / valid, 0.25, 0.03);
  EXPECT_NEAR(static_cast<double>(s.target) / valid, 0.65, 0.06);
  EXPECT_GT(s.domains["en.wikipedia.org"], s.domains["de.wikipedia.org"]);
  EXPECT_GT(s.domains["commons.wikimedia.org"], 0);
  EXPECT_GT(s.domains["www.wikidata.org"], 0);
  EXPECT_EQ(s.domains.size(), 27u);
  EXPECT_NEAR(static_cast<double>(s.types["edit"]) / valid, 0.58, 0.05);
  EXPECT_GT(s.types["categorize"], s.types["log"]);
  EXPECT_GT(s.types["new"], 0);
  EXPECT_GT(s.types["external"], 0);
  EXPECT_GT(s.types["142"], 0);
  EXPECT_GT(s.ip, 0.04 * valid);
  EXPECT_GT(s.temp, 0.03 * valid);
  EXPECT_GT(s.big_del, 20);
  EXPECT_GT(s.big_add, 2);
  // ~0.1% canaries, ~0.2% duplicates, ~0.2% malformed.
  EXPECT_NEAR(static_cast<double>(g.counts().canaries) / n, 0.001, 0.0006);
  EXPECT_NEAR(static_cast<double>(g.counts().duplicates) / n, 0.002, 0.001);
  EXPECT_NEAR(static_cast<double>(g.counts().malformed) / n, 0.002, 0.001);
  EXPECT_EQ(s.dup_ids, g.counts().duplicates);
  EXPECT_EQ(s.canary, g.counts().canaries);
}

TEST(SyntheticGenerator, MalformedShareConfigurableAndTimesAdvance) {
  SyntheticGenerator g(3, kSyntheticDefaultStartUs, 100, 0.1);
  int64_t prev = 0;
  for (int i = 0; i < 5000; ++i) {
    g.Next();
    if (i == 0) {
      EXPECT_GE(g.last_event_time_us(), kSyntheticDefaultStartUs);
    }
    prev = g.last_event_time_us();
  }
  EXPECT_NEAR(static_cast<double>(g.counts().malformed) / 5000, 0.1, 0.02);
  // 5000 events at 100/s: ~50 s after the start.
  EXPECT_NEAR(static_cast<double>(prev - kSyntheticDefaultStartUs) / 1e6, 50, 1);
  SyntheticGenerator none(3, kSyntheticDefaultStartUs, 200, 0);
  for (int i = 0; i < 5000; ++i) none.Next();
  EXPECT_EQ(none.counts().malformed, 0);
}

TEST(SyntheticGenerator, IngestorAcceptsValidAndDlqsMalformedWithExpectedCodes) {
  SyntheticGenerator g(5, kSyntheticDefaultStartUs, 200, 0.01);
  EventIngestor all(DomainFilter::All(), "synthetic");
  EventIngestor def(DomainFilter(), "synthetic");
  RecordBatch bronze(bronze::RawEventsSchema()), bronze_def(bronze::RawEventsSchema());
  RecordBatch dlq(bronze::DlqEventsSchema()), dlq_def(bronze::DlqEventsSchema());
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    SourceRecord rec;
    rec.payload = g.Next();
    rec.received_at_us = g.last_event_time_us() + 1000000;
    rec.position = std::to_string(i);
    all.Ingest(rec, &bronze, &dlq);
    def.Ingest(rec, &bronze_def, &dlq_def);
  }
  const auto& c = all.counters();
  EXPECT_EQ(c.dlq_total(), g.counts().malformed);
  EXPECT_EQ(c.canary, g.counts().canaries);
  EXPECT_EQ(c.accepted, n - g.counts().malformed - g.counts().canaries);  // duplicates are bronze's job
  EXPECT_EQ(c.filtered, 0);
  const std::set<std::string> expected_codes = {"invalid_json", "not_an_object", "missing_field:meta.id",
                                                "wrong_type:bot", "wrong_type:namespace", "wrong_type:timestamp"};
  for (const auto& [code, count] : c.dlq_by_code) {
    EXPECT_TRUE(expected_codes.count(code)) << code;
    EXPECT_GT(count, 0);
  }
  EXPECT_EQ(c.dlq_by_code.size(), expected_codes.size());
  EXPECT_TRUE(bronze.Validate().ok());
  EXPECT_TRUE(dlq.Validate().ok());
  const auto& d = def.counters();
  EXPECT_EQ(d.accepted + d.filtered, c.accepted);
  EXPECT_GT(d.filtered, 0);
  // HIGH risk needs > 50 edits in one hour by a non-bot user with > 3 large deletions.
  std::map<std::string, std::pair<int64_t, int64_t>> per_user;  // edits, large deletions
  for (size_t i = 0; i < bronze_def.num_rows(); ++i) {
    if (bronze_def.column(bronze::kIsBot).GetBool(i) || bronze_def.column(bronze::kUser).IsNull(i)) continue;
    auto& p = per_user[std::string(bronze_def.column(bronze::kUser).GetString(i))];
    ++p.first;
    const auto& delta = bronze_def.column(bronze::kLengthDelta);
    if (delta.IsValid(i) && delta.GetInt32(i) < -5000) ++p.second;
  }
  int high = 0;
  for (const auto& [user, p] : per_user) {
    if (p.first > 50 && p.second > 3) ++high;
  }
  EXPECT_GE(high, 3);  // 30000 events = 150 s of event time, all in one clock hour
}

int64_t QuickDt(const std::string& payload) {
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("meta")) return 0;
  return ParseIso8601Micros(j["meta"]["dt"].get<std::string>()).value_or(0);
}

std::vector<SourceRecord> Drain(Source* src, size_t batch) {
  std::vector<SourceRecord> all;
  while (true) {
    std::vector<SourceRecord> out;
    Status s = src->Poll(&out, batch, std::chrono::milliseconds(100));
    for (auto& r : out) all.push_back(std::move(r));
    if (!s.ok()) {
      EXPECT_TRUE(s.IsEndOfStream()) << s.ToString();
      break;
    }
  }
  return all;
}

TEST(SyntheticSource, FiniteCountPositionsAndResume) {
  auto src = MakeSyntheticSource(11, 500, 0);
  ASSERT_TRUE(src.ok());
  EXPECT_EQ((*src)->name(), "synthetic");
  auto all = Drain(src->get(), 64);
  ASSERT_EQ(all.size(), 500u);
  SyntheticGenerator g(11);
  EXPECT_EQ(all[0].payload, g.Next());  // finite unpaced: the fixed default start
  json pos = json::parse(all[9].position);
  EXPECT_EQ(pos["seed"], 11);
  EXPECT_EQ(pos["next"], 10);
  EXPECT_EQ((*src)->ResumePosition(), all.back().position);

  auto again = MakeSyntheticSource(11, 500, 0);
  ASSERT_TRUE((*again)->Resume(all[99].position).ok());
  auto rest = Drain(again->get(), 50);
  ASSERT_EQ(rest.size(), 400u);
  for (size_t i = 0; i < rest.size(); ++i) ASSERT_EQ(rest[i].payload, all[100 + i].payload);
  EXPECT_FALSE((*again)->Resume("{\"seed\":12,\"next\":1}").ok());
  EXPECT_FALSE((*again)->Resume("nope").ok());
  EXPECT_FALSE(MakeSyntheticSource(1, -2, 0).ok());
  EXPECT_FALSE(MakeSyntheticSource(1, 10, -1).ok());
}

TEST(SyntheticSource, EndlessPacedEventsNearNowAndStop) {
  auto src = MakeSyntheticSource(2, -1, 1);  // real time: ~200 events/s
  ASSERT_TRUE(src.ok());
  std::vector<SourceRecord> out;
  int64_t start = MonotonicMicros();
  while (MonotonicMicros() - start < 200000) {
    ASSERT_TRUE((*src)->Poll(&out, 1000, std::chrono::milliseconds(50)).ok());
  }
  EXPECT_GT(out.size(), 10u);
  EXPECT_LT(out.size(), 200u);  // paced, not 200 ms worth of a 300k/s generator
  auto t = QuickDt(out.back().payload);
  EXPECT_LT(std::llabs(t - NowMicros()), 10 * kMicrosPerSecond);
  (*src)->Stop();
  EXPECT_EQ((*src)->Poll(&out, 10, std::chrono::milliseconds(10)).code(), Status::Code::kCancelled);
}

}  // namespace
}  // namespace ws::source
