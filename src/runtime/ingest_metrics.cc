#include "wikistream/runtime/ingest_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <mutex>

#include "wikistream/common/time.h"

namespace ws::runtime {

using ingest::IngestLoopStats;

namespace {

// Counters publish the growth of a total the loop keeps.
void Grow(prometheus::Counter& c, int64_t now, int64_t before) {
  if (now > before) c.Increment(static_cast<double>(now - before));
}

}  // namespace

struct IngestMetrics::Impl {
  explicit Impl(prometheus::Registry* registry) : batch(registry) {}
  prometheus::Family<prometheus::Counter>* events;
  prometheus::Family<prometheus::Counter>* dlq;
  prometheus::Counter* commits;
  prometheus::Counter* committed_rows;
  prometheus::Counter* commit_failures;
  prometheus::Counter* fenced_rows;
  prometheus::Counter* fenced_dlq_rows;
  prometheus::Gauge* last_commit;
  prometheus::Gauge* last_event;
  BatchMetrics batch;
  IngestLoopStats last;
  std::mutex mu;
};

struct BatchMetrics::Impl {
  prometheus::Family<prometheus::Counter>* cycles;
  prometheus::Gauge* cycle_seconds;
  prometheus::Counter* silver_rows;
  prometheus::Gauge* last_success;
  prometheus::Family<prometheus::Counter>* maintenance;
};

BatchMetrics::BatchMetrics(prometheus::Registry* registry) : impl_(std::make_unique<Impl>()) {
  impl_->cycles = &prometheus::BuildCounter()
                       .Name("wikistream_batch_cycles_total")
                       .Help("Batch cycles by result")
                       .Register(*registry);
  impl_->cycle_seconds = &prometheus::BuildGauge()
                              .Name("wikistream_batch_last_cycle_seconds")
                              .Help("Duration of the last batch cycle")
                              .Register(*registry)
                              .Add({});
  impl_->silver_rows = &prometheus::BuildCounter()
                            .Name("wikistream_batch_silver_rows_total")
                            .Help("Rows batch cycles added to silver.cleaned_events")
                            .Register(*registry)
                            .Add({});
  impl_->last_success = &prometheus::BuildGauge()
                             .Name("wikistream_batch_last_success_timestamp_seconds")
                             .Help("Wall-clock time the last successful batch cycle ended")
                             .Register(*registry)
                             .Add({});
  impl_->maintenance = &prometheus::BuildCounter()
                            .Name("wikistream_maintenance_runs_total")
                            .Help("Scheduled warehouse maintenance runs by outcome")
                            .Register(*registry);
  for (const char* r : {"ok", "failed"}) {
    impl_->cycles->Add({{"result", r}});
    impl_->maintenance->Add({{"outcome", r}});
  }
}

BatchMetrics::~BatchMetrics() = default;

void BatchMetrics::RecordCycle(bool ok, double seconds, int64_t silver_rows_added) {
  impl_->cycles->Add({{"result", ok ? "ok" : "failed"}}).Increment();
  impl_->cycle_seconds->Set(seconds);
  if (silver_rows_added > 0) impl_->silver_rows->Increment(static_cast<double>(silver_rows_added));
  if (ok) impl_->last_success->Set(static_cast<double>(NowMicros()) / 1e6);
}

void BatchMetrics::RecordMaintenance(bool ok) { impl_->maintenance->Add({{"outcome", ok ? "ok" : "failed"}}).Increment(); }

IngestMetrics::IngestMetrics(prometheus::Registry* registry) : impl_(std::make_unique<Impl>(registry)) {
  auto& events = prometheus::BuildCounter()
                     .Name("wikistream_ingest_events_total")
                     .Help("Payloads by ingest outcome (accepted, canary, filtered, duplicate, dlq)")
                     .Register(*registry);
  impl_->events = &events;
  impl_->dlq = &prometheus::BuildCounter()
                    .Name("wikistream_ingest_dlq_total")
                    .Help("Payloads sent to bronze.dlq_events by error_code")
                    .Register(*registry);
  auto& commits = prometheus::BuildCounter()
                      .Name("wikistream_bronze_commits_total")
                      .Help("Bronze micro-batch commits")
                      .Register(*registry);
  impl_->commits = &commits.Add({});
  impl_->committed_rows = &prometheus::BuildCounter()
                               .Name("wikistream_bronze_rows_total")
                               .Help("Rows committed to bronze.raw_events")
                               .Register(*registry)
                               .Add({});
  impl_->commit_failures = &prometheus::BuildCounter()
                                .Name("wikistream_bronze_commit_failures_total")
                                .Help("Failed bronze commits (retried)")
                                .Register(*registry)
                                .Add({});
  auto& fenced = prometheus::BuildCounter()
                     .Name("wikistream_bronze_fenced_rows_total")
                     .Help("Rows a Kafka consumer dropped at commit because another consumer of the group had "
                           "already landed them (a partition moved in a rebalance), by table")
                     .Register(*registry);
  impl_->fenced_rows = &fenced.Add({{"table", "raw_events"}});
  impl_->fenced_dlq_rows = &fenced.Add({{"table", "dlq_events"}});
  impl_->last_commit = &prometheus::BuildGauge()
                            .Name("wikistream_bronze_last_commit_timestamp_seconds")
                            .Help("Wall-clock time of the last bronze commit")
                            .Register(*registry)
                            .Add({});
  impl_->last_event = &prometheus::BuildGauge()
                           .Name("wikistream_ingest_last_event_timestamp_seconds")
                           .Help("Wall-clock time the last payload was received")
                           .Register(*registry)
                           .Add({});
  for (const char* outcome : {"accepted", "canary", "filtered", "duplicate", "dlq"}) {
    impl_->events->Add({{"outcome", outcome}});
  }
}

IngestMetrics::~IngestMetrics() = default;

void IngestMetrics::Update(const IngestLoopStats& s) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  IngestLoopStats& p = impl_->last;
  Grow(impl_->events->Add({{"outcome", "accepted"}}), s.counters.accepted, p.counters.accepted);
  Grow(impl_->events->Add({{"outcome", "canary"}}), s.counters.canary, p.counters.canary);
  Grow(impl_->events->Add({{"outcome", "filtered"}}), s.counters.filtered, p.counters.filtered);
  Grow(impl_->events->Add({{"outcome", "duplicate"}}), s.counters.duplicate, p.counters.duplicate);
  Grow(impl_->events->Add({{"outcome", "dlq"}}), s.counters.dlq_total(), p.counters.dlq_total());
  for (const auto& [code, n] : s.counters.dlq_by_code) {
    auto it = p.counters.dlq_by_code.find(code);
    Grow(impl_->dlq->Add({{"error_code", code}}), n, it == p.counters.dlq_by_code.end() ? 0 : it->second);
  }
  Grow(*impl_->commits, s.commits, p.commits);
  Grow(*impl_->committed_rows, s.committed_rows, p.committed_rows);
  Grow(*impl_->commit_failures, s.commit_failures > p.commit_failures ? s.commit_failures : 0,
      s.commit_failures > p.commit_failures ? p.commit_failures : 0);
  Grow(*impl_->fenced_rows, s.fenced_rows, p.fenced_rows);
  Grow(*impl_->fenced_dlq_rows, s.fenced_dlq_rows, p.fenced_dlq_rows);
  if (s.last_commit_at_us) impl_->last_commit->Set(static_cast<double>(s.last_commit_at_us) / 1e6);
  if (s.last_event_at_us) impl_->last_event->Set(static_cast<double>(s.last_event_at_us) / 1e6);
  p = s;
}

void IngestMetrics::RecordBatchCycle(bool ok, double seconds, int64_t silver_rows_added) {
  impl_->batch.RecordCycle(ok, seconds, silver_rows_added);
}

void IngestMetrics::RecordMaintenance(bool ok) { impl_->batch.RecordMaintenance(ok); }

struct ProduceMetrics::Impl {
  prometheus::Family<prometheus::Counter>* records;
  prometheus::Family<prometheus::Counter>* dlq;
  prometheus::Counter* delivered;
  prometheus::Counter* failures;
  prometheus::Counter* flushes;
  prometheus::Gauge* last_flush;
  source::KafkaSinkStats last_sink;
  source::ProduceStats last_loop;
  std::mutex mu;
};

ProduceMetrics::ProduceMetrics(prometheus::Registry* registry) : impl_(std::make_unique<Impl>()) {
  impl_->records = &prometheus::BuildCounter()
                        .Name("wikistream_produce_records_total")
                        .Help("Records handed to Kafka, by topic (raw-events, dlq-events)")
                        .Register(*registry);
  impl_->dlq = &prometheus::BuildCounter()
                    .Name("wikistream_produce_dlq_total")
                    .Help("Payloads routed to dlq-events by error_code")
                    .Register(*registry);
  impl_->delivered = &prometheus::BuildCounter()
                          .Name("wikistream_produce_delivered_total")
                          .Help("Records the brokers acknowledged")
                          .Register(*registry)
                          .Add({});
  impl_->failures = &prometheus::BuildCounter()
                         .Name("wikistream_produce_delivery_failures_total")
                         .Help("Records whose delivery failed (the producer then exits to be restarted)")
                         .Register(*registry)
                         .Add({});
  impl_->flushes = &prometheus::BuildCounter()
                        .Name("wikistream_produce_flushes_total")
                        .Help("Flushes after which the source position was saved")
                        .Register(*registry)
                        .Add({});
  impl_->last_flush = &prometheus::BuildGauge()
                           .Name("wikistream_produce_last_flush_timestamp_seconds")
                           .Help("Wall-clock time of the last successful flush")
                           .Register(*registry)
                           .Add({});
  impl_->records->Add({{"topic", source::kRawEventsTopic}});
  impl_->records->Add({{"topic", source::kDlqEventsTopic}});
}

ProduceMetrics::~ProduceMetrics() = default;

void ProduceMetrics::RecordSent(const std::string& topic, const std::string& error_code) {
  impl_->records->Add({{"topic", topic}}).Increment();
  if (!error_code.empty()) impl_->dlq->Add({{"error_code", error_code}}).Increment();
}

void ProduceMetrics::Update(const source::KafkaSinkStats& sink, const source::ProduceStats& loop) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Grow(*impl_->delivered, sink.delivered, impl_->last_sink.delivered);
  Grow(*impl_->failures, sink.failed, impl_->last_sink.failed);
  Grow(*impl_->flushes, loop.flushes, impl_->last_loop.flushes);
  if (loop.flushes > impl_->last_loop.flushes) impl_->last_flush->Set(static_cast<double>(NowMicros()) / 1e6);
  impl_->last_sink = sink;
  impl_->last_loop = loop;
}

}  // namespace ws::runtime
