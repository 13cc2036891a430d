// The schemas of every table the batch pipeline writes (all but bronze),
// exactly as docs/tables.md lists their columns.
//
// Contract: field ids are Iceberg field ids 1..n in column order and never
// change for a table's lifetime; a column change appends a field with a new
// id and bumps that table's schema_version constant. Partitioning is identity
// on the named columns, in order. The TableDef objects are immutable statics.
// The column enums are indexes into RecordBatches of these schemas.
#pragma once

#include <string>
#include <vector>

#include "wikistream/format/schema.h"

namespace ws::warehouse {

struct TableDef {
  std::string ns;    // "silver", "gold", "dq_audit", "ops"
  std::string name;  // "cleaned_events", ...
  format::SchemaPtr schema;
  std::vector<std::string> partition_columns;  // identity transforms, in order
  const char* schema_version;  // the value of the schema_version column (when the table has one)
  std::string full_name() const { return ns + "." + name; }
};

inline constexpr const char* kSilverSchemaVersion = "silver.cleaned_events/1";
inline constexpr const char* kHourlyStatsSchemaVersion = "gold.hourly_stats/1";
inline constexpr const char* kRiskScoresSchemaVersion = "gold.risk_scores/1";
inline constexpr const char* kDailySummarySchemaVersion = "gold.daily_analytics_summary/1";
inline constexpr const char* kTrendingPagesSchemaVersion = "gold.trending_pages/1";
inline constexpr const char* kTopContributorsSchemaVersion = "gold.top_contributors/1";
inline constexpr const char* kQualityResultsSchemaVersion = "dq_audit.quality_results/1";
inline constexpr const char* kProfileMetricsSchemaVersion = "dq_audit.profile_metrics/1";
inline constexpr const char* kPipelineRunsSchemaVersion = "ops.pipeline_runs/1";
inline constexpr const char* kAlertsSchemaVersion = "ops.alerts/1";

enum SilverCol : int {
  kSEventId, kSRcId, kSEventType, kSDomain, kSRegion, kSLanguage, kSWiki, kSTitle, kSNamespace,
  kSUserNormalized, kSUserType, kSIsBot, kSIsAnonymous, kSIsMinor, kSLengthOld, kSLengthNew,
  kSLengthDelta, kSIsLargeDeletion, kSIsLargeAddition, kSRevisionOld, kSRevisionNew,
  kSEventTimestamp, kSEventDate, kSEventHour, kSBronzeProcessedAt, kSSilverProcessedAt,
  kSSchemaVersion, kSilverColumnCount
};

const TableDef& SilverTable();             // silver.cleaned_events, by event_date
const TableDef& HourlyStatsTable();        // gold.hourly_stats, by stat_date
const TableDef& RiskScoresTable();         // gold.risk_scores, by stat_date
const TableDef& DailySummaryTable();       // gold.daily_analytics_summary, by summary_date
const TableDef& TrendingPagesTable();      // gold.trending_pages, by stat_date
const TableDef& TopContributorsTable();    // gold.top_contributors, by stat_date
const TableDef& QualityResultsTable();     // dq_audit.quality_results, by run_date, layer
const TableDef& ProfileMetricsTable();     // dq_audit.profile_metrics, by run_date, layer
const TableDef& PipelineRunsTable();       // ops.pipeline_runs, by run_date
const TableDef& AlertsTable();             // ops.alerts, by alert_date

// The five gold tables, in the order above.
const std::vector<const TableDef*>& GoldTables();
// Every table above, silver first.
const std::vector<const TableDef*>& AllPipelineTables();

}  // namespace ws::warehouse
