// IngestMetrics: the ingest loop's and the batch scheduler's Prometheus
// series (wikistream_ingest_*, wikistream_bronze_*, wikistream_batch_*).
//
// Contract: Update() publishes the growth of the counters since the last
// call (call it periodically with the loop's stats); RecordBatchCycle()
// counts one cycle by result and sets the last cycle's duration. Thread-safe.
#pragma once

#include <memory>

#include "wikistream/ingest/ingest_loop.h"

namespace prometheus {
class Registry;
}

namespace ws::runtime {

// Publishes IngestLoop stats as Prometheus series; call Update() periodically.
class IngestMetrics {
 public:
  explicit IngestMetrics(prometheus::Registry* registry);
  ~IngestMetrics();
  void Update(const ingest::IngestLoopStats& stats);
  void RecordBatchCycle(bool ok, double seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::runtime
