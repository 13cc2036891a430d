// wikistream run / bronze / produce: the ingest side of the product.
#include <prometheus/registry.h>

#include <cstdio>

#include "wikistream/app/commands.h"
#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/runtime/batch_runner.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/ops_server.h"
#include "wikistream/runtime/pipeline_service.h"
#include "wikistream/runtime/role_services.h"
#include "wikistream/runtime/shutdown_signal.h"
#include "wikistream/runtime/sources.h"
#include "wikistream/serve/http_server.h"
#include "wikistream/serve/warehouse_analytics_store.h"
#include "wiring.h"

namespace ws::app {

using format::RecordBatch;
using runtime::BatchRunner;
using runtime::Config;
using runtime::ExitCodeFor;
using runtime::IngestLoopOptionsFor;
using runtime::IngestMetrics;
using runtime::LockWait;
using runtime::OpenSource;
using runtime::ParseSourceSpec;
using runtime::PipelineService;
using runtime::PositionName;
using runtime::ServerOptionsFor;
using runtime::ShutdownSignal;
using runtime::SourceSpec;
using runtime::TargetDomains;
using runtime::WorkerThreads;
using warehouse::Warehouse;

namespace {

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
  options.maintain_interval_us = static_cast<int64_t>(config.maintain_every_s * 1e6);
  runtime::PipelineServiceDeps deps;
  deps.warehouse = warehouse.get();
  deps.open_source = [&config] { return OpenSource(config); };
  deps.run_cycle = [&runner] { return runner.Run(std::nullopt, LockWait::kWait); };
  deps.run_maintenance = [&runner] { return runner.Maintain(LockWait::kWait); };
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
  runtime::BronzeServiceOptions options;
  options.position_name = PositionName(*spec);
  options.loop = IngestLoopOptionsFor(config, *domains);
  return Finish(runtime::RunBronzeService(config, std::move(options), &shutdown));
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
  return Finish(runtime::RunProduceService(config, &shutdown));
}

}  // namespace ws::app
