// KafkaEventSink, ExtractMetaId and ProduceFromSource (see kafka.h).
#include <librdkafka/rdkafkacpp.h>
#include <simdjson.h>

#include <mutex>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/source/kafka.h"
#include "wikistream/source/kafka_internal.h"

namespace ws::source {
namespace {
constexpr std::string_view kLog = "kafka";
}  // namespace

namespace kafka_internal {

Status SetConf(RdKafka::Conf* conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument(fmt::format("kafka: bad setting {}={}: {}", key, value, err));
  }
  return Status::OK();
}

Status CheckBrokers(RdKafka::Handle* handle, const std::string& brokers, std::chrono::milliseconds timeout) {
  RdKafka::Metadata* md = nullptr;
  RdKafka::ErrorCode err = handle->metadata(true, nullptr, &md, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> owned(md);
  if (err != RdKafka::ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("kafka: no broker of \"{}\" answered within {} ms ({})", brokers,
                                           timeout.count(), RdKafka::err2str(err)));
  }
  return Status::OK();
}

}  // namespace kafka_internal

std::string ExtractMetaId(const std::string& payload) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(payload);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return "";
  simdjson::ondemand::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return "";
  simdjson::ondemand::object meta;
  if (root["meta"].get_object().get(meta) != simdjson::SUCCESS) return "";
  std::string_view id;
  if (meta["id"].get_string().get(id) != simdjson::SUCCESS) return "";
  return std::string(id);
}

struct KafkaEventSink::Impl : public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
  void dr_cb(RdKafka::Message& message) override {
    std::lock_guard<std::mutex> lock(mu);
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++stats.delivered;
      return;
    }
    ++stats.failed;
    stats.last_error = fmt::format("delivery to {} failed: {}", message.topic_name(), message.errstr());
    if (first_error.ok()) first_error = Status::Unavailable("kafka: " + stats.last_error);
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    std::string text = fmt::format("{}: {}", RdKafka::err2str(event.err()), event.str());
    std::lock_guard<std::mutex> lock(mu);
    stats.last_error = text;
    // A fatal error (e.g. the idempotence guarantee broke) ends the producer.
    if (event.fatal() && first_error.ok()) first_error = Status::Internal("kafka: fatal producer error: " + text);
  }

  Status FirstError() {
    std::lock_guard<std::mutex> lock(mu);
    return first_error;
  }

  std::unique_ptr<RdKafka::Producer> producer;
  std::mutex mu;
  KafkaSinkStats stats;
  Status first_error;
};

KafkaEventSink::KafkaEventSink(KafkaSinkOptions options) : options_(std::move(options)), impl_(new Impl) {}

KafkaEventSink::~KafkaEventSink() {
  if (impl_->producer) {
    impl_->producer->flush(10000);
    impl_->producer.reset();
  }
}

Result<std::unique_ptr<KafkaEventSink>> KafkaEventSink::Open(const KafkaSinkOptions& options) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka: no brokers given");
  std::unique_ptr<KafkaEventSink> sink(new KafkaEventSink(options));
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  using kafka_internal::SetConf;
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "bootstrap.servers", options.brokers));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "client.id", options.client_id));
  // Idempotence: broker-side dedup of producer retries, in-order per partition.
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "enable.idempotence", "true"));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "acks", "all"));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "linger.ms", "20"));
  WS_RETURN_IF_ERROR(SetConf(conf.get(), "message.timeout.ms", std::to_string(options.delivery_timeout.count())));
  for (const auto& [k, v] : options.extra_config) WS_RETURN_IF_ERROR(SetConf(conf.get(), k, v));
  std::string err;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(sink->impl_.get()), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(sink->impl_.get()), err) != RdKafka::Conf::CONF_OK) {
    return Status::Internal("kafka: " + err);
  }
  sink->impl_->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!sink->impl_->producer) return Status::InvalidArgument("kafka: cannot create producer: " + err);
  WS_RETURN_IF_ERROR(kafka_internal::CheckBrokers(sink->impl_->producer.get(), options.brokers, options.connect_timeout));
  log::Info(kLog, "producing to {} (topics {}, {})", options.brokers, options.raw_topic, options.dlq_topic);
  return sink;
}

Status KafkaEventSink::Send(const std::string& topic, const std::string& key, const std::string& payload,
                            const KafkaHeaders& headers) {
  WS_RETURN_IF_ERROR(impl_->FirstError());
  RdKafka::Producer* p = impl_->producer.get();
  while (true) {
    RdKafka::Headers* h = nullptr;
    if (!headers.empty()) {
      h = RdKafka::Headers::create();
      for (const auto& [name, value] : headers) h->add(name, value);
    }
    RdKafka::ErrorCode err =
        p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                   const_cast<char*>(payload.data()), payload.size(), key.empty() ? nullptr : key.data(), key.size(),
                   0, h, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) break;
    delete h;  // produce() only takes ownership on success
    if (err == RdKafka::ERR__QUEUE_FULL) {
      // The local queue is the backpressure point: serve delivery reports
      // until there is room again.
      p->poll(100);
      WS_RETURN_IF_ERROR(impl_->FirstError());
      continue;
    }
    return Status::Unavailable(fmt::format("kafka: cannot produce to {}: {}", topic, RdKafka::err2str(err)));
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    ++impl_->stats.enqueued;
  }
  p->poll(0);
  return impl_->FirstError();
}

namespace {
KafkaHeaders RecordHeaders(const SourceRecord& record) {
  return {{"ws-received-at", std::to_string(record.received_at_us)}, {"ws-source-position", record.position}};
}
}  // namespace

Status KafkaEventSink::SendRaw(const SourceRecord& record) {
  return Send(options_.raw_topic, ExtractMetaId(record.payload), record.payload, RecordHeaders(record));
}

Status KafkaEventSink::SendDlq(const SourceRecord& record, const std::string& error_code) {
  KafkaHeaders h = RecordHeaders(record);
  h.emplace_back("ws-error-code", error_code);
  return Send(options_.dlq_topic, "", record.payload, h);
}

Status KafkaEventSink::Flush(std::chrono::milliseconds timeout) {
  RdKafka::ErrorCode err = impl_->producer->flush(static_cast<int>(timeout.count()));
  WS_RETURN_IF_ERROR(impl_->FirstError());
  if (err == RdKafka::ERR__TIMED_OUT) {
    return Status::Timeout(fmt::format("kafka: {} messages still undelivered after {} ms", impl_->producer->outq_len(),
                                       timeout.count()));
  }
  if (err != RdKafka::ERR_NO_ERROR) return Status::Unavailable("kafka: flush: " + RdKafka::err2str(err));
  return Status::OK();
}

KafkaSinkStats KafkaEventSink::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

Status ProduceFromSource(Source* source, KafkaEventSink* sink, const std::atomic<bool>& stop,
                         const ProduceOptions& options, ProduceStats* stats) {
  ProduceStats local;
  if (stats == nullptr) stats = &local;
  auto flush = [&]() -> Status {
    std::string position = source->ResumePosition();  // every record up to here is enqueued
    WS_RETURN_IF_ERROR(sink->Flush());
    ++stats->flushes;
    if (options.on_flushed) options.on_flushed(position);
    return Status::OK();
  };
  int64_t last_flush = MonotonicMicros();
  std::vector<SourceRecord> batch;
  while (!stop.load()) {
    batch.clear();
    Status st = source->Poll(&batch, options.max_batch, options.poll_timeout);
    ++stats->polls;
    bool end = st.IsEndOfStream();
    if (st.code() == Status::Code::kCancelled) break;
    if (!st.ok() && !end) return st;
    for (const SourceRecord& r : batch) {
      Status sent = options.route ? options.route(r, sink) : sink->SendRaw(r);
      if (!sent.ok()) return sent;
      ++stats->records;
    }
    if (options.on_poll) options.on_poll(*stats);
    if (end) break;
    if (MonotonicMicros() - last_flush >= options.flush_interval.count() * 1000) {
      WS_RETURN_IF_ERROR(flush());
      last_flush = MonotonicMicros();
    }
  }
  return flush();
}

}  // namespace ws::source
