// MockKafkaCluster: librdkafka's in-process mock cluster for tests, with the
// topics WikiStream uses (raw-events with `partitions` partitions,
// dlq-events with one). Its bootstrap address is a real 127.0.0.1 listener,
// so child processes (the wikistream binary) can use it too. brokers() is
// empty if the cluster could not be created; the test should assert on it.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

namespace ws::testing {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int partitions) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    // A throwaway producer handle owns the cluster.
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk_) return;
    mc_ = rd_kafka_mock_cluster_new(rk_, 1);
    if (!mc_) return;
    rd_kafka_mock_topic_create(mc_, "raw-events", partitions, 1);
    rd_kafka_mock_topic_create(mc_, "dlq-events", 1, 1);
    brokers_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~MockKafkaCluster() {
    if (mc_) rd_kafka_mock_cluster_destroy(mc_);
    if (rk_) rd_kafka_destroy(rk_);
  }
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  const std::string& brokers() const { return brokers_; }
  void SetBrokerUp(bool up) {
    if (up) {
      rd_kafka_mock_broker_set_up(mc_, 1);
    } else {
      rd_kafka_mock_broker_set_down(mc_, 1);
    }
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string brokers_;
};

}  // namespace ws::testing
