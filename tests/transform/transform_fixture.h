// Hand-made bronze rows for the pipeline tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wikistream/common/time.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/warehouse/bronze_schema.h"

namespace ws::transform::testing {

struct Ev {
  std::string id;
  std::string type = "edit";
  std::string domain = "en.wikipedia.org";
  std::optional<std::string> title = "Page";
  std::optional<std::string> user = "Alice";
  bool bot = false;
  std::optional<int32_t> len_old = std::nullopt;
  std::optional<int32_t> len_new = std::nullopt;
  int64_t ts_us = 0;
  std::optional<int32_t> ns = 0;
  int64_t ingest_lag_us = 5 * kMicrosPerSecond;
  std::string source = "replay";
};

// "2024-08-22T10:15:00Z"-style helper.
inline int64_t At(const char* iso) { return *ParseIso8601Micros(iso); }

inline void AppendBronze(format::RecordBatch* b, const Ev& e) {
  using namespace ws::warehouse::bronze;
  auto& c = b->columns();
  c[kEventId].AppendString(e.id);
  c[kRcId].AppendInt64(1000);
  c[kEventType].AppendString(e.type);
  c[kNamespace].AppendOptional(e.ns);
  c[kDomain].AppendString(e.domain);
  c[kWiki].AppendString(e.domain.substr(0, e.domain.find('.')) + "wiki");
  c[kServerName].AppendString(e.domain);
  c[kTitle].AppendOptional(e.title);
  c[kTitleUrl].AppendNull();
  c[kUser].AppendOptional(e.user);
  c[kIsBot].AppendBool(e.bot);
  c[kIsMinor].AppendBool(false);
  c[kIsPatrolled].AppendNull();
  c[kComment].AppendString("c");
  c[kLengthOld].AppendOptional(e.len_old);
  c[kLengthNew].AppendOptional(e.len_new);
  std::optional<int32_t> delta;
  if (e.len_old && e.len_new) {
    delta = *e.len_new - *e.len_old;
  } else if (e.len_new && e.type == "new") {
    delta = *e.len_new;
  }
  c[kLengthDelta].AppendOptional(delta);
  c[kRevisionOld].AppendNull();
  c[kRevisionNew].AppendInt64(5);
  c[kLogType].AppendNull();
  c[kLogAction].AppendNull();
  c[kEventTimestamp].AppendInt64(e.ts_us);
  c[kMetaDt].AppendInt64(e.ts_us);
  c[kMetaTopic].AppendNull();
  c[kMetaPartition].AppendNull();
  c[kMetaOffset].AppendNull();
  c[kSource].AppendString(e.source);
  c[kIngestedAt].AppendInt64(e.ts_us + e.ingest_lag_us);
  c[kBronzeProcessedAt].AppendInt64(e.ts_us + e.ingest_lag_us + kMicrosPerSecond);
  c[kRaw].AppendString("{}");
  c[kEventDate].AppendString(FormatDate(e.ts_us));
  c[kEventHour].AppendInt32(HourOfDay(e.ts_us));
  c[kSchemaVersion].AppendString(kRawEventsSchemaVersion);
}

inline format::RecordBatch MakeBronze(const std::vector<Ev>& events) {
  format::RecordBatch b(ws::warehouse::bronze::RawEventsSchema());
  for (const Ev& e : events) AppendBronze(&b, e);
  return b;
}

}  // namespace ws::transform::testing
