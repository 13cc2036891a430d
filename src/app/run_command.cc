// wikistream run / bronze / produce: the ingest side of the product.
#include <fmt/format.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "wikistream/app/commands.h"
#include "wikistream/app/shutdown.h"
#include "wikistream/batch/batch_cycle.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/model/region.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/sources.h"
#include "wikistream/serve/http_server.h"
#include "wikistream/serve/warehouse_analytics_store.h"
#include "wikistream/source/kafka.h"
#include "wikistream/warehouse/batch_lock.h"
#include "wikistream/warehouse/maintenance.h"
#include "wikistream/warehouse/ops_tables.h"

namespace ws::app {

using alerts::AlertSink;
using batch::BatchCycle;
using batch::BatchOptions;
using batch::CycleReport;
using batch::LoadRaisedAlertKeys;
using format::RecordBatch;
using ingest::BronzeWriter;
using ingest::IngestLoop;
using ingest::IngestLoopOptions;
using ingest::IngestLoopStats;
using model::Alert;
using model::DomainFilter;
using model::SourceKind;
using runtime::Config;
using runtime::DefaultWebRoot;
using runtime::IngestMetrics;
using runtime::OpenSource;
using runtime::ParseSourceSpec;
using runtime::ResumePositionFor;
using runtime::SourceSpec;
using runtime::WorkerThreads;
using serve::WarehouseAnalyticsStore;
using source::KafkaEventSink;
using source::KafkaSinkOptions;
using source::ProduceFromSource;
using source::ProduceOptions;
using source::ProduceStats;
using source::Source;
using warehouse::AppendAlerts;
using warehouse::BatchLock;
using warehouse::MaintainWarehouse;
using warehouse::Warehouse;

namespace {

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "wikistream: %s\n", message.c_str());
  return code;
}

int ExitCodeFor(const Status& s) { return s.code() == Status::Code::kInvalidArgument ? 2 : 1; }

// Everything one ingest "life" needs; recreated by the supervisor after a failure.
struct IngestSession {
  std::unique_ptr<Source> source;
  std::unique_ptr<BronzeWriter> writer;
  std::unique_ptr<IngestLoop> loop;
};

Result<std::unique_ptr<IngestSession>> StartSession(const Config& config, Warehouse* warehouse,
                                                    const DomainFilter& domains,
                                                    std::function<void(const RecordBatch&)> on_rows) {
  auto session = std::make_unique<IngestSession>();
  WS_ASSIGN_OR_RETURN(session->source, OpenSource(config));
  const bool fenced = session->source->kind() != SourceKind::kKafka;
  // Each replayed file has its own position, so several captures can be
  // backfilled into one warehouse (in any order, each exactly once).
  std::string position_name = session->source->name();
  if (session->source->kind() == SourceKind::kReplay) {
    WS_ASSIGN_OR_RETURN(SourceSpec spec, ParseSourceSpec(config.source));
    position_name += ":" + std::filesystem::path(spec.path).filename().string();
  }
  WS_ASSIGN_OR_RETURN(session->writer, BronzeWriter::Open(warehouse, position_name, fenced));
  WS_ASSIGN_OR_RETURN(std::string position, ResumePositionFor(*session->source, *session->writer));
  if (!position.empty()) WS_RETURN_IF_ERROR(session->source->Resume(position));
  IngestLoopOptions o;
  o.commit_interval_s = config.commit_interval_s;
  o.commit_max_events = config.commit_max_events;
  o.threads = WorkerThreads(config);
  // A second core writes one commit's files while the next polls are parsed.
  o.pipelined_commits = o.threads > 1;
  o.domains = domains;
  o.on_rows = std::move(on_rows);
  session->loop = std::make_unique<IngestLoop>(session->source.get(), session->writer.get(), o);
  return session;
}

bool HttpWanted(const Config& c) {
  if (c.http == "off") return false;
  return !c.once || c.http_given;
}

}  // namespace

int RunPipeline(const Config& config) {
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  DomainFilter domains;
  std::string error;
  if (config.domains != "default" && !DomainFilter::Parse(config.domains, &domains, &error)) {
    return Fail("--domains: " + error, 2);
  }
  auto spec = ParseSourceSpec(config.source);
  if (!spec.ok()) return Fail(spec.status().message(), 2);
  if (spec->kind == SourceKind::kReplay) {
    // Check before creating anything: a mistyped path is a usage error.
    auto file = DefaultFileSystem()->OpenForRead(spec->path);
    if (!file.ok()) return Fail("cannot read replay file: " + file.status().message(), 2);
  }

  if (HttpWanted(config)) {
    serve::ServerOptions probe;
    if (Status h = serve::ParseHttpAddress(config.http, &probe); !h.ok()) return Fail("--http: " + h.message(), 2);
  }

  auto warehouse_r = Warehouse::Open(DefaultFileSystem(), config.warehouse, /*create=*/true, runtime::CatalogOf(config));
  if (!warehouse_r.ok()) return Fail("cannot open warehouse " + config.warehouse + ": " + warehouse_r.status().message());
  std::unique_ptr<Warehouse> warehouse = std::move(warehouse_r).value();
  warehouse->set_encode_threads(WorkerThreads(config));

  AlertSink alerts(config.alert_webhook);
  if (Status s = LoadRaisedAlertKeys(warehouse.get(), &alerts, FormatDate(NowMicros() - 2LL * 86400 * 1000000));
      !s.ok()) {
    log::Warn("app", "could not read ops.alerts: {}", s.ToString());
  }
  live::LiveOptions live_options;
  // A replay's events are in the past: the live windows follow event time.
  live_options.follow_event_time = spec->kind == SourceKind::kReplay;
  live::LiveAggregator live_state(live_options, &alerts);
  alerts.SetListener([&live_state](const Alert& a) { live_state.OnAlert(a); });

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  Source* current_source = nullptr;  // guarded by mu, for Stop() from the signal thread
  int shutdown_id = shutdown.OnRequest([&] {
    stop = true;
    std::lock_guard<std::mutex> lock(mu);
    if (current_source) current_source->Stop();
    cv.notify_all();
  });

  prometheus::Registry registry;
  IngestMetrics metrics(&registry);
  WarehouseAnalyticsStore store(warehouse.get());

  // Batch side: runs every --batch-interval (or once after ingest with --once).
  BatchOptions batch_options;
  batch_options.stage_attempts = config.stage_attempts;
  batch_options.stage_timeout_s = config.stage_timeout_s;
  batch_options.threads = WorkerThreads(config);
  BatchCycle cycle(warehouse.get(), &alerts, batch_options, &stop);
  std::mutex batch_mu;  // one cycle at a time in this process (admin endpoint + scheduler)
  std::string last_cycle_summary;
  bool last_cycle_ok = true;
  auto run_cycle = [&]() -> CycleReport {
    std::lock_guard<std::mutex> lock(batch_mu);
    auto lock_file = BatchLock::Acquire(config.warehouse, /*wait=*/true, config.catalog);
    int64_t t0 = MonotonicMicros();
    CycleReport report = cycle.Run();
    double seconds = static_cast<double>(MonotonicMicros() - t0) / 1e6;
    metrics.RecordBatchCycle(report.ok, seconds);
    last_cycle_summary = report.Summary();
    last_cycle_ok = report.ok;
    if (report.ok) {
      log::Info("batch", "{}", last_cycle_summary);
    } else {
      log::Warn("batch", "{}", last_cycle_summary);
    }
    return report;
  };

  // Ingest side, under a supervisor that restarts a failed loop from the
  // committed position.
  std::atomic<bool> ingest_done{false};
  std::atomic<bool> ingest_healthy{true};
  Status ingest_status;
  std::unique_ptr<IngestSession> session;
  std::mutex session_mu;
  // The live state only matters to the dashboard: a headless --once replay
  // skips it.
  std::function<void(const RecordBatch&)> on_rows;
  if (HttpWanted(config)) on_rows = [&live_state](const RecordBatch& rows) { live_state.Observe(rows); };

  {
    auto first = StartSession(config, warehouse.get(), domains, on_rows);
    if (!first.ok()) {
      shutdown.Remove(shutdown_id);
      return Fail(first.status().message(), ExitCodeFor(first.status()));
    }
    session = std::move(first).value();
    std::lock_guard<std::mutex> lock(mu);
    current_source = session->source.get();
  }

  int64_t ingest_started = MonotonicMicros();
  std::thread ingest_thread([&] {
    int restarts = 0;
    while (true) {
      Status s = session->loop->Run(stop);
      if (s.ok() || stop.load()) {
        ingest_status = s;
        break;
      }
      ingest_healthy = false;
      ++restarts;
      Alert a;
      a.kind = model::AlertKind::kIngest;
      a.severity = model::AlertSeverity::kCritical;
      a.entity = session->source->name();
      a.alert_date = FormatDate(NowMicros());
      a.subject = "ingest loop failed and is restarting: " + s.ToString();
      a.details = nlohmann::json{{"error", s.ToString()}, {"restarts", restarts}}.dump();
      alerts.Raise(std::move(a));
      log::Error("ingest", "ingest loop failed ({}); restarting from the committed position", s.ToString());
      int64_t backoff_ms = std::min<int64_t>(60000, 1000LL << std::min(restarts, 6));
      if (shutdown.WaitFor(std::chrono::milliseconds(backoff_ms))) break;
      auto next = StartSession(config, warehouse.get(), domains, on_rows);
      if (!next.ok()) {
        log::Error("ingest", "restart failed: {}", next.status().ToString());
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      std::lock_guard<std::mutex> slock(session_mu);
      current_source = nullptr;
      session = std::move(next).value();
      current_source = session->source.get();
      ingest_healthy = true;
    }
    ingest_done = true;
    cv.notify_all();
  });

  // HTTP server.
  std::unique_ptr<serve::HttpServer> server;
  if (HttpWanted(config)) {
    serve::ServerOptions so;
    if (Status s = serve::ParseHttpAddress(config.http, &so); !s.ok()) {
      stop = true;
      shutdown.Request();
      ingest_thread.join();
      return Fail("--http: " + s.message(), 2);
    }
    so.admin_token = config.admin_token;
    so.web_root = DefaultWebRoot(config);
    serve::ServerCallbacks cb;
    cb.run_batch = [&]() -> Result<std::string> { return run_cycle().Summary(); };
    cb.run_maintain = [&]() -> Result<std::string> {
      std::lock_guard<std::mutex> lock(batch_mu);
      auto lock_file = BatchLock::Acquire(config.warehouse, /*wait=*/true, config.catalog);
      if (!lock_file.ok()) return lock_file.status();
      return MaintainWarehouse(warehouse.get());
    };
    cb.health = [&]() -> Status {
      return ingest_healthy.load() ? Status::OK() : Status::Unavailable("ingest loop is restarting");
    };
    cb.ready = [&]() -> Status { return Status::OK(); };
    cb.pipeline_status = [&]() -> std::string {
      IngestLoopStats st;
      {
        std::lock_guard<std::mutex> lock(session_mu);
        st = session->loop->stats();
      }
      nlohmann::json j;
      j["source"] = config.source;
      j["ingest"] = {{"healthy", ingest_healthy.load()},
                     {"polled", st.polled},
                     {"accepted", st.counters.accepted},
                     {"duplicate", st.counters.duplicate},
                     {"filtered", st.counters.filtered},
                     {"canary", st.counters.canary},
                     {"dlq", st.counters.dlq_total()},
                     {"commits", st.commits},
                     {"committed_rows", st.committed_rows},
                     {"last_commit_at", st.last_commit_at_us ? FormatIso8601(st.last_commit_at_us) : ""},
                     {"last_error", st.last_error}};
      std::lock_guard<std::mutex> lock(batch_mu);
      j["batch"] = {{"last_cycle", last_cycle_summary}, {"ok", last_cycle_ok}};
      return j.dump();
    };
    server = std::make_unique<serve::HttpServer>(so, &store, &live_state, &alerts, &registry, cb);
    if (Status s = server->Start(); !s.ok()) {
      stop = true;
      shutdown.Request();
      ingest_thread.join();
      return Fail("cannot start HTTP server on " + config.http + ": " + s.message());
    }
    log::Info("app", "dashboard at {}", server->url());
  }

  // Scheduler: a batch cycle every --batch-interval until shutdown; metrics
  // refresh every second; stall detection for live sources.
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(config.batch_interval_s * 1000));
  auto next_cycle = std::chrono::steady_clock::now() + interval;
  int64_t stall_alerted_hour = -1;
  // Without --once a finite source (a replay, synthetic:N) that has been
  // read to its end leaves the process serving the dashboard and running
  // batch cycles until it is stopped, like a drained live stream.
  bool announced_drained = false;
  while (!stop.load() && !(ingest_done.load() && (config.once || !ingest_status.ok()))) {
    if (ingest_done.load() && !announced_drained) {
      announced_drained = true;
      log::Info("app", "source {} is exhausted; still serving and running batch cycles until interrupted",
                config.source);
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(1),
                  [&] { return stop.load() || (ingest_done.load() && !announced_drained); });
    }
    IngestLoopStats st;
    {
      std::lock_guard<std::mutex> lock(session_mu);
      st = session->loop->stats();
    }
    metrics.Update(st);
    live_state.PublishSummary();
    if (model::IsLiveSource(spec->kind)) {
      int64_t last = st.last_event_at_us ? st.last_event_at_us : 0;
      int64_t now = NowMicros();
      bool stalled = (last && now - last > 300LL * 1000000) ||
                     (!last && MonotonicMicros() - ingest_started > 300LL * 1000000);
      int64_t hour = now / (3600LL * 1000000);
      if (stalled && stall_alerted_hour != hour) {
        stall_alerted_hour = hour;
        Alert a;
        a.kind = model::AlertKind::kIngest;
        a.severity = model::AlertSeverity::kWarning;
        a.entity = config.source;
        a.alert_date = FormatDate(now);
        a.subject = "ingest stalled: no events received for 5 minutes";
        a.details = nlohmann::json{{"last_event_at", last ? FormatIso8601(last) : ""}}.dump();
        alerts.Raise(std::move(a));
      }
    }
    if (!config.once && std::chrono::steady_clock::now() >= next_cycle) {
      run_cycle();
      next_cycle = std::chrono::steady_clock::now() + interval;
    }
  }
  ingest_thread.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    current_source = nullptr;
  }
  IngestLoopStats final_stats = session->loop->stats();
  metrics.Update(final_stats);

  int exit_code = 0;
  if (!ingest_status.ok()) {
    log::Error("ingest", "{}", ingest_status.ToString());
    exit_code = 1;
  }
  if (config.once && ingest_status.ok() && !stop.load()) {
    session->writer->ReleaseIngestMemory();  // the batch cycle needs the memory, ingest is over
    int64_t t0 = MonotonicMicros();
    CycleReport report = run_cycle();
    double batch_s = static_cast<double>(MonotonicMicros() - t0) / 1e6;
    double ingest_s = static_cast<double>(t0 - ingest_started) / 1e6;
    if (!report.ok) exit_code = 1;
    std::fprintf(stderr,
                 "wikistream: %lld events polled, %lld accepted, %lld duplicates, %lld dlq, %lld filtered, %lld canary; "
                 "stage seconds: ingest %.3f (rules %.3f, bronze writes %.3f), silver %.3f, gold %.3f, dq %.3f, "
                 "batch total %.3f\n",
                 static_cast<long long>(final_stats.polled), static_cast<long long>(final_stats.counters.accepted),
                 static_cast<long long>(final_stats.counters.duplicate),
                 static_cast<long long>(final_stats.counters.dlq_total()),
                 static_cast<long long>(final_stats.counters.filtered),
                 static_cast<long long>(final_stats.counters.canary), ingest_s, final_stats.parse_us / 1e6,
                 final_stats.commit_us / 1e6, report.silver_us / 1e6, report.gold_us / 1e6, report.dq_us / 1e6,
                 batch_s);
    // With --once --http the dashboard stays up until the user stops it.
    if (server) {
      log::Info("app", "batch done; serving {} until interrupted", server->url());
      while (!shutdown.WaitFor(std::chrono::seconds(1))) {
      }
    }
  }
  if (server) server->Stop();
  live_state.CloseAllSubscriptions();
  alerts.Shutdown();
  // Alerts raised after the last cycle (e.g. by the live path) still land in ops.alerts.
  std::vector<Alert> pending = alerts.TakePending();
  if (!pending.empty()) {
    if (Status s = AppendAlerts(warehouse.get(), pending); !s.ok()) log::Warn("app", "alerts: {}", s.ToString());
  }
  shutdown.Remove(shutdown_id);
  log::Info("app", "stopped: {} rows committed to bronze in {} commits", final_stats.committed_rows,
            final_stats.commits);
  return exit_code;
}

int RunBronzeConsumer(const Config& config) {
  if (config.source.rfind("kafka://", 0) != 0) {
    return Fail("wikistream bronze reads a Kafka topic: --source kafka://BROKERS[/TOPIC]", 2);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  DomainFilter domains;
  std::string error;
  if (config.domains != "default" && !DomainFilter::Parse(config.domains, &domains, &error)) {
    return Fail("--domains: " + error, 2);
  }
  auto warehouse = Warehouse::Open(DefaultFileSystem(), config.warehouse, true, runtime::CatalogOf(config));
  if (!warehouse.ok()) return Fail("cannot open warehouse: " + warehouse.status().message());
  (*warehouse)->set_encode_threads(WorkerThreads(config));
  auto session = StartSession(config, warehouse->get(), domains, nullptr);
  if (!session.ok()) return Fail(session.status().message(), ExitCodeFor(session.status()));
  std::atomic<bool> stop{false};
  Source* src = (*session)->source.get();
  int id = shutdown.OnRequest([&] {
    stop = true;
    src->Stop();
  });
  Status s = (*session)->loop->Run(stop);
  shutdown.Remove(id);
  if (!s.ok()) return Fail(s.ToString());
  auto st = (*session)->loop->stats();
  log::Info("bronze", "stopped: {} rows committed in {} commits", st.committed_rows, st.commits);
  return 0;
}

int RunProduce(const Config& config) {
  if (config.kafka_brokers.empty()) return Fail("wikistream produce needs --kafka BROKERS", 2);
  if (auto spec = ParseSourceSpec(config.source); !spec.ok()) return Fail(spec.status().message(), 2);
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  auto source = OpenSource(config);
  if (!source.ok()) return Fail(source.status().message(), ExitCodeFor(source.status()));
  KafkaSinkOptions so;
  so.brokers = config.kafka_brokers;
  so.extra_config = config.kafka_properties;
  auto sink = KafkaEventSink::Open(so);
  if (!sink.ok()) return Fail("cannot reach Kafka at " + config.kafka_brokers + ": " + sink.status().message());
  std::atomic<bool> stop{false};
  Source* src = source->get();
  int id = shutdown.OnRequest([&] {
    stop = true;
    src->Stop();
  });
  // The producer forwards payloads as received; the bronze consumers apply
  // every ingest rule (one place for the rules, and the DLQ keeps its
  // exactly-once position in the warehouse).
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
  ProduceOptions options;
  options.on_flushed = [fs, &config](const std::string& position) {
    if (position.empty()) return;
    if (Status w = fs->ReplaceFileAtomically(config.position_file, position); !w.ok()) {
      log::Warn("produce", "could not save the position to {}: {}", config.position_file, w.ToString());
    }
  };
  ProduceStats stats;
  Status s = ProduceFromSource(src, sink->get(), stop, options, &stats);
  shutdown.Remove(id);
  if (!s.ok()) return Fail(s.ToString());
  log::Info("produce", "stopped: {} records produced", stats.records);
  return 0;
}

}  // namespace ws::app
