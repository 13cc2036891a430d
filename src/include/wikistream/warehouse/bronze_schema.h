// The schemas of bronze.raw_events and bronze.dlq_events (docs/tables.md).
//
// Contract: field ids are stable forever (they are in every file written);
// the enum values are column indexes into RecordBatches of these schemas.
// A column change bumps the schema_version constant.
#pragma once

#include "wikistream/format/schema.h"

namespace ws::warehouse::bronze {

inline constexpr const char* kRawEventsSchemaVersion = "bronze.raw_events/1";
inline constexpr const char* kDlqSchemaVersion = "bronze.dlq_events/1";

enum RawCol : int {
  kEventId, kRcId, kEventType, kNamespace, kDomain, kWiki, kServerName, kTitle, kTitleUrl, kUser,
  kIsBot, kIsMinor, kIsPatrolled, kComment, kLengthOld, kLengthNew, kLengthDelta, kRevisionOld,
  kRevisionNew, kLogType, kLogAction, kEventTimestamp, kMetaDt, kMetaTopic, kMetaPartition,
  kMetaOffset, kSource, kIngestedAt, kBronzeProcessedAt, kRaw, kEventDate, kEventHour,
  kSchemaVersion, kRawColumnCount
};

enum DlqCol : int {
  kDlqId, kReceivedAt, kReceivedDate, kDlqSource, kSourcePosition, kErrorCode, kErrorMessage,
  kPayload, kPayloadBytes, kPayloadTruncated, kDlqSchemaVersionCol, kDlqColumnCount
};

// Shared, immutable; identity(event_date), identity(event_hour) partitioning.
const format::SchemaPtr& RawEventsSchema();
// identity(received_date) partitioning.
const format::SchemaPtr& DlqEventsSchema();

}  // namespace ws::warehouse::bronze
