#include "wikistream/pipeline/silver.h"

#include <optional>
#include <unordered_set>

#include "wikistream/event/domains.h"
#include "wikistream/pipeline/rules.h"
#include "wikistream/pipeline/table_schemas.h"

namespace ws::pipeline {

RecordBatch BuildSilver(const RecordBatch& bronze,
                        const std::function<bool(std::string_view event_id)>& already_in_silver,
                        int64_t run_time_us) {
  const TableDef& def = SilverTable();
  RecordBatch out(def.schema);
  const size_t n = bronze.num_rows();
  if (n == 0) return out;
  out.Reserve(n);

  const Column& event_id = bronze.column("event_id");
  const Column& rc_id = bronze.column("rc_id");
  const Column& event_type = bronze.column("event_type");
  const Column& domain = bronze.column("domain");
  const Column& wiki = bronze.column("wiki");
  const Column& title = bronze.column("title");
  const Column& ns = bronze.column("namespace");
  const Column& user = bronze.column("user");
  const Column& is_bot = bronze.column("is_bot");
  const Column& is_minor = bronze.column("is_minor");
  const Column& length_old = bronze.column("length_old");
  const Column& length_new = bronze.column("length_new");
  const Column& length_delta = bronze.column("length_delta");
  const Column& revision_old = bronze.column("revision_old");
  const Column& revision_new = bronze.column("revision_new");
  const Column& event_timestamp = bronze.column("event_timestamp");
  const Column& event_date = bronze.column("event_date");
  const Column& event_hour = bronze.column("event_hour");
  const Column& bronze_processed_at = bronze.column("bronze_processed_at");

  // Views into the input's byte buffer, which outlives this function's use.
  std::unordered_set<std::string_view> seen;
  seen.reserve(n * 2);

  auto& cols = out.columns();
  for (size_t r = 0; r < n; ++r) {
    std::string_view id = event_id.GetString(r);
    if (!seen.insert(id).second) continue;
    if (already_in_silver && already_in_silver(id)) continue;

    std::string_view dom = domain.GetString(r);
    RegionLanguage rl = RegionOf(dom);
    std::optional<std::string> user_norm = rules::NormalizeUser(
        user.IsValid(r) ? std::optional<std::string_view>(user.GetString(r)) : std::nullopt);
    bool bot = is_bot.IsValid(r) && is_bot.GetBool(r);
    rules::UserType type = rules::ClassifyUser(bot, user_norm);
    bool delta_present = length_delta.IsValid(r);
    int32_t delta = delta_present ? length_delta.GetInt32(r) : 0;

    cols[kSEventId].AppendString(id);
    cols[kSRcId].AppendFrom(rc_id, r);
    cols[kSEventType].AppendFrom(event_type, r);
    cols[kSDomain].AppendString(dom);
    cols[kSRegion].AppendString(rl.region);
    cols[kSLanguage].AppendString(rl.language);
    cols[kSWiki].AppendFrom(wiki, r);
    cols[kSTitle].AppendFrom(title, r);
    cols[kSNamespace].AppendFrom(ns, r);
    cols[kSUserNormalized].AppendOptional(user_norm);
    cols[kSUserType].AppendString(rules::UserTypeName(type));
    cols[kSIsBot].AppendBool(bot);
    cols[kSIsAnonymous].AppendBool(type == rules::UserType::kIp || type == rules::UserType::kTemporary);
    cols[kSIsMinor].AppendFrom(is_minor, r);
    cols[kSLengthOld].AppendFrom(length_old, r);
    cols[kSLengthNew].AppendFrom(length_new, r);
    cols[kSLengthDelta].AppendFrom(length_delta, r);
    cols[kSIsLargeDeletion].AppendBool(delta_present && delta < rules::kLargeDeletionBelow);
    cols[kSIsLargeAddition].AppendBool(delta_present && delta > rules::kLargeAdditionAbove);
    cols[kSRevisionOld].AppendFrom(revision_old, r);
    cols[kSRevisionNew].AppendFrom(revision_new, r);
    cols[kSEventTimestamp].AppendFrom(event_timestamp, r);
    cols[kSEventDate].AppendFrom(event_date, r);
    cols[kSEventHour].AppendFrom(event_hour, r);
    cols[kSBronzeProcessedAt].AppendFrom(bronze_processed_at, r);
    cols[kSSilverProcessedAt].AppendInt64(run_time_us);
    cols[kSSchemaVersion].AppendString(def.schema_version);
  }
  return out;
}

}  // namespace ws::pipeline
