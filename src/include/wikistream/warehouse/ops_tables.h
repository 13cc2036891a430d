// The writers of the audit and operations tables every batch cycle appends
// to: dq_audit.quality_results / profile_metrics, ops.pipeline_runs and
// ops.alerts, and the read-back of the alerts already raised.
//
// Contract: each Append/Record call is one append commit per table (nothing
// when there are no rows); rows follow the table's schema in
// table_schemas.h. RaisedAlertKeys returns model::AlertKey for every alert of
// ops.alerts dated since_date or later, so a restarted process (or another
// process) never raises an alert of the same identity (kind, entity, date)
// twice.
#pragma once

#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/common/status.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/model/alert.h"
#include "wikistream/model/stage.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::warehouse {

// Appends a gate's results and profiles to dq_audit.quality_results and
// dq_audit.profile_metrics.
Status RecordQuality(Warehouse* warehouse, const format::RecordBatch& results, const format::RecordBatch& profiles);
// Appends one ops.pipeline_runs row per stage attempt.
Status RecordRuns(Warehouse* warehouse, const std::vector<model::StageAttempt>& attempts);
// Appends alerts to ops.alerts (one commit), skipping those whose identity
// (model::AlertKey) the table already holds or that repeat an earlier one of
// `alerts`: one row per (kind, entity, date), whoever raised it.
Status AppendAlerts(Warehouse* warehouse, const std::vector<model::Alert>& alerts);
// rows_out of the last `n` SUCCEEDED attempts of `stage` in ops.pipeline_runs,
// oldest first (by started_at). Reads the newest run_date partitions until
// it has n, so the cost follows the recent runs, not the table's history.
Result<std::vector<int64_t>> RecentStageRowsOut(Warehouse* warehouse, model::StageName stage, size_t n);
// The model::AlertKey of every alert recorded since `since_date`.
Result<std::vector<std::string>> RaisedAlertKeys(Warehouse* warehouse, const std::string& since_date);

}  // namespace ws::warehouse
