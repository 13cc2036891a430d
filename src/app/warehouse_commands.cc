// wikistream batch | silver | dq | gold | serve | tables | snapshots | maintain | generate
#include <fmt/format.h>
#include <prometheus/registry.h>

#include <cstdio>

#include "wikistream/app/commands.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/runtime/batch_runner.h"
#include "wikistream/runtime/bronze_follower.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/ops_server.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/runtime/shutdown_signal.h"
#include "wikistream/serve/http_server.h"
#include "wikistream/serve/warehouse_analytics_store.h"
#include "wikistream/source/synthetic_source.h"
#include "wikistream/warehouse/batch_lock.h"
#include "wikistream/warehouse/maintenance.h"
#include "wikistream/warehouse/warehouse.h"
#include "wiring.h"

namespace ws::app {

using runtime::BatchRunner;
using runtime::Config;
using runtime::LockWait;
using runtime::ServerOptionsFor;
using runtime::ShutdownSignal;
using runtime::StartOpsServer;
using runtime::WorkerThreads;
using serve::WarehouseAnalyticsStore;
using source::WriteSyntheticNdjson;
using table::SnapshotInfo;
using warehouse::BatchLock;
using warehouse::MaintainWarehouse;
using warehouse::Warehouse;

namespace {

// The batch loop's window outside a cycle or maintenance: its wait beats each second.
constexpr int64_t kBatchWaitStallUs = 60 * 1000000LL;

Result<std::unique_ptr<Warehouse>> OpenExisting(const Config& config) {
  WS_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> warehouse,
                      runtime::OpenWarehouse(config, /*create=*/false));
  warehouse->set_encode_threads(WorkerThreads(config));
  return warehouse;
}

std::string SummaryCount(const SnapshotInfo& s, const char* key) {
  auto it = s.summary.find(key);
  return it == s.summary.end() ? "-" : it->second;
}

// `batch --every SECONDS`: the batch role as a service (docs/operations.md).
int RunBatchEvery(const Config& config) {
  if (config.http != "off") {
    if (auto so = ServerOptionsFor(config); !so.ok()) return Fail(so.status().message(), 2);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  prometheus::Registry registry;
  runtime::BatchMetrics metrics(&registry);
  // Between cycles the loop beats every second of its wait; a cycle and
  // maintenance get their own bound (RunBatchLoop).
  runtime::Probes probes("the batch loop", kBatchWaitStallUs);
  probes.NotReady("opening the warehouse");
  auto server = StartOpsServer(config, "batch", &registry, probes);
  if (!server.ok()) return Fail(server.status().message());
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail("cannot open warehouse: " + warehouse.status().message());
  std::atomic<bool> stop{false};
  BatchRunner runner(config, warehouse->get(), &stop);
  probes.SetReady();
  int id = shutdown.OnRequest([&] {
    probes.BeginShutdown();
    stop = true;
  });
  runtime::RunBatchLoop(&runner, static_cast<int64_t>(config.batch_every_s * 1e6),
                        static_cast<int64_t>(config.maintain_every_s * 1e6), stop, &metrics, &probes,
                        [&shutdown](int64_t ms) { return shutdown.WaitFor(std::chrono::milliseconds(ms)); });
  probes.BeginShutdown();
  if (Status s = runner.Close(); !s.ok()) log::Warn("batch", "alerts: {}", s.ToString());
  shutdown.Remove(id);
  if (*server) (*server)->Stop();
  return 0;
}

}  // namespace

int RunBatch(const Config& config, const std::string& stage) {
  if (stage == "all" && config.batch_every_s > 0) return RunBatchEvery(config);
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  // A batch needs a warehouse that bronze has written: a mistyped path is
  // an error, not a new empty warehouse.
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail(warehouse.status().message());
  std::atomic<bool> stop{false};
  BatchRunner runner(config, warehouse->get(), &stop);
  int id = shutdown.OnRequest([&] { stop = true; });
  auto report = runner.Run(stage == "all" ? std::nullopt : model::ParseStageName(stage), LockWait::kFail);
  if (Status s = runner.Close(); !s.ok()) log::Warn("batch", "alerts: {}", s.ToString());
  shutdown.Remove(id);
  if (!report.ok()) return Fail(report.status().message());
  std::printf("%s\n", report->Summary().c_str());
  return report->ok ? 0 : 1;
}

int RunServe(const Config& config) {
  // serve is its HTTP server: "off" would leave nothing to do.
  if (config.http == "off") return Fail("serve --http off: serve needs an address (host:port) to listen on", 2);
  auto so = ServerOptionsFor(config);
  if (!so.ok()) return Fail(so.status().message(), 2);
  ShutdownSignal& shutdown = ShutdownSignal::Instance();
  shutdown.Install();
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail(warehouse.status().message());
  std::atomic<bool> stop{false};
  // The same alerts and batch options as `run` and `batch`: an admin cycle
  // knows every alert already raised and posts new ones to --alert-webhook.
  BatchRunner runner(config, warehouse->get(), &stop);
  int id = shutdown.OnRequest([&] { stop = true; });
  // serve ingests nothing itself: the live view follows what the ingest
  // processes (here or on other hosts) commit to bronze. Its windows follow
  // event time, so a replayed capture shows as it lands; on a live stream
  // event time is wall time. It raises no alerts: in this mode risk alerts
  // come from the batch cycles (one raiser, recorded in ops.alerts at once),
  // not from every serve replica that follows the same rows.
  live::LiveOptions live_options;
  live_options.follow_event_time = true;
  live::LiveAggregator live_state(live_options, /*alerts=*/nullptr);
  runtime::BronzeFollower follower(warehouse->get(), [&live_state](const format::RecordBatch& rows) {
    live_state.Observe(rows);
  });
  prometheus::Registry registry;
  WarehouseAnalyticsStore store(warehouse->get());
  serve::ServerCallbacks cb;
  cb.run_batch = [&runner]() -> Result<std::string> {
    WS_ASSIGN_OR_RETURN(batch::CycleReport report, runner.Run(std::nullopt, LockWait::kFail));
    return report.Summary();
  };
  cb.run_maintain = [&runner] { return runner.Maintain(LockWait::kFail); };
  cb.health = [] { return Status::OK(); };
  cb.ready = [] { return Status::OK(); };
  cb.pipeline_status = [] { return std::string(R"({"source":null,"mode":"serve"})"); };
  serve::HttpServer server(*so, &store, &live_state, &runner.alerts(), &registry, cb);
  if (Status s = server.Start(); !s.ok()) {
    shutdown.Remove(id);
    return Fail("cannot start HTTP server on " + config.http + ": " + s.message());
  }
  log::Info("serve", "serving {} at {}", config.warehouse, server.url());
  // Once a second: new bronze commits reach the live view within a second
  // of landing, for one catalog read per second while nothing lands.
  bool follow_failing = false;
  do {
    auto followed = follower.Poll();
    if (!followed.ok() && !follow_failing) {
      log::Warn("serve", "live view: cannot follow bronze (retrying every second): {}", followed.status().ToString());
    } else if (followed.ok() && follow_failing) {
      log::Info("serve", "live view: following bronze again");
    }
    follow_failing = !followed.ok();
  } while (!shutdown.WaitFor(std::chrono::seconds(1)));
  server.Stop();
  live_state.CloseAllSubscriptions();
  if (Status s = runner.Close(); !s.ok()) log::Warn("serve", "alerts: {}", s.ToString());
  shutdown.Remove(id);
  return 0;
}

int RunTables(const Config& config) {
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail(warehouse.status().message());
  auto ids = (*warehouse)->catalog()->ListTables();
  if (!ids.ok()) return Fail(ids.status().message());
  std::printf("%-34s %12s %10s %8s  %-24s %s\n", "table", "rows", "files", "snaps", "last commit", "partitioned by");
  for (const auto& id : *ids) {
    auto t = (*warehouse)->catalog()->LoadTable(id.ns, id.name);
    if (!t.ok()) return Fail(t.status().message());
    auto snap = (*t)->current_snapshot();
    std::string parts;
    for (const auto& p : (*t)->partition_columns()) parts += (parts.empty() ? "" : ", ") + p;
    std::printf("%-34s %12s %10s %8zu  %-24s %s\n", (id.ns + "." + id.name).c_str(),
                snap ? SummaryCount(*snap, "total-records").c_str() : "0",
                snap ? SummaryCount(*snap, "total-data-files").c_str() : "0", (*t)->snapshots().size(),
                snap ? FormatIso8601(snap->timestamp_ms * 1000).c_str() : "-", parts.c_str());
  }
  return 0;
}

int RunSnapshots(const Config& config, const std::string& table) {
  auto dot = table.find('.');
  if (dot == std::string::npos) return Fail("snapshots: expected namespace.table, e.g. bronze.raw_events", 2);
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail(warehouse.status().message());
  auto t = (*warehouse)->catalog()->LoadTable(table.substr(0, dot), table.substr(dot + 1));
  if (!t.ok()) return Fail(t.status().message(), t.status().IsNotFound() ? 2 : 1);
  std::printf("%-20s %-20s %-24s %-10s %12s %12s  %s\n", "snapshot_id", "parent_id", "committed_at", "operation",
              "added_rows", "total_rows", "wikistream keys");
  for (const SnapshotInfo& s : (*t)->snapshots()) {
    std::string keys;
    for (const auto& [k, v] : s.summary) {
      if (k.rfind("wikistream.", 0) == 0 && k != "wikistream.commit-id") keys += k + "=" + v + " ";
    }
    std::printf("%-20lld %-20s %-24s %-10s %12s %12s  %s\n", static_cast<long long>(s.snapshot_id),
                s.parent_id ? std::to_string(*s.parent_id).c_str() : "-", FormatIso8601(s.timestamp_ms * 1000).c_str(),
                s.operation.c_str(), SummaryCount(s, "added-records").c_str(), SummaryCount(s, "total-records").c_str(),
                keys.c_str());
  }
  return 0;
}

int RunMaintain(const Config& config) {
  auto warehouse = OpenExisting(config);
  if (!warehouse.ok()) return Fail(warehouse.status().message());
  // Maintenance rewrites files: keep batch cycles out meanwhile.
  auto lock = BatchLock::Acquire(config.warehouse, /*wait=*/true, runtime::CatalogOf(config));
  if (!lock.ok()) return Fail(lock.status().message());
  auto r = MaintainWarehouse(warehouse->get(), runtime::MaintenancePolicyFor(config));
  if (!r.ok()) return Fail(r.status().ToString());
  std::printf("%s\n", r->c_str());
  return 0;
}

int RunGenerate(const Config& config, int64_t count) {
  Status s = WriteSyntheticNdjson(count, config.seed, stdout);
  if (!s.ok()) return Fail(s.ToString());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace ws::app
