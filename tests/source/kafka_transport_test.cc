// Kafka sink and source against librdkafka's in-process mock cluster.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "testing/kafka_mock_cluster.h"
#include "testing/test_util.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/source/kafka.h"

namespace ws::source {
namespace {

using namespace std::chrono_literals;

using MockCluster = ws::testing::MockKafkaCluster;

std::string Payload(int i) {
  return R"({"meta":{"uri":"https://x/}","id":"id-)" + std::to_string(i) + R"(","domain":"en.wikipedia.org"},"n":)" +
         std::to_string(i) + "}";
}

// A finite in-memory Source.
class VectorSource : public Source {
 public:
  explicit VectorSource(int n) : n_(n) {}
  model::SourceKind kind() const override { return model::SourceKind::kSynthetic; }
  Status Resume(const std::string&) override { return Status::OK(); }
  Status Poll(std::vector<SourceRecord>* out, size_t max, std::chrono::milliseconds) override {
    if (next_ >= n_) return Status::EndOfStream();
    for (size_t k = 0; k < max && next_ < n_; ++k, ++next_) {
      out->push_back({next_ % 10 == 9 ? "not json" : Payload(next_), 1700000000000000 + next_, std::to_string(next_)});
    }
    return Status::OK();
  }
  std::string ResumePosition() const override { return std::to_string(next_); }
  void Stop() override {}

 private:
  int n_;
  int next_ = 0;
};

KafkaSourceOptions ConsumerOptions(const std::string& brokers, const std::string& group) {
  KafkaSourceOptions o;
  o.brokers = brokers;
  o.group = group;
  o.connect_timeout = 5s;
  o.extra_config = {{"session.timeout.ms", "2500"}, {"heartbeat.interval.ms", "200"}, {"log_level", "3"}};
  return o;
}

std::unique_ptr<KafkaSource> OpenConsumer(const KafkaSourceOptions& o) {
  auto r = KafkaSource::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

std::unique_ptr<KafkaEventSink> OpenSink(const std::string& brokers) {
  KafkaSinkOptions o;
  o.brokers = brokers;
  o.connect_timeout = 5s;
  o.extra_config = {{"log_level", "3"}};
  auto r = KafkaEventSink::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

void ProduceN(KafkaEventSink* sink, int from, int to) {
  for (int i = from; i < to; ++i) {
    ASSERT_TRUE(sink->SendRaw({Payload(i), 1700000000000000 + i, "pos-" + std::to_string(i)}).ok());
  }
  ASSERT_TRUE(sink->Flush(5s).ok());
}

// Polls until `n` records or the time limit.
std::vector<SourceRecord> PollN(Source* src, size_t n, std::chrono::milliseconds limit) {
  std::vector<SourceRecord> out;
  int64_t deadline = MonotonicMicros() + limit.count() * 1000;
  while (out.size() < n && MonotonicMicros() < deadline) {
    Status st = src->Poll(&out, n - out.size(), 100ms);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) break;
  }
  return out;
}

int64_t SumOffsets(const std::string& position) {
  if (position.empty()) return 0;
  int64_t sum = 0;
  nlohmann::json j = nlohmann::json::parse(position);
  for (auto& [k, v] : j.items()) sum += v.get<int64_t>();
  return sum;
}

class KafkaTest : public ::testing::Test {
 protected:
  ws::testing::ScopedLogLevel quiet_{log::Level::kWarn};
};

TEST_F(KafkaTest, ProduceThenConsumeEveryRecordExactlyOnce) {
  MockCluster cluster(4);
  constexpr int kN = 200;
  {
    auto sink = OpenSink(cluster.brokers());
    VectorSource src(kN);
    std::atomic<bool> stop{false};
    std::vector<std::string> flushed;
    ProduceOptions po;
    po.max_batch = 37;
    po.route = [](const SourceRecord& r, KafkaEventSink* s) {
      return r.payload == "not json" ? s->SendDlq(r, "malformed_json") : s->SendRaw(r);
    };
    po.on_flushed = [&](const std::string& p) { flushed.push_back(p); };
    ProduceStats ps;
    ASSERT_TRUE(ProduceFromSource(&src, sink.get(), stop, po, &ps).ok());
    EXPECT_EQ(ps.records, kN);
    ASSERT_FALSE(flushed.empty());
    EXPECT_EQ(flushed.back(), std::to_string(kN));
    auto st = sink->stats();
    EXPECT_EQ(st.delivered, kN);
    EXPECT_EQ(st.failed, 0);
  }
  auto raw = OpenConsumer(ConsumerOptions(cluster.brokers(), "g1"));
  KafkaSourceOptions dlq_opts = ConsumerOptions(cluster.brokers(), "g1-dlq");
  dlq_opts.topic = kDlqEventsTopic;
  auto dlq = OpenConsumer(dlq_opts);
  EXPECT_EQ(raw->name(), "kafka");
  std::vector<SourceRecord> dlq_recs;
  // Both groups join in parallel (the mock delays a first join by 3 s).
  int64_t deadline = MonotonicMicros() + 8 * kMicrosPerSecond;
  std::vector<SourceRecord> recs;
  while ((recs.size() < 180 || dlq_recs.size() < 20) && MonotonicMicros() < deadline) {
    ASSERT_TRUE(raw->Poll(&recs, 1000, 50ms).ok());
    ASSERT_TRUE(dlq->Poll(&dlq_recs, 1000, 50ms).ok());
  }
  ASSERT_EQ(recs.size(), 180u);
  ASSERT_EQ(dlq_recs.size(), 20u);
  std::set<std::string> payloads;
  for (const auto& r : recs) {
    payloads.insert(r.payload);
    EXPECT_NE(r.position.find("raw-events/"), std::string::npos) << r.position;
    EXPECT_NE(r.position.find('@'), std::string::npos) << r.position;
  }
  EXPECT_EQ(payloads.size(), 180u) << "no duplicates";
  for (int i = 0; i < kN; ++i) {
    if (i % 10 != 9) {
      EXPECT_TRUE(payloads.count(Payload(i))) << i;
    }
  }
  // ingested_at is the producer's receive time, carried in a header.
  std::set<int64_t> times;
  for (const auto& r : recs) times.insert(r.received_at_us);
  EXPECT_TRUE(times.count(1700000000000000));
  EXPECT_EQ(dlq_recs[0].payload, "not json");
  EXPECT_EQ(SumOffsets(raw->ResumePosition()), 180);
  auto pos = nlohmann::json::parse(raw->ResumePosition());
  EXPECT_GE(pos.size(), 2u) << "meta.id keys spread records over partitions: " << pos.dump();

  // Nothing more arrives.
  std::vector<SourceRecord> more;
  ASSERT_TRUE(raw->Poll(&more, 10, 300ms).ok());
  EXPECT_TRUE(more.empty());

  // Offsets copied to the group as a hint for tools.
  ASSERT_TRUE(raw->CommitOffsets().ok());
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", cluster.brokers(), err);
  conf->set("group.id", "g1", err);
  std::unique_ptr<RdKafka::KafkaConsumer> probe(RdKafka::KafkaConsumer::create(conf.get(), err));
  ASSERT_TRUE(probe) << err;
  int64_t committed_sum = 0;
  for (int attempt = 0; attempt < 30 && committed_sum != 180; ++attempt) {
    std::vector<RdKafka::TopicPartition*> parts;
    for (int p = 0; p < 4; ++p) parts.push_back(RdKafka::TopicPartition::create(kRawEventsTopic, p));
    if (probe->committed(parts, 2000) == RdKafka::ERR_NO_ERROR) {
      committed_sum = 0;
      for (auto* tp : parts) committed_sum += std::max<int64_t>(tp->offset(), 0);
    }
    RdKafka::TopicPartition::destroy(parts);
    if (committed_sum != 180) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(committed_sum, 180);
  probe->close();
}

TEST_F(KafkaTest, FreshConsumerResumesFromPositionWithoutLoss) {
  MockCluster cluster(3);
  constexpr int kN = 120;
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 0, kN);
  }
  std::vector<SourceRecord> first;
  std::string position;
  {
    auto a = OpenConsumer(ConsumerOptions(cluster.brokers(), "g2"));
    first = PollN(a.get(), 50, 8000ms);
    ASSERT_EQ(first.size(), 50u);
    position = a->ResumePosition();
    EXPECT_EQ(SumOffsets(position), 50);
    // Records fetched but not returned must not count.
    a->Stop();
    std::vector<SourceRecord> none;
    EXPECT_EQ(a->Poll(&none, 10, 1s).code(), Status::Code::kCancelled);
  }
  auto b = OpenConsumer(ConsumerOptions(cluster.brokers(), "g2"));
  ASSERT_TRUE(b->Resume(position).ok());
  // Another group resumed from a map that names only partition 0: the other
  // partitions start at the beginning.
  auto c = OpenConsumer(ConsumerOptions(cluster.brokers(), "g2-other"));
  ASSERT_TRUE(c->Resume(R"({"raw-events/0": 3})").ok());
  std::vector<SourceRecord> second, third;
  int64_t deadline = MonotonicMicros() + 8 * kMicrosPerSecond;
  while ((second.size() < kN - 50 || third.size() < kN - 3) && MonotonicMicros() < deadline) {
    ASSERT_TRUE(b->Poll(&second, 1000, 50ms).ok());
    ASSERT_TRUE(c->Poll(&third, 1000, 50ms).ok());
  }
  ASSERT_EQ(second.size(), static_cast<size_t>(kN - 50));
  ASSERT_EQ(third.size(), static_cast<size_t>(kN - 3));
  for (const auto& r : third) {
    if (r.position.rfind("raw-events/0@", 0) == 0) {
      EXPECT_GE(std::stoll(r.position.substr(13)), 3) << r.position;
    }
  }
  std::multiset<std::string> all;
  for (const auto& r : first) all.insert(r.payload);
  for (const auto& r : second) all.insert(r.payload);
  ASSERT_EQ(all.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(all.count(Payload(i)), 1u) << i;
  EXPECT_EQ(SumOffsets(b->ResumePosition()), kN);
  EXPECT_FALSE(b->Resume(position).ok()) << "Resume after Poll is a caller bug";
}

TEST_F(KafkaTest, TwoConsumersOfOneGroupSplitThePartitions) {
  MockCluster cluster(4);
  constexpr int kN = 160;
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 0, kN);
  }
  auto c1 = OpenConsumer(ConsumerOptions(cluster.brokers(), "g3"));
  auto c2 = OpenConsumer(ConsumerOptions(cluster.brokers(), "g3"));
  std::vector<SourceRecord> r1, r2;
  // Only a bound against a hang: the loop ends as soon as every record is in.
  // The group's join and rebalance take 3.6-5.6 s under ASan with both cores
  // busy, and CI once saw half the records after 9 s (one member's partitions
  // not yet fetched).
  int64_t deadline = MonotonicMicros() + 30 * kMicrosPerSecond;
  while (r1.size() + r2.size() < kN && MonotonicMicros() < deadline) {
    ASSERT_TRUE(c1->Poll(&r1, 1000, 30ms).ok());
    ASSERT_TRUE(c2->Poll(&r2, 1000, 30ms).ok());
  }
  ASSERT_EQ(r1.size() + r2.size(), static_cast<size_t>(kN));
  EXPECT_FALSE(r1.empty());
  EXPECT_FALSE(r2.empty());
  std::set<std::string> all;
  for (const auto& r : r1) all.insert(r.payload);
  for (const auto& r : r2) all.insert(r.payload);
  EXPECT_EQ(all.size(), static_cast<size_t>(kN));
  auto a1 = c1->stats().assigned, a2 = c2->stats().assigned;
  EXPECT_EQ(a1.size() + a2.size(), 4u);
  for (const auto& p : a1) EXPECT_EQ(std::count(a2.begin(), a2.end(), p), 0) << p;
  // The per-group map the caller stores is the per-partition max of both.
  auto merged = MergeKafkaPositions(c1->ResumePosition(), c2->ResumePosition());
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(SumOffsets(*merged), kN);
}

TEST_F(KafkaTest, ConsumerTakingOverPartitionsStartsAtRefreshedPositions) {
  MockCluster cluster(4);
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 0, 100);
  }
  auto a = OpenConsumer(ConsumerOptions(cluster.brokers(), "g6"));
  auto first = PollN(a.get(), 100, 8000ms);
  ASSERT_EQ(first.size(), 100u);
  // As if read back from the warehouse: A's committed position.
  const std::string committed = a->ResumePosition();
  KafkaSourceOptions bo = ConsumerOptions(cluster.brokers(), "g6");
  int refreshes = 0;
  bo.refresh_positions = [&]() -> Result<std::string> {
    ++refreshes;
    return committed;
  };
  auto b = OpenConsumer(bo);
  std::vector<SourceRecord> ra, rb;
  // Bounds that a loaded CI machine cannot reach (each loop ends as soon as
  // its condition holds): a rebalance took over 6 s under parallel tests.
  int64_t deadline = MonotonicMicros() + 30 * kMicrosPerSecond;
  while ((b->stats().assigned.empty() || a->stats().assigned.size() == 4) && MonotonicMicros() < deadline) {
    ASSERT_TRUE(a->Poll(&ra, 1000, 30ms).ok());
    ASSERT_TRUE(b->Poll(&rb, 1000, 30ms).ok());
  }
  ASSERT_FALSE(b->stats().assigned.empty()) << "B never joined";
  EXPECT_GE(refreshes, 1);
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 100, 140);
  }
  deadline = MonotonicMicros() + 20 * kMicrosPerSecond;
  while (ra.size() + rb.size() < 40 && MonotonicMicros() < deadline) {
    ASSERT_TRUE(a->Poll(&ra, 1000, 30ms).ok());
    ASSERT_TRUE(b->Poll(&rb, 1000, 30ms).ok());
  }
  ASSERT_TRUE(a->Poll(&ra, 1000, 100ms).ok());
  ASSERT_TRUE(b->Poll(&rb, 1000, 100ms).ok());
  std::multiset<std::string> later;
  for (const auto& r : ra) later.insert(r.payload);
  for (const auto& r : rb) later.insert(r.payload);
  EXPECT_EQ(later.size(), 40u) << "only the new records, none of the first 100 again";
  for (int i = 100; i < 140; ++i) EXPECT_EQ(later.count(Payload(i)), 1u) << i;
}

TEST_F(KafkaTest, BrokerOutageDuringConsumeIsRetriedWithoutLossOrDuplicates) {
  MockCluster cluster(2);
  KafkaSourceOptions o = ConsumerOptions(cluster.brokers(), "g5");
  o.extra_config["reconnect.backoff.ms"] = "50";
  o.extra_config["reconnect.backoff.max.ms"] = "200";
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 0, 40);
  }
  auto c = OpenConsumer(o);
  auto recs = PollN(c.get(), 40, 8000ms);
  ASSERT_EQ(recs.size(), 40u);
  cluster.SetBrokerUp(false);
  int64_t start = MonotonicMicros();
  std::vector<SourceRecord> during;
  while (MonotonicMicros() - start < 700 * 1000) ASSERT_TRUE(c->Poll(&during, 100, 100ms).ok());
  EXPECT_TRUE(during.empty());
  EXPECT_GT(c->stats().errors, 0) << "the outage was seen (and retried)";
  cluster.SetBrokerUp(true);
  {
    auto sink = OpenSink(cluster.brokers());
    ProduceN(sink.get(), 40, 80);
  }
  auto after = PollN(c.get(), 40, 8000ms);
  ASSERT_EQ(after.size(), 40u);
  std::set<std::string> all;
  for (const auto& r : recs) all.insert(r.payload);
  for (const auto& r : after) all.insert(r.payload);
  EXPECT_EQ(all.size(), 80u);
  std::vector<SourceRecord> more;
  ASSERT_TRUE(c->Poll(&more, 10, 200ms).ok());
  EXPECT_TRUE(more.empty()) << "a rejoin after the outage must start at the consumed offsets";
  EXPECT_EQ(SumOffsets(c->ResumePosition()), 80);
}

TEST_F(KafkaTest, UndeliverableMessagesSurfaceAsStatus) {
  MockCluster cluster(1);
  KafkaSinkOptions so;
  so.brokers = cluster.brokers();
  so.connect_timeout = 5s;
  so.delivery_timeout = 800ms;
  so.extra_config = {{"log_level", "0"}};
  auto sink_or = KafkaEventSink::Open(so);
  ASSERT_TRUE(sink_or.ok()) << sink_or.status().ToString();
  auto sink = std::move(sink_or).value();
  ASSERT_TRUE(sink->Send(kRawEventsTopic, "k", "first").ok());
  ASSERT_TRUE(sink->Flush(5s).ok());
  cluster.SetBrokerUp(false);
  ASSERT_TRUE(sink->Send(kRawEventsTopic, "k", "lost").ok()) << "enqueueing still works";
  int64_t start = MonotonicMicros();
  Status st = sink->Flush(5s);
  EXPECT_FALSE(st.ok());
  EXPECT_LT(MonotonicMicros() - start, 4 * kMicrosPerSecond);
  EXPECT_NE(st.message().find("delivery"), std::string::npos) << st.ToString();
  EXPECT_FALSE(sink->Send(kRawEventsTopic, "k", "later").ok()) << "the error is sticky";
  auto stats = sink->stats();
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_GE(stats.failed, 1);
  cluster.SetBrokerUp(true);
}

TEST_F(KafkaTest, UnreachableBrokerFailsWithinBoundedTime) {
  int64_t start = MonotonicMicros();
  KafkaSourceOptions o = ConsumerOptions("127.0.0.1:1", "g4");
  o.connect_timeout = 1500ms;
  auto r = KafkaSource::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos) << r.status().ToString();

  KafkaSinkOptions so;
  so.brokers = "127.0.0.1:1";
  so.connect_timeout = 1500ms;
  so.extra_config = {{"log_level", "0"}};
  auto s = KafkaEventSink::Open(so);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnavailable);
  EXPECT_LT(MonotonicMicros() - start, 6 * kMicrosPerSecond);
}

TEST(KafkaSpecTest, ParsesSpecsPositionsAndMetaIds) {
  auto o = ParseKafkaSpec("kafka://b1:9092,b2:9092/my-topic");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->brokers, "b1:9092,b2:9092");
  EXPECT_EQ(o->topic, "my-topic");
  o = ParseKafkaSpec("kafka://localhost:9092");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->topic, "raw-events,dlq-events");
  EXPECT_FALSE(ParseKafkaSpec("kafka://").ok());
  EXPECT_FALSE(ParseKafkaSpec("http://x").ok());

  auto m = MergeKafkaPositions(R"({"t/0":5,"t/1":9})", R"({"t/0":7,"t/2":1})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(nlohmann::json::parse(*m), nlohmann::json::parse(R"({"t/0":7,"t/1":9,"t/2":1})"));
  EXPECT_EQ(*MergeKafkaPositions("", ""), "");
  EXPECT_FALSE(MergeKafkaPositions("[1]", "").ok());
  EXPECT_FALSE(MergeKafkaPositions(R"({"t":1})", "").ok());
  EXPECT_FALSE(MergeKafkaPositions(R"({"t/0":-1})", "").ok());

  EXPECT_EQ(ExtractMetaId(Payload(3)), "id-3");
  EXPECT_EQ(ExtractMetaId("not json"), "");
  EXPECT_EQ(ExtractMetaId(R"({"meta":{"id":5}})"), "");
  EXPECT_EQ(ExtractMetaId(R"([1,2])"), "");
}

}  // namespace
}  // namespace ws::source
