// Live-path latency: from the moment a source hands over an event to the
// moment the live aggregator (what /api/live and /api/live/snapshot serve)
// reflects it, at a paced rate. Runs the real ingest loop (ingest rules,
// dedup, bronze writer with commits into a scratch warehouse) on the
// synthetic source paced to the requested events/s.
// Usage: ws_live_latency [EVENTS_PER_SECOND=2000] [SECONDS=20]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "wikistream/common/file_system.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/live/live_aggregator.h"
#include "wikistream/source/synthetic_source.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace bronze = ws::warehouse::bronze;
using ws::alerts::AlertSink;
using ws::format::Column;
using ws::format::RecordBatch;
using ws::ingest::BronzeWriter;
using ws::ingest::IngestLoop;
using ws::ingest::IngestLoopOptions;
using ws::model::DomainFilter;
using ws::source::MakeSyntheticSource;
using ws::warehouse::Warehouse;

int main(int argc, char** argv) {
  using namespace ws;
  const double rate = argc > 1 ? std::atof(argv[1]) : 2000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 20;
  log::SetLevel(log::Level::kWarn);
  std::string dir = (std::filesystem::temp_directory_path() / ("ws-latency-" + std::to_string(::getpid()))).string();

  auto warehouse = Warehouse::Open(DefaultFileSystem(), dir, true);
  if (!warehouse.ok()) {
    std::fprintf(stderr, "%s\n", warehouse.status().ToString().c_str());
    return 1;
  }
  // The generator emits 200 events per second of event time; pace it to `rate`.
  const int64_t count = static_cast<int64_t>(rate * seconds);
  auto source = MakeSyntheticSource(11, count, rate / 200.0);
  auto writer = BronzeWriter::Open(warehouse->get(), "synthetic");
  if (!source.ok() || !writer.ok()) return 1;

  AlertSink alerts("");
  live::LiveOptions lo;
  lo.follow_event_time = true;
  live::LiveAggregator live_state(lo, &alerts);
  std::mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<size_t>(count));

  IngestLoopOptions options;
  options.domains = DomainFilter::All();
  options.commit_interval_s = 1;
  options.on_rows = [&](const RecordBatch& rows) {
    live_state.Observe(rows);
    const int64_t now = NowMicros();  // the rows are visible to the API from here on
    const Column& received = rows.column(bronze::kIngestedAt);
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < rows.num_rows(); ++i) {
      latencies_ms.push_back(static_cast<double>(now - received.GetInt64(i)) / 1000.0);
    }
  };
  IngestLoop loop(source->get(), writer->get(), options);
  std::atomic<bool> stop{false};
  Status s = loop.Run(stop);
  std::filesystem::remove_all(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[static_cast<size_t>(p * (latencies_ms.size() - 1))];
  };
  std::printf("live latency at %.0f events/s over %zu events: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", rate,
              latencies_ms.size(), pct(0.5), pct(0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  alerts.Shutdown();
  return 0;
}
