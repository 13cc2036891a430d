// Silver: bronze rows → silver.cleaned_events rows (docs/tables.md).
//
// Contract: a pure function, no I/O. The input has the columns of
// bronze.raw_events that silver needs, found by name (a full RawEventsSchema
// batch or any projection holding them: event_id, rc_id, event_type, domain,
// wiki, title, namespace, user, is_bot, is_minor, length_old, length_new,
// length_delta, revision_old, revision_new, event_timestamp, event_date,
// event_hour, bronze_processed_at); a missing column is a bug and aborts.
// The output has SilverTable()'s schema, one row per event_id: the first
// occurrence in input order wins, and ids for which already_in_silver returns
// true are dropped (that is what makes re-running over the same bronze
// snapshots idempotent). Output rows keep input order.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "wikistream/format/record_batch.h"

namespace ws::transform {

format::RecordBatch BuildSilver(const format::RecordBatch& bronze,
                        const std::function<bool(std::string_view event_id)>& already_in_silver,
                        int64_t run_time_us);

}  // namespace ws::transform
