#include "wikistream/runtime/ingest_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <mutex>

namespace ws::runtime {

using ingest::IngestLoopStats;

struct IngestMetrics::Impl {
  prometheus::Family<prometheus::Counter>* events;
  prometheus::Family<prometheus::Counter>* dlq;
  prometheus::Counter* commits;
  prometheus::Counter* committed_rows;
  prometheus::Counter* commit_failures;
  prometheus::Gauge* last_commit;
  prometheus::Gauge* last_event;
  prometheus::Family<prometheus::Counter>* cycles;
  prometheus::Gauge* cycle_seconds;
  IngestLoopStats last;
  std::mutex mu;
};

IngestMetrics::IngestMetrics(prometheus::Registry* registry) : impl_(std::make_unique<Impl>()) {
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
  impl_->cycles = &prometheus::BuildCounter()
                       .Name("wikistream_batch_cycles_total")
                       .Help("Batch cycles by result")
                       .Register(*registry);
  impl_->cycle_seconds = &prometheus::BuildGauge()
                              .Name("wikistream_batch_last_cycle_seconds")
                              .Help("Duration of the last batch cycle")
                              .Register(*registry)
                              .Add({});
  for (const char* outcome : {"accepted", "canary", "filtered", "duplicate", "dlq"}) {
    impl_->events->Add({{"outcome", outcome}});
  }
  impl_->cycles->Add({{"result", "ok"}});
  impl_->cycles->Add({{"result", "failed"}});
}

IngestMetrics::~IngestMetrics() = default;

void IngestMetrics::Update(const IngestLoopStats& s) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  IngestLoopStats& p = impl_->last;
  auto inc = [](prometheus::Counter& c, int64_t now, int64_t before) {
    if (now > before) c.Increment(static_cast<double>(now - before));
  };
  inc(impl_->events->Add({{"outcome", "accepted"}}), s.counters.accepted, p.counters.accepted);
  inc(impl_->events->Add({{"outcome", "canary"}}), s.counters.canary, p.counters.canary);
  inc(impl_->events->Add({{"outcome", "filtered"}}), s.counters.filtered, p.counters.filtered);
  inc(impl_->events->Add({{"outcome", "duplicate"}}), s.counters.duplicate, p.counters.duplicate);
  inc(impl_->events->Add({{"outcome", "dlq"}}), s.counters.dlq_total(), p.counters.dlq_total());
  for (const auto& [code, n] : s.counters.dlq_by_code) {
    auto it = p.counters.dlq_by_code.find(code);
    inc(impl_->dlq->Add({{"error_code", code}}), n, it == p.counters.dlq_by_code.end() ? 0 : it->second);
  }
  inc(*impl_->commits, s.commits, p.commits);
  inc(*impl_->committed_rows, s.committed_rows, p.committed_rows);
  inc(*impl_->commit_failures, s.commit_failures > p.commit_failures ? s.commit_failures : 0,
      s.commit_failures > p.commit_failures ? p.commit_failures : 0);
  if (s.last_commit_at_us) impl_->last_commit->Set(static_cast<double>(s.last_commit_at_us) / 1e6);
  if (s.last_event_at_us) impl_->last_event->Set(static_cast<double>(s.last_event_at_us) / 1e6);
  p = s;
}

void IngestMetrics::RecordBatchCycle(bool ok, double seconds) {
  impl_->cycles->Add({{"result", ok ? "ok" : "failed"}}).Increment();
  impl_->cycle_seconds->Set(seconds);
}

}  // namespace ws::runtime
