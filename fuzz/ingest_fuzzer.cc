// Fuzzes EventIngestor::Ingest (ingest rules 1-4) with arbitrary payloads.
// Properties beyond "no crash, no sanitizer report": every payload has
// exactly one outcome, accepted/DLQ payloads append exactly one row to the
// matching batch and nothing to the other, the batches stay valid, and the
// counters add up.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "wikistream/ingest/event_ingestor.h"
#include "wikistream/warehouse/bronze_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ws;
  using format::RecordBatch;
  using ingest::EventIngestor;
  using ingest::IngestCounters;
  using ingest::IngestOutcome;
  using model::DomainFilter;
  using source::SourceRecord;
  // One ingestor for the process, as in production: its parser and buffer
  // are reused, so state leaking from one payload to the next would show.
  static EventIngestor* ingestor = new EventIngestor(DomainFilter(), "replay");
  static RecordBatch* bronze = new RecordBatch(warehouse::bronze::RawEventsSchema());
  static RecordBatch* dlq = new RecordBatch(warehouse::bronze::DlqEventsSchema());
  static int64_t calls = 0;

  SourceRecord rec;
  rec.payload.assign(reinterpret_cast<const char*>(data), size);
  rec.received_at_us = 1690588800000000;
  rec.position = "{\"file\":\"fuzz\",\"offset\":" + std::to_string(size) + "}";

  const size_t bronze_before = bronze->num_rows(), dlq_before = dlq->num_rows();
  IngestOutcome outcome = ingestor->Ingest(rec, bronze, dlq);
  ++calls;
  const size_t bronze_added = bronze->num_rows() - bronze_before, dlq_added = dlq->num_rows() - dlq_before;
  switch (outcome) {
    case IngestOutcome::kAccepted:
      if (bronze_added != 1 || dlq_added != 0) fuzz::Fail("accepted payload must add one bronze row");
      break;
    case IngestOutcome::kDlq:
      if (bronze_added != 0 || dlq_added != 1) fuzz::Fail("DLQ payload must add one DLQ row");
      break;
    case IngestOutcome::kCanary:
    case IngestOutcome::kFiltered:
      if (bronze_added != 0 || dlq_added != 0) fuzz::Fail("canary/filtered payload must add no row");
      break;
  }
  if (Status st = bronze->Validate(); !st.ok()) fuzz::Fail("bronze batch invalid:", st.ToString());
  if (Status st = dlq->Validate(); !st.ok()) fuzz::Fail("DLQ batch invalid:", st.ToString());
  const IngestCounters& c = ingestor->counters();
  if (c.accepted + c.canary + c.filtered + c.dlq_total() != calls) fuzz::Fail("counters do not add up");
  if (c.accepted != static_cast<int64_t>(bronze->num_rows()) || c.dlq_total() != static_cast<int64_t>(dlq->num_rows())) {
    fuzz::Fail("counters disagree with the batches");
  }
  // Bounded memory: keep the batches small.
  if (bronze->num_rows() + dlq->num_rows() > 256) {
    bronze->Clear();
    dlq->Clear();
    *ingestor = EventIngestor(DomainFilter(), "replay");
    calls = 0;
  }
  return 0;
}
