// Runtime pieces the subcommands share: opening a source from its spec,
// the AnalyticsStore backed by the warehouse, and Prometheus metrics of the
// ingest loop.
//
// Contract: OpenSource() turns `--source` into a Source, failing with
// InvalidArgument for a malformed spec or an unreadable replay file (a usage
// error: exit 2) and Unavailable for an unreachable broker (exit 1).
// WarehouseAnalyticsStore reads the current snapshot of each table and
// caches the rows per (table, date, snapshot id), so serving follows new
// commits without re-reading unchanged data.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "wikistream/app/config.h"
#include "wikistream/common/result.h"
#include "wikistream/pipeline/ingest_loop.h"
#include "wikistream/pipeline/warehouse.h"
#include "wikistream/serve/analytics_store.h"
#include "wikistream/source/source.h"

namespace prometheus {
class Registry;
}

namespace ws::app {

struct SourceSpec {
  std::string kind;  // eventstreams | replay | synthetic | kafka
  std::string path;  // replay
  int64_t count = -1;  // synthetic: -1 endless
};
Result<SourceSpec> ParseSourceSpec(const std::string& spec);
Result<std::unique_ptr<Source>> OpenSource(const Config& config);

// The dashboard's directory: --web-root if given, else the first of
// <exe dir>/web, <exe dir>/../web, <exe dir>/../share/wikistream/web and the
// source checkout's web/ (compiled in) that holds index.html.
std::string DefaultWebRoot(const Config& config);

// --threads, with 0 meaning one per core.
int WorkerThreads(const Config& config);

// `wikistream/<version> (<contact>)`.
std::string UserAgent(const Config& config);

// Compacts small files, expires snapshots older than a day (keeping the
// newest 20) and removes orphan files older than an hour, in every table.
// The caller holds the batch lock. Returns a one-line summary.
Result<std::string> MaintainWarehouse(Warehouse* warehouse);

class WarehouseAnalyticsStore : public serve::AnalyticsStore {
 public:
  explicit WarehouseAnalyticsStore(Warehouse* warehouse) : warehouse_(warehouse) {}
  Result<RecordBatch> ReadTable(const std::string& qualified_table,
                                const std::optional<std::string>& partition_date) override;
  Result<std::vector<std::string>> Dates(const std::string& qualified_table) override;

 private:
  Warehouse* warehouse_;
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, RecordBatch>> cache_;  // key -> (snapshot id, rows)
};

// Publishes IngestLoop stats as Prometheus series; call Update() periodically.
class IngestMetrics {
 public:
  explicit IngestMetrics(prometheus::Registry* registry);
  ~IngestMetrics();
  void Update(const IngestLoopStats& stats);
  void RecordBatchCycle(bool ok, double seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::app
