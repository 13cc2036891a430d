// gold.risk_scores: one row per (date, user) with enough events, scored by
// AssessRisk; also each date's risk totals for the daily summary
// (docs/tables.md, "gold.risk_scores").

#include "gold_internal.h"

#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform::detail {

using warehouse::kRiskScoresSchemaVersion;

std::vector<DayRisk> AppendRiskScores(std::vector<RiskRow> risk, const std::vector<std::string>& targets,
                                      int64_t now_us, RecordBatch* out_batch) {
  std::vector<DayRisk> day_risk(targets.size());
  std::sort(risk.begin(), risk.end(), [](const RiskRow& a, const RiskRow& b) {
    return a.date != b.date ? a.date < b.date : a.user < b.user;
  });
  RecordBatch& out = *out_batch;
  out.Reserve(risk.size());
  auto& col = out.columns();
  for (const RiskRow& a : risk) {
    const transform::RiskInputs& in = a.in;
    transform::RiskAssessment ra = transform::AssessRisk(in);
    DayRisk& dr = day_risk[a.date];
    ++dr.scored;
    dr.score_sum += ra.score;
    dr.max_score = std::max(dr.max_score, ra.score);
    ++dr.per_level[static_cast<size_t>(ra.level)];
    dr.alerts += ra.alert;
    int i = 0;
    col[i++].AppendString(targets[a.date]);
    col[i++].AppendString(a.user);
    col[i++].AppendString("user");
    col[i++].AppendString(model::Name(a.name_class));
    col[i++].AppendInt64(in.total_edits);
    col[i++].AppendInt64(in.peak_hour_edits);
    col[i++].AppendInt64(a.active_hours);
    col[i++].AppendInt64(in.large_deletions);
    col[i++].AppendInt64(in.domains_edited);
    col[i++].AppendInt64(in.anonymous_edits);
    col[i++].AppendInt32(ra.velocity_points);
    col[i++].AppendInt32(ra.deletion_points);
    col[i++].AppendInt32(ra.anonymous_points);
    col[i++].AppendInt32(ra.cross_domain_points);
    col[i++].AppendInt32(ra.score);
    col[i++].AppendString(Name(ra.level));
    col[i++].AppendBool(ra.alert);
    col[i++].AppendString(transform::RiskEvidenceJson(in, ra));
    col[i++].AppendInt64(a.first);
    col[i++].AppendInt64(a.last);
    col[i++].AppendInt64(now_us);
    col[i++].AppendString(kRiskScoresSchemaVersion);
  }
  return day_risk;
}

}  // namespace ws::transform::detail
