// ProduceRouter: where `wikistream produce` sends each record
// (docs/ingestion.md, "Kafka mode").
//
// Contract: a payload that ingest rules 1 and 3 reject (docs/ingest-rules.md:
// too_large, invalid_utf8, invalid_json, not_an_object, missing_field:<path>,
// wrong_type:<path>) goes to dlq-events with the header ws-error-code set to
// that code; every other payload goes to raw-events unchanged (the bronze
// consumers apply every rule, the domain filter and canaries included). The
// codes are the ones bronze writes to bronze.dlq_events for the same payload.
// Each record sent is counted in the ProduceMetrics (may be null). Not
// thread-safe: one router per producing thread.
#pragma once

#include <string>

#include "wikistream/format/record_batch.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/runtime/ingest_metrics.h"
#include "wikistream/source/kafka.h"

namespace ws::runtime {

class ProduceRouter {
 public:
  explicit ProduceRouter(ProduceMetrics* metrics);
  Status Route(const source::SourceRecord& record, source::KafkaEventSink* sink);

 private:
  ProduceMetrics* metrics_;
  ingest::EventIngestor rules_;
  format::RecordBatch accepted_;  // scratch: the rules append one row per record
  format::RecordBatch dlq_;
};

}  // namespace ws::runtime
