// `produce` routes payloads the ingest rules reject to dlq-events with the
// error code as a header, and everything else unchanged to raw-events,
// through librdkafka's mock cluster.
#include "wikistream/runtime/produce_router.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "testing/kafka_mock_cluster.h"
#include "wikistream/common/time.h"

namespace ws::runtime {
namespace {

struct Message {
  std::string topic, payload, error_code;
};

// Every message of raw-events/0 and dlq-events/0, read from the beginning
// until `want` arrived (or 15 s passed).
std::vector<Message> ReadTopics(const std::string& brokers, size_t want) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "produce-router-test", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  std::vector<Message> out;
  if (!rk) return out;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(2);
  rd_kafka_topic_partition_list_add(parts, "raw-events", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_topic_partition_list_add(parts, "dlq-events", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (!m->err) {
      Message msg;
      msg.topic = rd_kafka_topic_name(m->rkt);
      msg.payload.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(headers, "ws-error-code", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        msg.error_code.assign(static_cast<const char*>(value), size);
      }
      out.push_back(std::move(msg));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

TEST(ProduceRouterTest, MalformedPayloadsGoToTheDlqWithTheirErrorCode) {
  testing::MockKafkaCluster cluster(1);
  ASSERT_FALSE(cluster.brokers().empty());
  prometheus::Registry registry;
  ProduceMetrics metrics(&registry);
  source::KafkaSinkOptions so;
  so.brokers = cluster.brokers();
  auto sink = source::KafkaEventSink::Open(so);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ProduceRouter router(&metrics);

  const std::string good =
      R"({"meta":{"id":"g1","domain":"en.wikipedia.org","dt":"2026-03-01T10:00:00Z"},"type":"edit","namespace":0,)"
      R"("title":"P","user":"A","bot":false})";
  // Another wiki: not the producer's business (the consumers filter), so raw-events.
  const std::string other_wiki =
      R"({"meta":{"id":"g2","domain":"xx.example.org","dt":"2026-03-01T10:00:00Z"},"type":"edit","namespace":0,)"
      R"("title":"P","user":"A","bot":false})";
  const std::map<std::string, std::string> bad = {{"{not json", "invalid_json"},
                                                  {R"({"meta":{"domain":"en.wikipedia.org"}})", "missing_field:meta.id"},
                                                  {"[1,2]", "not_an_object"}};
  int64_t offset = 0;
  auto send = [&](const std::string& payload) {
    Status s = router.Route(source::SourceRecord{payload, NowMicros(), "pos-" + std::to_string(offset++)}, sink->get());
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  send(good);
  for (const auto& [payload, code] : bad) send(payload);
  send(other_wiki);
  ASSERT_TRUE((*sink)->Flush().ok());

  std::vector<Message> got = ReadTopics(cluster.brokers(), 5);
  std::vector<std::string> raw;
  std::map<std::string, std::string> dlq;
  for (const auto& m : got) {
    if (m.topic == "raw-events") {
      EXPECT_EQ(m.error_code, "") << m.payload;
      raw.push_back(m.payload);
    } else {
      dlq[m.payload] = m.error_code;
    }
  }
  EXPECT_EQ(raw, (std::vector<std::string>{good, other_wiki}));
  EXPECT_EQ(dlq, bad);

  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find(R"(wikistream_produce_records_total{topic="raw-events"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(wikistream_produce_records_total{topic="dlq-events"} 3)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(wikistream_produce_dlq_total{error_code="invalid_json"} 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace ws::runtime
