#include "wikistream/transform/silver.h"

#include <optional>
#include <utility>
#include <vector>

#include "wikistream/common/hash.h"
#include "wikistream/model/region.h"
#include "wikistream/model/user.h"
#include "wikistream/transform/rules.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

using format::Column;
using format::RecordBatch;
using model::RegionLanguage;
using model::RegionOf;
using warehouse::SilverTable;
using warehouse::TableDef;
using enum warehouse::SilverCol;

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

  // Which rows become silver rows: the first of each event_id, unless silver
  // already has it. The set holds views into the input's byte buffer.
  StringViewSet seen(n);
  std::vector<uint32_t> keep;
  keep.reserve(n);
  for (size_t r = 0; r < n; ++r) {
    std::string_view id = event_id.GetString(r);
    if (!seen.Insert(id)) continue;
    if (already_in_silver && already_in_silver(id)) continue;
    keep.push_back(static_cast<uint32_t>(r));
  }

  // Columns copied unchanged are gathered column by column; the derived
  // ones are computed row by row.
  auto& cols = out.columns();
  const std::pair<int, const Column*> copied[] = {
      {kSEventId, &event_id},         {kSRcId, &rc_id},
      {kSEventType, &event_type},     {kSDomain, &domain},
      {kSWiki, &wiki},                {kSTitle, &title},
      {kSNamespace, &ns},             {kSIsMinor, &is_minor},
      {kSLengthOld, &length_old},     {kSLengthNew, &length_new},
      {kSLengthDelta, &length_delta}, {kSRevisionOld, &revision_old},
      {kSRevisionNew, &revision_new}, {kSEventTimestamp, &event_timestamp},
      {kSEventDate, &event_date},     {kSEventHour, &event_hour},
      {kSBronzeProcessedAt, &bronze_processed_at}};
  for (const auto& [index, column] : copied) cols[index].AppendRows(*column, keep);

  for (uint32_t r : keep) {
    RegionLanguage rl = RegionOf(domain.GetString(r));
    std::optional<std::string> user_norm = model::NormalizeUser(
        user.IsValid(r) ? std::optional<std::string_view>(user.GetString(r)) : std::nullopt);
    bool bot = is_bot.IsValid(r) && is_bot.GetBool(r);
    model::UserType type = model::ClassifyUser(bot, user_norm);
    bool delta_present = length_delta.IsValid(r);
    int32_t delta = delta_present ? length_delta.GetInt32(r) : 0;

    cols[kSRegion].AppendString(Name(rl.region));
    cols[kSLanguage].AppendString(rl.language);
    cols[kSUserNormalized].AppendOptional(user_norm);
    cols[kSUserType].AppendString(model::Name(type));
    cols[kSIsBot].AppendBool(bot);
    cols[kSIsAnonymous].AppendBool(type == model::UserType::kIp || type == model::UserType::kTemporary);
    cols[kSIsLargeDeletion].AppendBool(delta_present && delta < transform::kLargeDeletionBelow);
    cols[kSIsLargeAddition].AppendBool(delta_present && delta > transform::kLargeAdditionAbove);
    cols[kSSilverProcessedAt].AppendInt64(run_time_us);
    cols[kSSchemaVersion].AppendString(def.schema_version);
  }
  return out;
}

}  // namespace ws::transform
