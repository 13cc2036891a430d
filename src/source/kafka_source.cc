// KafkaSource, ParseKafkaSpec, MergeKafkaPositions and CheckKafkaProperty (see kafka.h).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdint>
#include <algorithm>
#include <map>
#include <set>
#include <mutex>
#include <nlohmann/json.hpp>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/source/kafka.h"
#include "wikistream/source/kafka_internal.h"

namespace ws::source {
namespace {

constexpr std::string_view kLog = "kafka";
using PositionMap = std::map<std::string, int64_t>;

}  // namespace

Result<PositionMap> ParseKafkaPositions(const std::string& text) {
  PositionMap map;
  if (text.empty()) return map;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("kafka: position is not a JSON object: " + text.substr(0, 200));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    size_t slash = key.rfind('/');
    bool key_ok = slash != std::string::npos && slash > 0 && slash + 1 < key.size() &&
                  key.find_first_not_of("0123456789", slash + 1) == std::string::npos;
    if (!key_ok || !it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
      return Status::InvalidArgument("kafka: bad position entry \"" + key + "\" (want \"topic/partition\": offset >= 0)");
    }
    map[key] = it.value().get<int64_t>();
  }
  return map;
}

bool ParseKafkaRecordPosition(std::string_view position, std::string_view* partition, int64_t* offset) {
  const size_t at = position.rfind('@');
  if (at == std::string_view::npos || at + 1 >= position.size()) return false;
  const std::string_view key = position.substr(0, at);
  const size_t slash = key.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= key.size() ||
      key.find_first_not_of("0123456789", slash + 1) != std::string_view::npos) {
    return false;
  }
  int64_t value = 0;
  for (char c : position.substr(at + 1)) {
    if (c < '0' || c > '9' || value > (INT64_MAX - 9) / 10) return false;
    value = value * 10 + (c - '0');
  }
  *partition = key;
  *offset = value;
  return true;
}

namespace {

std::string FormatPositions(const PositionMap& map) {
  if (map.empty()) return "";
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : map) j[k] = v;
  return j.dump();
}

std::string PartitionKey(const std::string& topic, int32_t partition) {
  return topic + "/" + std::to_string(partition);
}

}  // namespace

Result<KafkaSourceOptions> ParseKafkaSpec(const std::string& spec) {
  constexpr std::string_view kScheme = "kafka://";
  if (spec.rfind(kScheme, 0) != 0) return Status::InvalidArgument("kafka source must look like kafka://BROKERS[/TOPIC]: " + spec);
  std::string rest = spec.substr(kScheme.size());
  KafkaSourceOptions o;
  size_t slash = rest.find('/');
  o.brokers = rest.substr(0, slash);
  // Without /TOPIC: raw-events and dlq-events, so the payloads the producer
  // routed to the DLQ reach bronze.dlq_events too.
  o.topic = std::string(kRawEventsTopic) + "," + kDlqEventsTopic;
  if (slash != std::string::npos && slash + 1 < rest.size()) o.topic = rest.substr(slash + 1);
  if (o.brokers.empty()) return Status::InvalidArgument("kafka source has no brokers: " + spec);
  if (o.topic.find('/') != std::string::npos) return Status::InvalidArgument("kafka topic must not contain '/': " + spec);
  return o;
}

Status CheckKafkaProperty(const std::string& key, const std::string& value) {
  std::unique_ptr<rd_kafka_conf_t, void (*)(rd_kafka_conf_t*)> conf(rd_kafka_conf_new(), rd_kafka_conf_destroy);
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument(errstr);
  }
  return Status::OK();
}

Result<std::string> MergeKafkaPositions(const std::string& a, const std::string& b) {
  WS_ASSIGN_OR_RETURN(PositionMap ma, ParseKafkaPositions(a));
  WS_ASSIGN_OR_RETURN(PositionMap mb, ParseKafkaPositions(b));
  for (const auto& [k, v] : mb) {
    auto [it, inserted] = ma.emplace(k, v);
    if (!inserted) it->second = std::max(it->second, v);
  }
  return FormatPositions(ma);
}

struct KafkaSource::Impl : public RdKafka::RebalanceCb, public RdKafka::EventCb {
  // Runs inside consume() on the Poll thread (and in close()).
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    PositionMap fresh;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS && opt.refresh_positions) {
      Result<std::string> text = opt.refresh_positions();
      Result<PositionMap> parsed = text.ok() ? ParseKafkaPositions(*text) : Result<PositionMap>(text.status());
      if (parsed.ok()) {
        fresh = std::move(parsed).value();
      } else {
        log::Warn(kLog, "group {}: cannot refresh positions, using this consumer's own: {}", opt.group,
                  parsed.status().ToString());
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [k, v] : fresh) {
      auto [it, inserted] = positions.emplace(k, v);
      if (!inserted) it->second = std::max(it->second, v);
    }
    ++stats.rebalances;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      std::vector<std::string> names;
      for (RdKafka::TopicPartition* tp : partitions) {
        std::string key = PartitionKey(tp->topic(), tp->partition());
        auto it = positions.find(key);
        // The Iceberg snapshot's position is the truth; Kafka's committed
        // offsets are never read.
        tp->set_offset(it != positions.end() ? it->second : RdKafka::Topic::OFFSET_BEGINNING);
        names.push_back(fmt::format("{}@{}", key, it != positions.end() ? std::to_string(it->second) : "beginning"));
      }
      RdKafka::Error* e = nullptr;
      RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
      if (cooperative) {
        e = consumer->incremental_assign(partitions);
      } else {
        code = consumer->assign(partitions);
      }
      if (e != nullptr) {
        stats.last_error = "assign: " + e->str();
        delete e;
      } else if (code != RdKafka::ERR_NO_ERROR) {
        stats.last_error = "assign: " + RdKafka::err2str(code);
      }
      for (RdKafka::TopicPartition* tp : partitions) assigned.insert(PartitionKey(tp->topic(), tp->partition()));
      log::Info(kLog, "group {}: assigned {}", opt.group, names.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(names, ", ")));
    } else {
      if (cooperative) {
        RdKafka::Error* e = consumer->incremental_unassign(partitions);
        delete e;
        for (RdKafka::TopicPartition* tp : partitions) assigned.erase(PartitionKey(tp->topic(), tp->partition()));
      } else {
        consumer->unassign();
        assigned.clear();
      }
      log::Info(kLog, "group {}: {} partitions revoked", opt.group, partitions.size());
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    std::string text = fmt::format("{}: {}", RdKafka::err2str(event.err()), event.str());
    std::lock_guard<std::mutex> lock(mu);
    ++stats.errors;
    stats.last_error = text;
  }

  KafkaSourceOptions opt;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  PositionMap positions;  // resumed map merged with what Poll returned
  std::set<std::string> assigned;
  KafkaSourceStats stats;
  bool started = false;
  bool subscribed = false;
  int64_t last_error_log_us = 0;
};

KafkaSource::KafkaSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaSource::~KafkaSource() {
  if (impl_->consumer) {
    // Leaves the group so the remaining members rebalance at once.
    if (impl_->subscribed) impl_->consumer->close();
    impl_->consumer.reset();
  }
}

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaSourceOptions& options) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka: no brokers given");
  if (options.topic.empty() || options.group.empty()) return Status::InvalidArgument("kafka: topic and group are required");
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  using kafka_internal::SetConf;
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "bootstrap.servers", options.brokers));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "group.id", options.group));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "client.id", options.client_id));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "enable.auto.commit", "false"));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "enable.auto.offset.store", "false"));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "auto.offset.reset", "earliest"));
  // Only records written by committed transactions / idempotent producers.
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "isolation.level", "read_committed"));
  for (const auto& [k, v] : options.extra_config) WS_RETURN_IF_ERROR(SetConf(conf.get(), k, v));
  std::string err;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl.get()), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(impl.get()), err) != RdKafka::Conf::CONF_OK) {
    return Status::Internal("kafka: " + err);
  }
  impl->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl->consumer) return Status::InvalidArgument("kafka: cannot create consumer: " + err);
  WS_RETURN_IF_ERROR(kafka_internal::CheckBrokers(impl->consumer.get(), options.brokers, options.connect_timeout));
  return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(impl)));
}

Status KafkaSource::Resume(const std::string& position) {
  WS_ASSIGN_OR_RETURN(PositionMap map, ParseKafkaPositions(position));
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started) return Status::InvalidArgument("kafka: Resume() after the first Poll()");
  impl_->positions = std::move(map);
  return Status::OK();
}

Status KafkaSource::Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (s.stop.load()) return Status::Cancelled("kafka: stopped");
  if (!s.started) {
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.started = true;
    }
    // A comma-separated list subscribes to each (positions are per topic and partition).
    std::vector<std::string> topics;
    for (size_t from = 0; from <= s.opt.topic.size();) {
      size_t comma = std::min(s.opt.topic.find(',', from), s.opt.topic.size());
      if (comma > from) topics.push_back(s.opt.topic.substr(from, comma - from));
      from = comma + 1;
    }
    RdKafka::ErrorCode err = s.consumer->subscribe(topics);
    if (err != RdKafka::ERR_NO_ERROR) {
      return Status::Unavailable(fmt::format("kafka: cannot subscribe to {}: {}", s.opt.topic, RdKafka::err2str(err)));
    }
    s.subscribed = true;
    log::Info(kLog, "consuming {} from {} as group {}", s.opt.topic, s.opt.brokers, s.opt.group);
  }
  const int64_t deadline = MonotonicMicros() + timeout.count() * 1000;
  size_t got = 0;
  while (got < max_records) {
    if (s.stop.load()) return Status::Cancelled("kafka: stopped");
    int64_t left_ms = (deadline - MonotonicMicros()) / 1000;
    // Once something arrived, only take what is already fetched. Short
    // slices keep Stop() prompt.
    int slice = got > 0 ? 0 : static_cast<int>(std::clamp<int64_t>(left_ms, 0, 100));
    std::unique_ptr<RdKafka::Message> msg(s.consumer->consume(slice));
    RdKafka::ErrorCode err = msg->err();
    if (err == RdKafka::ERR_NO_ERROR) {
      SourceRecord rec;
      rec.payload.assign(static_cast<const char*>(msg->payload()), msg->len());
      rec.received_at_us = 0;
      if (const RdKafka::Headers* h = msg->headers()) {
        RdKafka::Headers::Header header = h->get_last("ws-received-at");
        if (header.err() == RdKafka::ERR_NO_ERROR && header.value() != nullptr) {
          // The producer's receive time is when wikistream got the event.
          std::string v(static_cast<const char*>(header.value()), header.value_size());
          char* end = nullptr;
          long long us = std::strtoll(v.c_str(), &end, 10);
          if (end != v.c_str() && *end == '\0' && us > 0) rec.received_at_us = us;
        }
      }
      if (rec.received_at_us == 0) rec.received_at_us = NowMicros();
      std::string key = PartitionKey(msg->topic_name(), msg->partition());
      rec.position = fmt::format("{}@{}", key, msg->offset());
      out->push_back(std::move(rec));
      ++got;
      std::lock_guard<std::mutex> lock(s.mu);
      s.positions[key] = msg->offset() + 1;
      ++s.stats.records;
      continue;
    }
    if (err == RdKafka::ERR__TIMED_OUT) {
      if (got > 0 || MonotonicMicros() >= deadline) break;
      continue;
    }
    if (err == RdKafka::ERR__PARTITION_EOF) continue;
    // Broker outages and the like: librdkafka reconnects by itself; we count
    // and log (at most every 10 s) and keep polling.
    std::string text = fmt::format("consume: {}", msg->errstr());
    {
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.errors;
      s.stats.last_error = text;
    }
    if (MonotonicMicros() - s.last_error_log_us > 10 * kMicrosPerSecond) {
      s.last_error_log_us = MonotonicMicros();
      log::Warn(kLog, "{}", text);
    }
    if (MonotonicMicros() >= deadline) break;
  }
  return Status::OK();
}

std::string KafkaSource::ResumePosition() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return FormatPositions(impl_->positions);
}

void KafkaSource::Stop() { impl_->stop.store(true); }

Status KafkaSource::CommitOffsets(const std::string& position) {
  WS_ASSIGN_OR_RETURN(PositionMap map, ParseKafkaPositions(position));
  std::vector<RdKafka::TopicPartition*> parts;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const std::string& key : impl_->assigned) {
      auto it = map.find(key);
      if (it == map.end()) continue;
      size_t slash = key.rfind('/');
      parts.push_back(RdKafka::TopicPartition::create(key.substr(0, slash), std::stoi(key.substr(slash + 1)), it->second));
    }
  }
  if (parts.empty()) return Status::OK();
  RdKafka::ErrorCode err = impl_->consumer->commitAsync(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (err != RdKafka::ERR_NO_ERROR) return Status::Unavailable("kafka: commit offsets: " + RdKafka::err2str(err));
  return Status::OK();
}

KafkaSourceStats KafkaSource::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  KafkaSourceStats s = impl_->stats;
  s.assigned.assign(impl_->assigned.begin(), impl_->assigned.end());
  return s;
}

}  // namespace ws::source
