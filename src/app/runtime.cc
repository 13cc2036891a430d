#include "wikistream/app/runtime.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "wikistream/common/file_system.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/pipeline/bronze_writer.h"
#include "wikistream/source/eventstreams_source.h"
#include "wikistream/source/kafka.h"
#include "wikistream/source/replay_source.h"
#include "wikistream/source/synthetic_source.h"

#ifndef WIKISTREAM_VERSION
#define WIKISTREAM_VERSION "dev"
#endif

namespace ws::app {

Result<SourceSpec> ParseSourceSpec(const std::string& spec) {
  SourceSpec s;
  if (spec == "eventstreams") {
    s.kind = "eventstreams";
  } else if (spec.rfind("replay:", 0) == 0) {
    s.kind = "replay";
    s.path = spec.substr(7);
    if (s.path.empty()) return Status::InvalidArgument("--source replay:PATH needs a file path");
  } else if (spec == "synthetic" || spec.rfind("synthetic:", 0) == 0) {
    s.kind = "synthetic";
    if (spec.size() > 10) {
      const std::string n = spec.substr(10);
      char* end = nullptr;
      long long v = std::strtoll(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v < 0) {
        return Status::InvalidArgument("--source synthetic:N needs a non-negative event count, got '" + n + "'");
      }
      s.count = v;
    }
  } else if (spec.rfind("kafka://", 0) == 0) {
    s.kind = "kafka";
    if (spec.size() <= 8) return Status::InvalidArgument("--source kafka://BROKERS[/TOPIC] needs brokers");
  } else {
    return Status::InvalidArgument(fmt::format(
        "unknown --source '{}' (expected eventstreams, replay:PATH, synthetic[:N] or kafka://BROKERS[/TOPIC])", spec));
  }
  return s;
}

int WorkerThreads(const Config& config) {
  if (config.threads > 0) return config.threads;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string DefaultWebRoot(const Config& config) {
  if (!config.web_root.empty()) return config.web_root;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> candidates;
  if (!ec) {
    auto dir = exe.parent_path();
    candidates = {dir / "web", dir / ".." / "web", dir / ".." / "share" / "wikistream" / "web"};
  }
#ifdef WIKISTREAM_SOURCE_WEB_DIR
  candidates.emplace_back(WIKISTREAM_SOURCE_WEB_DIR);
#endif
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c / "index.html", ec)) return std::filesystem::weakly_canonical(c, ec).string();
  }
  return "";
}

std::string UserAgent(const Config& config) { return MakeEventStreamsUserAgent(WIKISTREAM_VERSION, config.contact); }

// Every position the Kafka consumers committed with their rows, merged per
// partition (each consumer's commits carry its own partitions).
static Result<std::string> CommittedKafkaPositions(const std::string& warehouse_dir) {
  WS_ASSIGN_OR_RETURN(auto warehouse, Warehouse::Open(DefaultFileSystem(), warehouse_dir, false));
  WS_ASSIGN_OR_RETURN(auto raw, warehouse->table("bronze.raw_events"));
  WS_RETURN_IF_ERROR(raw->Refresh());
  const std::string key = BronzeWriter::PositionKey("kafka");
  std::string merged;
  for (const SnapshotInfo& s : raw->snapshots()) {
    auto it = s.summary.find(key);
    if (it == s.summary.end()) continue;
    if (merged.empty()) {
      merged = it->second;
    } else {
      WS_ASSIGN_OR_RETURN(merged, MergeKafkaPositions(merged, it->second));
    }
  }
  return merged;
}

Result<std::unique_ptr<Source>> OpenSource(const Config& config) {
  WS_ASSIGN_OR_RETURN(SourceSpec spec, ParseSourceSpec(config.source));
  if (spec.kind == "eventstreams") {
    EventStreamsOptions o;
    o.url = config.eventstreams_url;
    o.user_agent = UserAgent(config);
    o.since = config.since;
    WS_ASSIGN_OR_RETURN(auto src, OpenEventStreamsSource(o));
    return std::unique_ptr<Source>(std::move(src));
  }
  if (spec.kind == "replay") {
    auto r = OpenReplaySource(DefaultFileSystem(), spec.path, config.speed);
    if (!r.ok()) return Status::InvalidArgument("cannot read replay file: " + r.status().message());
    return std::move(r).value();
  }
  if (spec.kind == "synthetic") {
    // An endless synthetic stream is a demo: pace it at real time unless told otherwise.
    double speed = config.speed > 0 ? config.speed : (spec.count < 0 ? 1.0 : 0.0);
    return MakeSyntheticSource(config.seed, spec.count, speed);
  }
  WS_ASSIGN_OR_RETURN(KafkaSourceOptions ko, ParseKafkaSpec(config.source));
  ko.group = config.kafka_group;
  ko.extra_config = config.kafka_properties;
  // A partition this consumer is given in a rebalance may have had another
  // owner until a moment ago, and that owner may still hold records it polled
  // but has not committed yet: it commits them (with their position) within
  // one commit interval even after losing the partition. Waiting that long
  // and then reading every position the group committed to the warehouse
  // makes the new owner start exactly after the old owner's last row, so a
  // rebalance neither re-reads nor skips. (A killed owner's uncommitted
  // records are simply read again: they were never in the table.)
  const std::string warehouse_dir = config.warehouse;
  // (Capped below librdkafka's max.poll.interval.ms, 300 s by default.)
  const auto settle = std::chrono::milliseconds(
      std::min<int64_t>(static_cast<int64_t>(config.commit_interval_s * 1000) + 1000, 240000));
  ko.refresh_positions = [warehouse_dir, settle]() -> Result<std::string> {
    std::this_thread::sleep_for(settle);
    return CommittedKafkaPositions(warehouse_dir);
  };
  WS_ASSIGN_OR_RETURN(auto src, KafkaSource::Open(ko));
  return std::unique_ptr<Source>(std::move(src));
}

Result<RecordBatch> WarehouseAnalyticsStore::ReadTable(const std::string& qualified_table,
                                                       const std::optional<std::string>& partition_date) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse_->table(qualified_table));
  WS_RETURN_IF_ERROR(table->Refresh());
  auto snap = table->current_snapshot();
  SchemaPtr schema = table->schema();
  if (!snap) return RecordBatch(schema);
  const std::string key = qualified_table + "|" + partition_date.value_or("*");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.first == snap->snapshot_id) return it->second.second;
  }
  std::function<bool(const PartitionValues&)> filter;
  if (partition_date) {
    std::string d = *partition_date;
    filter = [d](const PartitionValues& p) { return !p.empty() && p[0] == d; };
  }
  ScanOptions options;
  options.snapshot_id = snap->snapshot_id;
  options.partition_filter = filter;
  WS_ASSIGN_OR_RETURN(auto files, table->Scan(options));
  WS_ASSIGN_OR_RETURN(RecordBatch rows, warehouse_->ReadDataFiles(files, schema));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 256) cache_.clear();  // bounded: dates x tables
  cache_[key] = {snap->snapshot_id, rows};
  return rows;
}

Result<std::vector<std::string>> WarehouseAnalyticsStore::Dates(const std::string& qualified_table) {
  WS_ASSIGN_OR_RETURN(auto table, warehouse_->table(qualified_table));
  WS_RETURN_IF_ERROR(table->Refresh());
  WS_ASSIGN_OR_RETURN(auto files, table->Scan());
  std::set<std::string> dates;
  for (const auto& f : files) {
    if (!f.partition.empty() && f.stats.record_count > 0) dates.insert(f.partition[0]);
  }
  return std::vector<std::string>(dates.begin(), dates.end());
}

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

}  // namespace ws::app
