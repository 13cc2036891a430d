#include "wikistream/runtime/produce_router.h"

#include "wikistream/warehouse/bronze_schema.h"

namespace ws::runtime {

namespace bronze = warehouse::bronze;

ProduceRouter::ProduceRouter(ProduceMetrics* metrics)
    : metrics_(metrics),
      // Every domain: filtering is the consumers' rule, not a reason to reject.
      rules_(model::DomainFilter::All(), "produce"),
      accepted_(bronze::RawEventsSchema()),
      dlq_(bronze::DlqEventsSchema()) {}

Status ProduceRouter::Route(const source::SourceRecord& record, source::KafkaEventSink* sink) {
  accepted_.Clear();
  dlq_.Clear();
  std::string code;
  if (rules_.Ingest(record, &accepted_, &dlq_) == ingest::IngestOutcome::kDlq) {
    code = dlq_.column(dlq_.schema()->FieldIndex("error_code")).GetString(0);
  }
  Status sent = code.empty() ? sink->SendRaw(record) : sink->SendDlq(record, code);
  if (sent.ok() && metrics_) {
    metrics_->RecordSent(code.empty() ? sink->options().raw_topic : sink->options().dlq_topic, code);
  }
  return sent;
}

}  // namespace ws::runtime
