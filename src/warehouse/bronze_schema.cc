#include "wikistream/warehouse/bronze_schema.h"

namespace ws::warehouse::bronze {

using format::Field;
using format::Schema;
using format::SchemaPtr;
using format::TypeId;

namespace {

Field F(int32_t id, const char* name, TypeId type, bool required) { return Field{id, name, type, required, ""}; }

}  // namespace

const SchemaPtr& RawEventsSchema() {
  static const SchemaPtr schema = std::make_shared<const Schema>(
      0, std::vector<Field>{
             F(1, "event_id", TypeId::kString, true),
             F(2, "rc_id", TypeId::kInt64, false),
             F(3, "event_type", TypeId::kString, true),
             F(4, "namespace", TypeId::kInt32, false),
             F(5, "domain", TypeId::kString, true),
             F(6, "wiki", TypeId::kString, false),
             F(7, "server_name", TypeId::kString, false),
             F(8, "title", TypeId::kString, false),
             F(9, "title_url", TypeId::kString, false),
             F(10, "user", TypeId::kString, false),
             F(11, "is_bot", TypeId::kBoolean, true),
             F(12, "is_minor", TypeId::kBoolean, false),
             F(13, "is_patrolled", TypeId::kBoolean, false),
             F(14, "comment", TypeId::kString, false),
             F(15, "length_old", TypeId::kInt32, false),
             F(16, "length_new", TypeId::kInt32, false),
             F(17, "length_delta", TypeId::kInt32, false),
             F(18, "revision_old", TypeId::kInt64, false),
             F(19, "revision_new", TypeId::kInt64, false),
             F(20, "log_type", TypeId::kString, false),
             F(21, "log_action", TypeId::kString, false),
             F(22, "event_timestamp", TypeId::kTimestampTz, true),
             F(23, "meta_dt", TypeId::kTimestampTz, false),
             F(24, "meta_topic", TypeId::kString, false),
             F(25, "meta_partition", TypeId::kInt32, false),
             F(26, "meta_offset", TypeId::kInt64, false),
             F(27, "source", TypeId::kString, true),
             F(28, "ingested_at", TypeId::kTimestampTz, true),
             F(29, "bronze_processed_at", TypeId::kTimestampTz, true),
             F(30, "raw", TypeId::kString, true),
             F(31, "event_date", TypeId::kString, true),
             F(32, "event_hour", TypeId::kInt32, true),
             F(33, "schema_version", TypeId::kString, false),
         });
  return schema;
}

const SchemaPtr& DlqEventsSchema() {
  static const SchemaPtr schema = std::make_shared<const Schema>(
      0, std::vector<Field>{
             F(1, "dlq_id", TypeId::kString, true),
             F(2, "received_at", TypeId::kTimestampTz, true),
             F(3, "received_date", TypeId::kString, true),
             F(4, "source", TypeId::kString, true),
             F(5, "source_position", TypeId::kString, false),
             F(6, "error_code", TypeId::kString, true),
             F(7, "error_message", TypeId::kString, false),
             F(8, "payload", TypeId::kBinary, false),
             F(9, "payload_bytes", TypeId::kInt64, false),
             F(10, "payload_truncated", TypeId::kBoolean, false),
             F(11, "schema_version", TypeId::kString, false),
         });
  return schema;
}

}  // namespace ws::warehouse::bronze
