// Kafka transport for the scaled-out mode (librdkafka).
//
// Topics: `raw-events` carries raw payloads exactly as received from the
// upstream source; `dlq-events` carries payloads the producer rejected.
// Message headers: `ws-received-at` (decimal UTC micros) and
// `ws-source-position` (the upstream Source position). Key: `meta.id` when
// the payload has it, else null.
//
// KafkaEventSink contract: an idempotent producer (enable.idempotence=true,
// acks=all). Send() enqueues (waiting while the local queue is full) and
// returns the first delivery error seen so far, if any; Flush() waits for
// every enqueued message and returns an error if any delivery failed. Open()
// fails with Unavailable within connect_timeout if no broker answers.
//
// KafkaSource contract (a Source named "kafka", spec kafka://BROKERS[/TOPICS],
// TOPICS comma-separated, default raw-events,dlq-events: the producer's DLQ
// reaches bronze.dlq_events through the same ingest rules, which give the
// same error codes): a member of consumer group `group`, with
// enable.auto.commit=false. Positions are JSON objects
// {"<topic>/<partition>": next_offset, ...}. Resume(position) (before the
// first Poll) makes partitions assigned later start at the offsets of the
// map; partitions absent from it start at the beginning (Kafka's committed
// offsets are only a hint for tools, never read). Poll() returns records with
// position "<topic>/<partition>@<offset>"; ResumePosition() is the resumed map
// merged with the next offset of every partition this consumer has returned
// records from (it keeps partitions revoked by a rebalance). Several
// consumers of one group each report their own partitions: the caller stores
// one map per group and merges maps per partition taking the maximum (see
// MergeKafkaPositions), which is safe because every consumer writes its
// position in the same Iceberg commit as its records. CommitOffsets() copies
// a position to Kafka's group offsets (asynchronously) after the Iceberg
// commit. Broker outages during Poll are retried (and counted in stats());
// Open() fails with Unavailable within connect_timeout if no broker answers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/source/source.h"

namespace ws::source {

inline constexpr const char* kRawEventsTopic = "raw-events";
inline constexpr const char* kDlqEventsTopic = "dlq-events";

struct KafkaSinkOptions {
  std::string brokers;  // "host:port[,host:port...]"
  std::string raw_topic = kRawEventsTopic;
  std::string dlq_topic = kDlqEventsTopic;
  std::string client_id = "wikistream-produce";
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds delivery_timeout{120000};  // message.timeout.ms
  std::map<std::string, std::string> extra_config;  // any librdkafka property, applied last
};

using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

struct KafkaSinkStats {
  int64_t enqueued = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
  std::string last_error;
};

class KafkaEventSink {
 public:
  static Result<std::unique_ptr<KafkaEventSink>> Open(const KafkaSinkOptions& options);
  ~KafkaEventSink();  // flushes for up to 10 s

  // An empty key is sent as a null key.
  Status Send(const std::string& topic, const std::string& key, const std::string& payload,
              const KafkaHeaders& headers = {});
  // raw-events, key meta.id, headers ws-received-at and ws-source-position.
  Status SendRaw(const SourceRecord& record);
  // dlq-events, same headers plus ws-error-code.
  Status SendDlq(const SourceRecord& record, const std::string& error_code);
  Status Flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

  const KafkaSinkOptions& options() const { return options_; }
  KafkaSinkStats stats() const;

  struct Impl;

 private:
  explicit KafkaEventSink(KafkaSinkOptions options);
  KafkaSinkOptions options_;
  std::unique_ptr<Impl> impl_;
};

// `meta.id` of a recentchange payload, "" if the payload is not a JSON object
// with a string meta.id.
std::string ExtractMetaId(const std::string& payload);

struct ProduceStats {
  int64_t records = 0;
  int64_t flushes = 0;
  int64_t polls = 0;
};

struct ProduceOptions {
  size_t max_batch = 1000;
  std::chrono::milliseconds poll_timeout{200};
  std::chrono::milliseconds flush_interval{5000};
  // Where a record goes; default: sink->SendRaw(record).
  std::function<Status(const SourceRecord&, KafkaEventSink*)> route;
  // After every successful Flush, with the source's ResumePosition(): every
  // record up to it is durably in Kafka. Persist it to resume the producer.
  std::function<void(const std::string& position)> on_flushed;
  // After every poll (idle ones too) with the stats so far: liveness and metrics.
  std::function<void(const ProduceStats&)> on_poll;
};

// Moves records from `source` to `sink` until the source ends (OK), `stop`
// becomes true or the source is stopped (OK, after a final flush), or a
// delivery fails (the error).
Status ProduceFromSource(Source* source, KafkaEventSink* sink, const std::atomic<bool>& stop,
                         const ProduceOptions& options = {}, ProduceStats* stats = nullptr);

struct KafkaSourceOptions {
  std::string brokers;
  std::string topic = kRawEventsTopic;
  std::string group = "wikistream-bronze";
  std::string client_id = "wikistream-bronze";
  std::chrono::milliseconds connect_timeout{10000};
  std::map<std::string, std::string> extra_config;  // any librdkafka property, applied last
  // Optional: called (on the Poll thread) whenever partitions are assigned;
  // returns the freshest committed position of the group (e.g. the merge of
  // every position in the warehouse), merged per partition (max) into this
  // consumer's map before the partitions start. It lets a consumer that
  // takes over a partition in a rebalance start where the previous owner's
  // last Iceberg commit ended instead of where this consumer last knew.
  std::function<Result<std::string>()> refresh_positions;
};

// "kafka://b1:9092,b2:9092/topic" -> brokers, topic (default "raw-events,dlq-events").
Result<KafkaSourceOptions> ParseKafkaSpec(const std::string& spec);

// {"t/0": 5} + {"t/0": 7, "t/1": 2} -> {"t/0": 7, "t/1": 2}. Invalid input
// is an InvalidArgument error.
Result<std::string> MergeKafkaPositions(const std::string& a, const std::string& b);

// {"t/0": 5, ...} -> {"t/0" -> 5, ...}; "" is the empty map. InvalidArgument
// unless every key is "topic/partition" and every value an offset >= 0.
Result<std::map<std::string, int64_t>> ParseKafkaPositions(const std::string& text);

// A record's position "topic/partition@offset" -> partition key
// "topic/partition" (a view into `position`) and offset; false if
// `position` does not have that form.
bool ParseKafkaRecordPosition(std::string_view position, std::string_view* partition, int64_t* offset);

// Checks KEY=VALUE against librdkafka's own property table (a global
// configuration), so a bad --kafka-property is a usage error before any
// connection: InvalidArgument with librdkafka's message otherwise.
Status CheckKafkaProperty(const std::string& key, const std::string& value);

struct KafkaSourceStats {
  int64_t records = 0;
  int64_t rebalances = 0;
  int64_t errors = 0;
  std::vector<std::string> assigned;  // "<topic>/<partition>"
  std::string last_error;
};

class KafkaSource : public Source {
 public:
  static Result<std::unique_ptr<KafkaSource>> Open(const KafkaSourceOptions& options);
  ~KafkaSource() override;  // leaves the group

  model::SourceKind kind() const override { return model::SourceKind::kKafka; }
  Status Resume(const std::string& position) override;
  Status Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) override;
  std::string ResumePosition() const override;
  void Stop() override;

  // Commits `position`'s offsets of the currently assigned partitions to the
  // group (asynchronously; a hint for tools such as lag monitors).
  Status CommitOffsets(const std::string& position);
  Status CommitOffsets() { return CommitOffsets(ResumePosition()); }

  KafkaSourceStats stats() const;

  struct Impl;

 private:
  explicit KafkaSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::source
