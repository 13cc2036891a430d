// The writers of the audit and operations tables every batch cycle appends
// to: dq_audit.quality_results / profile_metrics, ops.pipeline_runs and
// ops.alerts, and the read-back of the risk alerts already raised.
//
// Contract: each Append/Record call is one append commit per table (nothing
// when there are no rows); rows follow the table's schema in
// table_schemas.h. RaisedRiskAlertKeys returns model::RiskAlertKey for every
// `risk` alert of ops.alerts dated since_date or later, so a restarted
// process never alerts twice for the same user and day.
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
// Appends alerts to ops.alerts (one commit).
Status AppendAlerts(Warehouse* warehouse, const std::vector<model::Alert>& alerts);
// The dedup keys of the risk alerts recorded since `since_date`.
Result<std::vector<std::string>> RaisedRiskAlertKeys(Warehouse* warehouse, const std::string& since_date);

}  // namespace ws::warehouse
