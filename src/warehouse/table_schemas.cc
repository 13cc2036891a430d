#include "wikistream/warehouse/table_schemas.h"

#include <memory>

namespace ws::warehouse {

using format::Field;
using format::Schema;
using format::TypeId;

namespace {

struct Col {
  const char* name;
  TypeId type;
  bool required;
};

constexpr TypeId S = TypeId::kString;
constexpr TypeId I = TypeId::kInt32;
constexpr TypeId L = TypeId::kInt64;
constexpr TypeId D = TypeId::kDouble;
constexpr TypeId B = TypeId::kBoolean;
constexpr TypeId T = TypeId::kTimestampTz;

TableDef Make(const char* ns, const char* name, std::vector<Col> cols, std::vector<std::string> partition,
              const char* version) {
  std::vector<Field> fields;
  fields.reserve(cols.size());
  int32_t id = 1;
  for (const Col& c : cols) fields.push_back(Field{id++, c.name, c.type, c.required, ""});
  return TableDef{ns, name, std::make_shared<const Schema>(0, std::move(fields)), std::move(partition), version};
}

}  // namespace

const TableDef& SilverTable() {
  // Order must match SilverCol.
  static const TableDef def = Make(
      "silver", "cleaned_events",
      {{"event_id", S, true},          {"rc_id", L, false},
       {"event_type", S, true},        {"domain", S, true},
       {"region", S, true},            {"language", S, true},
       {"wiki", S, false},             {"title", S, false},
       {"namespace", I, false},        {"user_normalized", S, false},
       {"user_type", S, true},         {"is_bot", B, true},
       {"is_anonymous", B, true},      {"is_minor", B, false},
       {"length_old", I, false},       {"length_new", I, false},
       {"length_delta", I, false},     {"is_large_deletion", B, true},
       {"is_large_addition", B, true}, {"revision_old", L, false},
       {"revision_new", L, false},     {"event_timestamp", T, true},
       {"event_date", S, true},        {"event_hour", I, true},
       {"bronze_processed_at", T, true}, {"silver_processed_at", T, true},
       {"schema_version", S, false}},
      {"event_date"}, kSilverSchemaVersion);
  return def;
}

const TableDef& HourlyStatsTable() {
  static const TableDef def = Make(
      "gold", "hourly_stats",
      {{"stat_date", S, true},          {"stat_hour", I, true},
       {"domain", S, true},             {"region", S, true},
       {"total_events", L, true},       {"unique_users", L, true},
       {"unique_pages", L, true},       {"bytes_added", L, true},
       {"bytes_removed", L, true},      {"avg_edit_size", D, false},
       {"bot_edits", L, true},          {"human_edits", L, true},
       {"bot_percentage", D, true},     {"anonymous_edits", L, true},
       {"anonymous_percentage", D, true}, {"type_edit", L, true},
       {"type_new", L, true},           {"type_log", L, true},
       {"type_categorize", L, true},    {"type_external", L, true},
       {"large_deletions", L, true},    {"large_additions", L, true},
       {"gold_processed_at", T, true},  {"schema_version", S, false}},
      {"stat_date"}, kHourlyStatsSchemaVersion);
  return def;
}

const TableDef& RiskScoresTable() {
  static const TableDef def = Make(
      "gold", "risk_scores",
      {{"stat_date", S, true},           {"entity_id", S, true},
       {"entity_type", S, true},         {"user_type", S, true},
       {"total_edits", L, true},         {"peak_hour_edits", L, true},
       {"active_hours", L, true},        {"large_deletions", L, true},
       {"domains_edited", L, true},      {"anonymous_edits", L, true},
       {"velocity_points", I, true},     {"deletion_points", I, true},
       {"anonymous_points", I, true},    {"cross_domain_points", I, true},
       {"risk_score", I, true},          {"risk_level", S, true},
       {"alert_triggered", B, true},     {"evidence", S, true},
       {"first_seen", T, true},          {"last_seen", T, true},
       {"gold_processed_at", T, true},   {"schema_version", S, false}},
      {"stat_date"}, kRiskScoresSchemaVersion);
  return def;
}

const TableDef& DailySummaryTable() {
  static const TableDef def = Make(
      "gold", "daily_analytics_summary",
      {{"summary_date", S, true},              {"total_events", L, true},
       {"unique_users", L, true},              {"active_domains", L, true},
       {"unique_pages_edited", L, true},       {"bot_percentage", D, true},
       {"anonymous_percentage", D, true},      {"registered_user_percentage", D, true},
       {"total_bytes_added", L, true},         {"total_bytes_removed", L, true},
       {"net_content_change", L, true},        {"avg_edit_size_bytes", D, false},
       {"new_pages_created", L, true},         {"large_deletions_count", L, true},
       {"large_additions_count", L, true},     {"large_deletion_rate", D, true},
       {"high_risk_user_count", L, true},      {"medium_risk_user_count", L, true},
       {"low_risk_user_count", L, true},       {"platform_avg_risk_score", D, true},
       {"platform_max_risk_score", I, true},   {"total_alerts_triggered", L, true},
       {"europe_percentage", D, true},         {"americas_percentage", D, true},
       {"asia_pacific_percentage", D, true},   {"middle_east_percentage", D, true},
       {"other_percentage", D, true},          {"peak_hour", I, true},
       {"peak_hour_events", L, true},          {"avg_events_per_hour", D, true},
       {"platform_health_score", D, true},     {"gold_processed_at", T, true},
       {"schema_version", S, false}},
      {"summary_date"}, kDailySummarySchemaVersion);
  return def;
}

const TableDef& TrendingPagesTable() {
  static const TableDef def = Make(
      "gold", "trending_pages",
      {{"stat_date", S, true},       {"stat_hour", I, true},
       {"domain", S, true},          {"title", S, true},
       {"edits", L, true},           {"unique_editors", L, true},
       {"bytes_changed", L, true},   {"prev_24h_edits", L, true},
       {"trend_score", D, true},     {"rank", I, true},
       {"gold_processed_at", T, true}, {"schema_version", S, false}},
      {"stat_date"}, kTrendingPagesSchemaVersion);
  return def;
}

const TableDef& TopContributorsTable() {
  static const TableDef def = Make(
      "gold", "top_contributors",
      {{"stat_date", S, true},      {"domain", S, true},
       {"user_normalized", S, true}, {"edits", L, true},
       {"pages_edited", L, true},   {"bytes_added", L, true},
       {"bytes_removed", L, true},  {"is_bot", B, true},
       {"user_type", S, true},      {"first_seen", T, true},
       {"last_seen", T, true},      {"rank", I, true},
       {"gold_processed_at", T, true}, {"schema_version", S, false}},
      {"stat_date"}, kTopContributorsSchemaVersion);
  return def;
}

const TableDef& QualityResultsTable() {
  static const TableDef def = Make(
      "dq_audit", "quality_results",
      {{"run_id", S, true},           {"layer", S, true},
       {"table_name", S, true},       {"check_name", S, true},
       {"check_type", S, true},       {"severity", S, true},
       {"status", S, true},           {"metric_value", D, false},
       {"threshold_value", D, false}, {"records_checked", L, true},
       {"records_passed", L, true},   {"records_failed", L, true},
       {"message", S, false},         {"evidence", S, false},
       {"check_duration_ms", L, true}, {"run_timestamp", T, true},
       {"run_date", S, true}},
      {"run_date", "layer"}, kQualityResultsSchemaVersion);
  return def;
}

const TableDef& ProfileMetricsTable() {
  static const TableDef def = Make(
      "dq_audit", "profile_metrics",
      {{"run_id", S, true},         {"layer", S, true},
       {"table_name", S, true},     {"column_name", S, true},
       {"record_count", L, true},   {"null_count", L, true},
       {"null_rate", D, false},     {"distinct_count", L, true},
       {"min_value", S, false},     {"max_value", S, false},
       {"mean_value", D, false},    {"stddev_value", D, false},
       {"p50", D, false},           {"p95", D, false},
       {"run_timestamp", T, true},  {"run_date", S, true}},
      {"run_date", "layer"}, kProfileMetricsSchemaVersion);
  return def;
}

const TableDef& PipelineRunsTable() {
  static const TableDef def = Make(
      "ops", "pipeline_runs",
      {{"run_id", S, true},          {"cycle_id", S, true},
       {"stage", S, true},           {"attempt", I, true},
       {"status", S, true},          {"started_at", T, true},
       {"finished_at", T, true},     {"input_snapshot", S, false},
       {"output_snapshot", S, false}, {"rows_in", L, true},
       {"rows_out", L, true},        {"error", S, false},
       {"run_date", S, true}},
      {"run_date"}, kPipelineRunsSchemaVersion);
  return def;
}

const TableDef& AlertsTable() {
  static const TableDef def = Make(
      "ops", "alerts",
      {{"alert_id", S, true},  {"raised_at", T, true},
       {"alert_date", S, true}, {"kind", S, true},
       {"severity", S, true},  {"subject", S, true},
       {"entity", S, false},   {"details", S, false},
       {"delivered", B, true}, {"delivery_error", S, false}},
      {"alert_date"}, kAlertsSchemaVersion);
  return def;
}

const std::vector<const TableDef*>& GoldTables() {
  static const std::vector<const TableDef*> tables = {&HourlyStatsTable(), &RiskScoresTable(),
                                                      &DailySummaryTable(), &TrendingPagesTable(),
                                                      &TopContributorsTable()};
  return tables;
}

const std::vector<const TableDef*>& AllPipelineTables() {
  static const std::vector<const TableDef*> tables = {
      &SilverTable(),        &HourlyStatsTable(),    &RiskScoresTable(),     &DailySummaryTable(),
      &TrendingPagesTable(), &TopContributorsTable(), &QualityResultsTable(), &ProfileMetricsTable(),
      &PipelineRunsTable(),  &AlertsTable()};
  return tables;
}

}  // namespace ws::warehouse
