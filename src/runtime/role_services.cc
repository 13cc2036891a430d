// `wikistream bronze` and `wikistream produce` as services (role_services.h).
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "wikistream/common/file_system.h"
#include "wikistream/common/logging.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/runtime/ops_server.h"
#include "wikistream/runtime/probes.h"
#include "wikistream/runtime/produce_router.h"
#include "wikistream/runtime/role_services.h"
#include "wikistream/runtime/sources.h"
#include "wikistream/source/eventstreams_source.h"
#include "wikistream/source/kafka.h"

namespace ws::runtime {

using source::KafkaEventSink;
using source::ProduceStats;

namespace {

// Runs `fn` every second on a thread of its own until destroyed (then once
// more, so the last numbers are published).
class EverySecond {
 public:
  explicit EverySecond(std::function<void()> fn) : fn_(std::move(fn)) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
        lock.unlock();
        fn_();
        lock.lock();
      }
    });
  }
  ~EverySecond() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    fn_();
  }
  EverySecond(const EverySecond&) = delete;
  EverySecond& operator=(const EverySecond&) = delete;

 private:
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// What bronze and produce share around their loop: the registry their
// metrics register in, their probes (not ready for `starting` until the role
// says otherwise), and the ops server, started before the role opens
// anything so /readyz can say what it waits for.
class RoleOps {
 public:
  RoleOps(std::string loop, std::string starting) : probes(std::move(loop), kRoleStallUs) {
    probes.NotReady(std::move(starting));
  }
  Status Start(const Config& config, const char* role) {
    WS_ASSIGN_OR_RETURN(server_, StartOpsServer(config, role, &registry, probes));
    return Status::OK();
  }
  // Not ready from now on, then the server stops.
  void Stop() {
    probes.BeginShutdown();
    if (server_) server_->Stop();
  }

  prometheus::Registry registry;
  Probes probes;

 private:
  std::unique_ptr<serve::HttpServer> server_;  // declared last: stopped before what it serves goes
};

}  // namespace

int ExitCodeFor(const Status& s) { return s.code() == Status::Code::kInvalidArgument ? 2 : 1; }

RoleOutcome RunBronzeService(const Config& config, BronzeServiceOptions options, ShutdownSignal* shutdown) {
  RoleOps ops("the bronze ingest loop", "opening the warehouse");
  Probes& probes = ops.probes;
  IngestMetrics metrics(&ops.registry);
  if (Status started = ops.Start(config, "bronze"); !started.ok()) return {1, started.message()};
  auto warehouse = OpenWarehouse(config, /*create=*/true);
  if (!warehouse.ok()) return {1, "cannot open warehouse: " + warehouse.status().message()};
  (*warehouse)->set_encode_threads(WorkerThreads(config));
  probes.NotReady("connecting to Kafka");
  auto source = OpenSource(config);
  if (!source.ok()) return {ExitCodeFor(source.status()), source.status().message()};
  auto session = OpenIngestSession(std::move(source).value(), warehouse->get(), options.position_name,
                                   std::move(options.loop));
  if (!session.ok()) return {ExitCodeFor(session.status()), session.status().message()};
  std::atomic<bool> stop{false};
  source::Source* src = (*session)->source.get();
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
  int id = shutdown->OnRequest([&] {
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
  shutdown->Remove(id);
  ops.Stop();
  if (!s.ok()) return {1, s.ToString()};
  auto st = loop->stats();
  log::Info("bronze", "stopped: {} rows committed in {} commits", st.committed_rows, st.commits);
  return {};
}

RoleOutcome RunProduceService(const Config& config, ShutdownSignal* shutdown) {
  RoleOps ops("the produce loop", "connecting to the source and Kafka");
  Probes& probes = ops.probes;
  ProduceMetrics metrics(&ops.registry);
  if (Status started = ops.Start(config, "produce"); !started.ok()) return {1, started.message()};
  auto source = OpenSource(config);
  if (!source.ok()) return {ExitCodeFor(source.status()), source.status().message()};
  source::KafkaSinkOptions so;
  so.brokers = config.kafka_brokers;
  so.extra_config = config.kafka_properties;
  auto sink = KafkaEventSink::Open(so);
  if (!sink.ok()) return {1, "cannot reach Kafka at " + config.kafka_brokers + ": " + sink.status().message()};
  std::atomic<bool> stop{false};
  source::Source* src = source->get();
  KafkaEventSink* out = sink->get();
  auto* eventstreams = dynamic_cast<source::EventStreamsSource*>(src);
  probes.SetCheck([out, eventstreams]() -> Status {
    source::KafkaSinkStats st = out->stats();
    if (st.failed > 0) return Status::Unavailable("Kafka deliveries failed: " + st.last_error);
    if (eventstreams && !eventstreams->stats().connected) return Status::Unavailable("not connected to EventStreams");
    return Status::OK();
  });
  int id = shutdown->OnRequest([&] {
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
      shutdown->Remove(id);
      return {1, "cannot resume from " + config.position_file + ": " + r.message()};
    }
    log::Info("produce", "resuming at {}", *saved);
  }
  probes.SetReady();
  // Malformed payloads go to dlq-events with their error code; the rest is
  // forwarded as received and the bronze consumers apply every ingest rule.
  ProduceRouter router(&metrics);
  source::ProduceOptions options;
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
  shutdown->Remove(id);
  ops.Stop();
  if (!s.ok()) return {1, s.ToString()};
  log::Info("produce", "stopped: {} records produced", stats.records);
  return {};
}

}  // namespace ws::runtime
