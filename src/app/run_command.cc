// wikistream run / bronze / produce: the ingest side of the product.
#include <prometheus/registry.h>

#include <cstdio>

#include "wikistream/app/commands.h"
#include "wikistream/app/shutdown.h"
#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/runtime/batch_runner.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/pipeline_service.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/runtime/produce_router.h"
#include "wikistream/runtime/sources.h"
#include "wikistream/serve/http_server.h"
#include "wikistream/serve/warehouse_analytics_store.h"
#include "wikistream/source/eventstreams_source.h"
#include "wikistream/source/kafka.h"
#include "wiring.h"

namespace ws::app {

using format::RecordBatch;
using model::DomainFilter;
using runtime::BatchRunner;
using runtime::Config;
using runtime::IngestLoopOptionsFor;
using runtime::IngestMetrics;
using runtime::LockWait;
using runtime::OpenIngestSession;
using runtime::OpenSource;
using runtime::ParseSourceSpec;
using runtime::PipelineService;
using runtime::PositionName;
using runtime::Probes;
using runtime::SourceSpec;
using runtime::TargetDomains;
using runtime::WorkerThreads;
using source::KafkaEventSink;
using source::KafkaSinkOptions;
using source::ProduceFromSource;
using source::ProduceOptions;
using source::ProduceStats;
using source::Source;
using warehouse::Warehouse;

namespace {

// bronze and produce report unhealthy when their loop made no progress for
// this long (a commit on a slow store with its retries stays well below).
constexpr int64_t kRoleStallUs = 300 * 1000000LL;

// `run --once` gives up after this many failed ingest sessions in a row
// (2 s + 4 s of backoff between them); a service restarts forever.
constexpr int kOnceMaxIngestFailures = 3;

bool HttpWanted(const Config& c) {
  if (c.http == "off") return false;
  return !c.once || c.http_given;
}

// Everything `run` checks before it creates anything: usage errors exit 2.
Status CheckRunArguments(const Config& config, const SourceSpec& spec) {
  if (spec.kind == model::SourceKind::kReplay) {
    auto file = DefaultFileSystem()->OpenForRead(spec.path);
    if (!file.ok()) return Status::InvalidArgument("cannot read replay file: " + file.status().message());
  }
  if (HttpWanted(config)) WS_RETURN_IF_ERROR(ServerOptionsFor(config).status());
  return Status::OK();
}

}  // namespace

int RunPipeline(const Config& config) {
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  auto domains = TargetDomains(config);
  if (!domains.ok()) return Fail(domains.status().message(), 2);
  auto spec = ParseSourceSpec(config.source);
  if (!spec.ok()) return Fail(spec.status().message(), 2);
  if (Status s = CheckRunArguments(config, *spec); !s.ok()) return Fail(s.message(), 2);
  const bool http = HttpWanted(config);

  auto warehouse_r = runtime::OpenWarehouse(config, /*create=*/true);
  if (!warehouse_r.ok()) return Fail("cannot open warehouse " + config.warehouse + ": " + warehouse_r.status().message());
  std::unique_ptr<Warehouse> warehouse = std::move(warehouse_r).value();
  warehouse->set_encode_threads(WorkerThreads(config));

  std::atomic<bool> stop{false};
  BatchRunner runner(config, warehouse.get(), &stop);
  live::LiveOptions live_options;
  // A replay's events are in the past: the live windows follow event time.
  live_options.follow_event_time = spec->kind == model::SourceKind::kReplay;
  live::LiveAggregator live_state(live_options, &runner.alerts());
  runner.alerts().SetListener([&live_state](const model::Alert& a) { live_state.OnAlert(a); });
  prometheus::Registry registry;
  IngestMetrics metrics(&registry);

  runtime::PipelineServiceOptions options;
  options.source_label = config.source;
  options.position_name = PositionName(*spec);
  options.loop = IngestLoopOptionsFor(config, *domains);
  // The live state only matters to the dashboard: a headless run skips it.
  if (http) options.loop.on_rows = [&live_state](const RecordBatch& rows) { live_state.Observe(rows); };
  options.live_source = model::IsLiveSource(spec->kind);
  options.once = config.once;
  options.max_failures_in_a_row = config.once ? kOnceMaxIngestFailures : 0;
  options.batch_interval_us = static_cast<int64_t>(config.batch_interval_s * 1e6);
  runtime::PipelineServiceDeps deps;
  deps.warehouse = warehouse.get();
  deps.open_source = [&config] { return OpenSource(config); };
  deps.run_cycle = [&runner] { return runner.Run(std::nullopt, LockWait::kWait); };
  deps.alerts = &runner.alerts();
  deps.metrics = &metrics;
  deps.on_tick = [&live_state] { live_state.PublishSummary(); };
  PipelineService service(std::move(options), std::move(deps));
  int shutdown_id = shutdown.OnRequest([&] {
    stop = true;
    service.Stop();
  });
  if (Status s = service.Start(); !s.ok()) {
    shutdown.Remove(shutdown_id);
    return Fail(s.message(), ExitCodeFor(s));
  }

  serve::WarehouseAnalyticsStore store(warehouse.get());
  std::unique_ptr<serve::HttpServer> server;
  if (http) {
    serve::ServerCallbacks cb;
    cb.run_batch = [&service]() -> Result<std::string> {
      WS_ASSIGN_OR_RETURN(batch::CycleReport report, service.RunCycleNow());
      return report.Summary();
    };
    cb.run_maintain = [&runner] { return runner.Maintain(LockWait::kWait); };
    cb.health = [&service]() -> Status {
      return service.ingest_healthy() ? Status::OK() : Status::Unavailable("ingest loop is restarting");
    };
    cb.ready = [] { return Status::OK(); };
    cb.pipeline_status = [&service] { return service.StatusJson(); };
    server = std::make_unique<serve::HttpServer>(*ServerOptionsFor(config), &store, &live_state, &runner.alerts(),
                                                 &registry, cb);
    if (Status s = server->Start(); !s.ok()) {
      shutdown.Remove(shutdown_id);
      return Fail("cannot start HTTP server on " + config.http + ": " + s.message());
    }
    log::Info("app", "dashboard at {}", server->url());
  }

  PipelineService::Outcome outcome = service.Run();
  if (!outcome.error.empty()) std::fprintf(stderr, "wikistream: %s\n", outcome.error.c_str());
  if (outcome.once_cycle) {
    std::fprintf(stderr, "wikistream: %s\n", outcome.once_report.c_str());
    // With --once --http the dashboard stays up until the user stops it.
    if (server) {
      log::Info("app", "batch done; serving {} until interrupted", server->url());
      while (!shutdown.WaitFor(std::chrono::seconds(1))) {
      }
    }
  }
  if (server) server->Stop();
  live_state.CloseAllSubscriptions();
  if (Status s = runner.Close(); !s.ok()) log::Warn("app", "alerts: {}", s.ToString());
  shutdown.Remove(shutdown_id);
  log::Info("app", "stopped: {} rows committed to bronze in {} commits", outcome.ingest.committed_rows,
            outcome.ingest.commits);
  return outcome.exit_code;
}

int RunBronzeConsumer(const Config& config) {
  if (config.source.rfind("kafka://", 0) != 0) {
    return Fail("wikistream bronze reads a Kafka topic: --source kafka://BROKERS[/TOPIC]", 2);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  auto domains = TargetDomains(config);
  if (!domains.ok()) return Fail(domains.status().message(), 2);
  auto spec = ParseSourceSpec(config.source);
  if (!spec.ok()) return Fail(spec.status().message(), 2);
  if (config.http != "off") {
    if (auto so = ServerOptionsFor(config); !so.ok()) return Fail(so.status().message(), 2);
  }
  prometheus::Registry registry;
  IngestMetrics metrics(&registry);
  Probes probes("the bronze ingest loop", kRoleStallUs);
  probes.NotReady("opening the warehouse");
  auto server = StartOpsServer(config, "bronze", &registry, probes);
  if (!server.ok()) return Fail(server.status().message());
  auto warehouse = runtime::OpenWarehouse(config, /*create=*/true);
  if (!warehouse.ok()) return Fail("cannot open warehouse: " + warehouse.status().message());
  (*warehouse)->set_encode_threads(WorkerThreads(config));
  probes.NotReady("connecting to Kafka");
  auto source = OpenSource(config);
  if (!source.ok()) return Fail(source.status().message(), ExitCodeFor(source.status()));
  auto session = OpenIngestSession(std::move(source).value(), warehouse->get(), PositionName(*spec),
                                   IngestLoopOptionsFor(config, *domains));
  if (!session.ok()) return Fail(session.status().message(), ExitCodeFor(session.status()));
  std::atomic<bool> stop{false};
  Source* src = (*session)->source.get();
  ingest::IngestLoop* loop = (*session)->loop.get();
  auto* kafka = dynamic_cast<source::KafkaSource*>(src);
  probes.SetCheck([loop, kafka]() -> Status {
    ingest::IngestLoopStats st = loop->stats();
    if (st.commit_failures_in_a_row > 0) return Status::Unavailable("bronze commits are failing: " + st.last_error);
    if (kafka && kafka->stats().assigned.empty()) {
      return Status::Unavailable("no Kafka partitions assigned (joining the group, or more consumers than partitions)");
    }
    return Status::OK();
  });
  probes.SetReady();
  int id = shutdown.OnRequest([&] {
    probes.BeginShutdown();
    stop = true;
    src->Stop();
  });
  Status s;
  {
    int64_t iterations = -1;
    EverySecond publish([&] {
      ingest::IngestLoopStats st = loop->stats();
      metrics.Update(st);
      if (st.iterations != iterations) probes.Beat();
      iterations = st.iterations;
    });
    s = loop->Run(stop);
  }
  probes.BeginShutdown();
  shutdown.Remove(id);
  if (*server) (*server)->Stop();
  if (!s.ok()) return Fail(s.ToString());
  auto st = loop->stats();
  log::Info("bronze", "stopped: {} rows committed in {} commits", st.committed_rows, st.commits);
  return 0;
}

int RunProduce(const Config& config) {
  if (config.kafka_brokers.empty()) return Fail("wikistream produce needs --kafka BROKERS", 2);
  auto spec = ParseSourceSpec(config.source);
  if (!spec.ok()) return Fail(spec.status().message(), 2);
  if (config.http != "off") {
    if (auto so = ServerOptionsFor(config); !so.ok()) return Fail(so.status().message(), 2);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  prometheus::Registry registry;
  runtime::ProduceMetrics metrics(&registry);
  Probes probes("the produce loop", kRoleStallUs);
  probes.NotReady("connecting to the source and Kafka");
  auto server = StartOpsServer(config, "produce", &registry, probes);
  if (!server.ok()) return Fail(server.status().message());
  auto source = OpenSource(config);
  if (!source.ok()) return Fail(source.status().message(), ExitCodeFor(source.status()));
  KafkaSinkOptions so;
  so.brokers = config.kafka_brokers;
  so.extra_config = config.kafka_properties;
  auto sink = KafkaEventSink::Open(so);
  if (!sink.ok()) return Fail("cannot reach Kafka at " + config.kafka_brokers + ": " + sink.status().message());
  std::atomic<bool> stop{false};
  Source* src = source->get();
  KafkaEventSink* out = sink->get();
  auto* eventstreams = dynamic_cast<source::EventStreamsSource*>(src);
  probes.SetCheck([out, eventstreams]() -> Status {
    source::KafkaSinkStats st = out->stats();
    if (st.failed > 0) return Status::Unavailable("Kafka deliveries failed: " + st.last_error);
    if (eventstreams && !eventstreams->stats().connected) return Status::Unavailable("not connected to EventStreams");
    return Status::OK();
  });
  int id = shutdown.OnRequest([&] {
    probes.BeginShutdown();
    stop = true;
    src->Stop();
  });
  // Resume where Kafka last acknowledged everything: after a restart the
  // source re-sends from there (EventStreams via Last-Event-ID), so nothing
  // produced while we were down is lost; re-sent events are dropped by the
  // bronze consumers by event_id.
  FileSystem* fs = DefaultFileSystem();
  if (auto saved = fs->ReadAll(config.position_file); saved.ok() && !saved->empty()) {
    if (Status r = src->Resume(*saved); !r.ok()) {
      shutdown.Remove(id);
      return Fail("cannot resume from " + config.position_file + ": " + r.message());
    }
    log::Info("produce", "resuming at {}", *saved);
  }
  probes.SetReady();
  // Malformed payloads go to dlq-events with their error code; the rest is
  // forwarded as received and the bronze consumers apply every ingest rule.
  runtime::ProduceRouter router(&metrics);
  ProduceOptions options;
  options.route = [&router](const source::SourceRecord& r, KafkaEventSink* sink) { return router.Route(r, sink); };
  options.on_flushed = [fs, &config](const std::string& position) {
    if (position.empty()) return;
    if (Status w = fs->ReplaceFileAtomically(config.position_file, position); !w.ok()) {
      log::Warn("produce", "could not save the position to {}: {}", config.position_file, w.ToString());
    }
  };
  options.on_poll = [&probes, &metrics, out](const ProduceStats& st) {
    probes.Beat();
    metrics.Update(out->stats(), st);
  };
  ProduceStats stats;
  Status s = ProduceFromSource(src, out, stop, options, &stats);
  metrics.Update(out->stats(), stats);
  probes.BeginShutdown();
  shutdown.Remove(id);
  if (*server) (*server)->Stop();
  if (!s.ok()) return Fail(s.ToString());
  log::Info("produce", "stopped: {} records produced", stats.records);
  return 0;
}

}  // namespace ws::app
