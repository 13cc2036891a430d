// The Prometheus series of every role (docs/operations.md lists them):
// IngestMetrics (wikistream_ingest_*, wikistream_bronze_*, and the batch
// series of `run`'s scheduler), BatchMetrics (wikistream_batch_*: `run`
// and the `batch --every` loop), ProduceMetrics (wikistream_produce_*).
//
// Contract: Update() publishes the growth of the counters since the last
// call (call it periodically with the loop's stats); Record...() count one
// event as it happens. Thread-safe.
#pragma once

#include <memory>

#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/source/kafka.h"

namespace prometheus {
class Registry;
}

namespace ws::runtime {

// Batch cycles: wikistream_batch_cycles_total{result="ok"|"failed"},
// wikistream_batch_last_cycle_seconds, wikistream_batch_silver_rows_total,
// wikistream_batch_last_success_timestamp_seconds; scheduled maintenance:
// wikistream_maintenance_runs_total{outcome="ok"|"failed"}.
class BatchMetrics {
 public:
  explicit BatchMetrics(prometheus::Registry* registry);
  ~BatchMetrics();
  void RecordCycle(bool ok, double seconds, int64_t silver_rows_added);
  void RecordMaintenance(bool ok);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Publishes IngestLoop stats as Prometheus series; call Update() periodically.
class IngestMetrics {
 public:
  explicit IngestMetrics(prometheus::Registry* registry);
  ~IngestMetrics();
  void Update(const ingest::IngestLoopStats& stats);
  void RecordBatchCycle(bool ok, double seconds, int64_t silver_rows_added);
  void RecordMaintenance(bool ok);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `produce`: wikistream_produce_records_total{topic}, wikistream_produce_
// dlq_total{error_code} (per record, RecordSent), and from the sink's and
// the loop's stats (Update): wikistream_produce_delivered_total,
// wikistream_produce_delivery_failures_total, wikistream_produce_flushes_
// total, wikistream_produce_last_flush_timestamp_seconds.
class ProduceMetrics {
 public:
  explicit ProduceMetrics(prometheus::Registry* registry);
  ~ProduceMetrics();
  // error_code "" = raw-events.
  void RecordSent(const std::string& topic, const std::string& error_code);
  void Update(const source::KafkaSinkStats& sink, const source::ProduceStats& loop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::runtime
