#include "wikistream/transform/dq.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "wikistream/common/hash.h"

#include "wikistream/common/time.h"
#include "wikistream/model/event_type.h"
#include "wikistream/model/region.h"
#include "wikistream/model/source_kind.h"
#include "wikistream/transform/rules.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

using format::Column;
using format::RecordBatch;
using format::TypeId;
using model::RegionLanguage;
using model::RegionOf;
using warehouse::DailySummaryTable;
using warehouse::HourlyStatsTable;
using warehouse::ProfileMetricsTable;
using warehouse::QualityResultsTable;
using warehouse::RiskScoresTable;
using warehouse::SilverTable;
using warehouse::TopContributorsTable;
using warehouse::TrendingPagesTable;

namespace {

constexpr size_t kMaxExamples = 5;

struct Check {
  std::string table, name, type, severity;
  std::optional<double> metric, threshold;
  int64_t checked = 0, failed = 0;
  bool ok = true;
  bool skipped = false;
  std::optional<std::string> error;  // could not be evaluated → ERROR
  std::string message;
  nlohmann::json evidence = nlohmann::json::object();
};

class Gate {
 public:
  Gate(std::string layer, std::string run_id, int64_t run_time_us, GateOutcome* out)
      : layer_(std::move(layer)), run_id_(std::move(run_id)), run_time_us_(run_time_us),
        run_date_(FormatDate(run_time_us)), out_(out) {
    out_->quality_results = RecordBatch(QualityResultsTable().schema);
    out_->profile_metrics = RecordBatch(ProfileMetricsTable().schema);
    out_->passed = true;
  }

  // Runs fn (which fills a Check), times it and records the row.
  template <typename Fn>
  void Run(std::string table, std::string name, std::string type, std::string severity, Fn&& fn) {
    Check c;
    c.table = std::move(table);
    c.name = std::move(name);
    c.type = std::move(type);
    c.severity = std::move(severity);
    int64_t t0 = MonotonicMicros();
    fn(c);
    int64_t ms = (MonotonicMicros() - t0) / 1000;
    Record(c, ms);
  }

  const std::string& layer() const { return layer_; }
  const std::string& run_id() const { return run_id_; }
  int64_t run_time_us() const { return run_time_us_; }

 private:
  void Record(const Check& c, int64_t duration_ms) {
    std::string status;
    if (c.error) {
      status = "ERROR";
    } else if (c.skipped) {
      status = "SKIPPED";
    } else if (c.ok) {
      status = "PASSED";
    } else {
      status = c.severity == "error" ? "FAILED" : "WARNING";
    }
    if (c.severity == "error" && (status == "FAILED" || status == "ERROR")) {
      out_->passed = false;
      out_->failed_checks.push_back(c.name);
    }
    if (status == "WARNING") out_->warning_checks.push_back(c.name);
    auto& col = out_->quality_results.columns();
    int i = 0;
    col[i++].AppendString(run_id_);
    col[i++].AppendString(layer_);
    col[i++].AppendString(c.table);
    col[i++].AppendString(c.name);
    col[i++].AppendString(c.type);
    col[i++].AppendString(c.severity);
    col[i++].AppendString(status);
    col[i++].AppendOptional(c.metric);
    col[i++].AppendOptional(c.threshold);
    int64_t checked = c.skipped || c.error ? 0 : c.checked;
    int64_t failed = c.skipped || c.error ? 0 : c.failed;
    col[i++].AppendInt64(checked);
    col[i++].AppendInt64(checked - failed);
    col[i++].AppendInt64(failed);
    col[i++].AppendString(c.error ? *c.error : c.message);
    col[i++].AppendString(c.evidence.dump());
    col[i++].AppendInt64(duration_ms);
    col[i++].AppendInt64(run_time_us_);
    col[i++].AppendString(run_date_);
  }

  std::string layer_, run_id_;
  int64_t run_time_us_;
  std::string run_date_;
  GateOutcome* out_;
};

const Column* Col(const RecordBatch& b, std::string_view name) {
  if (!b.schema()) return nullptr;
  int idx = b.schema()->FieldIndex(name);
  return idx < 0 ? nullptr : &b.column(static_cast<size_t>(idx));
}

bool MissingColumns(Check& c, std::initializer_list<std::pair<const Column*, const char*>> cols) {
  for (const auto& [col, name] : cols) {
    if (!col) {
      c.error = std::string("column ") + name + " missing from the input";
      return true;
    }
  }
  return false;
}

std::string IdOf(const Column* ids, size_t r) {
  if (!ids || ids->IsNull(r)) return "(null event_id, row " + std::to_string(r) + ")";
  return std::string(ids->GetString(r));
}

// Row-level check: bad(r) says whether row r fails; rows where applies(r) is
// false are not checked. metric = share of checked rows that pass.
template <typename Applies, typename Bad>
void RowCheck(Check& c, size_t n, const Column* ids, double threshold, Applies&& applies, Bad&& bad,
              const std::string& what) {
  nlohmann::json examples = nlohmann::json::array();
  for (size_t r = 0; r < n; ++r) {
    if (!applies(r)) continue;
    ++c.checked;
    if (bad(r)) {
      ++c.failed;
      if (examples.size() < kMaxExamples) examples.push_back(IdOf(ids, r));
    }
  }
  c.threshold = threshold;
  if (c.checked > 0) c.metric = static_cast<double>(c.checked - c.failed) / static_cast<double>(c.checked);
  c.ok = c.checked == 0 || *c.metric >= threshold;
  c.evidence["examples"] = examples;
  c.message = c.failed == 0 ? what + ": all " + std::to_string(c.checked) + " rows pass"
                            : what + ": " + std::to_string(c.failed) + " of " + std::to_string(c.checked) + " rows fail";
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Quantile() of the values without sorting them all: the two order
// statistics it interpolates between, found by selection (reorders *values).
double SelectQuantile(std::vector<double>* values, double q) {
  std::vector<double>& v = *values;
  if (v.empty()) return 0.0;
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  const auto nth = v.begin() + static_cast<std::ptrdiff_t>(lo);
  std::nth_element(v.begin(), nth, v.end());
  const double at_lo = *nth;
  const double at_hi = nth + 1 != v.end() ? *std::min_element(nth + 1, v.end()) : at_lo;
  return at_lo + (pos - static_cast<double>(lo)) * (at_hi - at_lo);
}

bool IsKnownEventType(std::string_view t) { return model::ParseEventType(t).has_value(); }
bool IsKnownRegion(std::string_view r) { return model::ParseRegion(r).has_value(); }

}  // namespace

void ProfileTable(const RecordBatch& table, const std::string& layer, const std::string& table_name,
                  const std::string& run_id, int64_t run_time_us, RecordBatch* out) {
  const std::string run_date = FormatDate(run_time_us);
  const size_t n = table.num_rows();
  for (size_t ci = 0; ci < table.num_columns(); ++ci) {
    const Column& c = table.column(ci);
    const TypeId type = c.type();
    const size_t nulls = c.null_count();
    std::optional<std::string> min_v, max_v;
    std::optional<double> mean, stddev, p50, p95;
    int64_t distinct = 0;
    if (type == TypeId::kString || type == TypeId::kBinary) {
      StringViewSet seen(n);
      std::optional<std::string_view> lo, hi;
      for (size_t r = 0; r < n; ++r) {
        if (c.IsNull(r)) continue;
        std::string_view v = c.GetString(r);
        seen.Insert(v);
        if (!lo || v < *lo) lo = v;
        if (!hi || v > *hi) hi = v;
      }
      distinct = static_cast<int64_t>(seen.size());
      // Long values (raw JSON, comments) are cut: the column is for humans.
      if (lo) min_v = std::string(lo->substr(0, 256));
      if (hi) max_v = std::string(hi->substr(0, 256));
    } else {
      std::optional<size_t> lo_row, hi_row;
      std::vector<double> values;
      const bool numeric = type == TypeId::kInt32 || type == TypeId::kInt64 || type == TypeId::kDouble;
      Int64Set seen_i(n);
      std::unordered_set<double> seen_d;
      auto as_double = [&](size_t r) -> double {
        switch (type) {
          case TypeId::kBoolean: return c.GetBool(r) ? 1.0 : 0.0;
          case TypeId::kInt32: return c.GetInt32(r);
          case TypeId::kDouble: return c.GetDouble(r);
          default: return static_cast<double>(c.GetInt64(r));
        }
      };
      for (size_t r = 0; r < n; ++r) {
        if (c.IsNull(r)) continue;
        if (type == TypeId::kDouble) {
          seen_d.insert(c.GetDouble(r));
        } else if (type == TypeId::kInt32) {
          seen_i.Insert(c.GetInt32(r));
        } else if (type == TypeId::kBoolean) {
          seen_i.Insert(c.GetBool(r));
        } else {
          seen_i.Insert(c.GetInt64(r));
        }
        double v = as_double(r);
        if (!lo_row || v < as_double(*lo_row)) lo_row = r;
        if (!hi_row || v > as_double(*hi_row)) hi_row = r;
        if (numeric) values.push_back(v);
      }
      distinct = static_cast<int64_t>(seen_i.size() + seen_d.size());
      if (lo_row) min_v = c.ValueToString(*lo_row);
      if (hi_row) max_v = c.ValueToString(*hi_row);
      if (numeric && !values.empty()) {
        double sum = 0;
        for (double v : values) sum += v;
        mean = sum / static_cast<double>(values.size());
        if (values.size() >= 2) {
          double ss = 0;
          for (double v : values) ss += (v - *mean) * (v - *mean);
          stddev = std::sqrt(ss / static_cast<double>(values.size() - 1));
        }
        p50 = SelectQuantile(&values, 0.5);
        p95 = SelectQuantile(&values, 0.95);
      }
    }
    auto& col = out->columns();
    int i = 0;
    col[i++].AppendString(run_id);
    col[i++].AppendString(layer);
    col[i++].AppendString(table_name);
    col[i++].AppendString(table.schema()->field(ci).name);
    col[i++].AppendInt64(static_cast<int64_t>(n));
    col[i++].AppendInt64(static_cast<int64_t>(nulls));
    col[i++].AppendOptional(n == 0 ? std::nullopt : std::optional<double>(static_cast<double>(nulls) / n));
    col[i++].AppendInt64(distinct);
    col[i++].AppendOptional(min_v);
    col[i++].AppendOptional(max_v);
    col[i++].AppendOptional(mean);
    col[i++].AppendOptional(stddev);
    col[i++].AppendOptional(p50);
    col[i++].AppendOptional(p95);
    col[i++].AppendInt64(run_time_us);
    col[i++].AppendString(run_date);
  }
}

void ScanDuplicateEventIds(const RecordBatch& rows, SilverGateContext* ctx) {
  ctx->touched_partition_rows = static_cast<int64_t>(rows.num_rows());
  ctx->touched_partition_duplicates = 0;
  ctx->duplicate_examples.clear();
  if (rows.num_rows() == 0) return;
  const Column& ids = rows.column("event_id");
  StringViewSet seen(rows.num_rows());
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    if (ids.IsNull(r)) continue;
    if (!seen.Insert(ids.GetString(r))) {
      ++ctx->touched_partition_duplicates;
      if (ctx->duplicate_examples.size() < kMaxExamples) ctx->duplicate_examples.emplace_back(ids.GetString(r));
    }
  }
}

GateOutcome RunSilverGate(const RecordBatch& bronze, const RecordBatch& silver, const SilverGateContext& ctx) {
  GateOutcome out;
  Gate gate("silver", ctx.run_id, ctx.run_time_us, &out);
  const std::string table = SilverTable().full_name();
  const size_t n = silver.num_rows();
  const Column* ids = Col(silver, "event_id");
  auto any = [](size_t) { return true; };

  auto completeness = [&](const char* column, double threshold, const char* severity) {
    gate.Run(table, std::string("completeness_") + column, "completeness", severity, [&](Check& c) {
      const Column* col = Col(silver, column);
      if (MissingColumns(c, {{col, column}})) return;
      bool is_string = col->type() == TypeId::kString;
      RowCheck(
          c, n, ids, threshold, any,
          [&](size_t r) { return col->IsNull(r) || (is_string && col->GetString(r).empty()); },
          std::string(column) + " present");
    });
  };
  completeness("event_id", 1.0, "error");
  completeness("event_type", 1.0, "error");
  completeness("domain", 1.0, "error");
  completeness("region", 1.0, "error");
  completeness("event_timestamp", 1.0, "error");
  completeness("title", 0.95, "warn");
  completeness("user_normalized", 0.95, "warn");

  gate.Run(table, "valid_event_type", "validity", "warn", [&](Check& c) {
    const Column* col = Col(silver, "event_type");
    if (MissingColumns(c, {{col, "event_type"}})) return;
    std::unordered_map<std::string, int64_t> unknown;
    RowCheck(
        c, n, ids, 1.0, [&](size_t r) { return col->IsValid(r); },
        [&](size_t r) {
          bool bad = !IsKnownEventType(col->GetString(r));
          if (bad && unknown.size() < 20) ++unknown[std::string(col->GetString(r))];
          return bad;
        },
        "event_type in {edit, new, log, categorize, external}");
    c.evidence["unknown_types"] = unknown;
  });
  gate.Run(table, "valid_region", "validity", "error", [&](Check& c) {
    const Column* col = Col(silver, "region");
    if (MissingColumns(c, {{col, "region"}})) return;
    RowCheck(
        c, n, ids, 1.0, [&](size_t r) { return col->IsValid(r); },
        [&](size_t r) { return !IsKnownRegion(col->GetString(r)); }, "region is one of the five regions");
  });
  gate.Run(table, "valid_event_hour", "validity", "error", [&](Check& c) {
    const Column* col = Col(silver, "event_hour");
    if (MissingColumns(c, {{col, "event_hour"}})) return;
    RowCheck(
        c, n, ids, 1.0, any,
        [&](size_t r) { return col->IsNull(r) || col->GetInt32(r) < 0 || col->GetInt32(r) > 23; },
        "event_hour in 0-23");
  });
  gate.Run(table, "valid_namespace", "validity", "error", [&](Check& c) {
    const Column* col = Col(silver, "namespace");
    if (MissingColumns(c, {{col, "namespace"}})) return;
    RowCheck(
        c, n, ids, 1.0, [&](size_t r) { return col->IsValid(r); }, [&](size_t r) { return col->GetInt32(r) < -2; },
        "namespace >= -2");
  });
  gate.Run(table, "unique_event_id", "uniqueness", "error", [&](Check& c) {
    if (MissingColumns(c, {{ids, "event_id"}})) return;
    StringViewSet seen(n);
    int64_t dups = 0;
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : ctx.duplicate_examples) {
      if (examples.size() < kMaxExamples) examples.push_back(e);
    }
    for (size_t r = 0; r < n; ++r) {
      if (ids->IsNull(r)) continue;
      if (!seen.Insert(ids->GetString(r))) {
        ++dups;
        if (examples.size() < kMaxExamples) examples.push_back(std::string(ids->GetString(r)));
      }
    }
    int64_t rows = static_cast<int64_t>(n);
    if (ctx.touched_partition_rows >= 0 && ctx.touched_partition_duplicates >= 0) {
      rows = std::max(rows, ctx.touched_partition_rows);
      dups = std::max(dups, ctx.touched_partition_duplicates);
      c.evidence["scope"] = "touched_partitions";
    } else {
      c.evidence["scope"] = "added_rows";
    }
    c.checked = rows;
    c.failed = dups;
    c.threshold = 1.0;
    if (rows > 0) c.metric = static_cast<double>(rows - dups) / static_cast<double>(rows);
    c.ok = dups == 0;
    c.evidence["examples"] = examples;
    c.message = dups == 0 ? "event_id unique over " + std::to_string(rows) + " rows"
                          : std::to_string(dups) + " duplicate event_id rows over " + std::to_string(rows) + " rows";
  });
  gate.Run(table, "accurate_length_delta", "accuracy", "error", [&](Check& c) {
    const Column* lo = Col(silver, "length_old");
    const Column* ln = Col(silver, "length_new");
    const Column* ld = Col(silver, "length_delta");
    if (MissingColumns(c, {{lo, "length_old"}, {ln, "length_new"}, {ld, "length_delta"}})) return;
    RowCheck(
        c, n, ids, 1.0, [&](size_t r) { return lo->IsValid(r) && ln->IsValid(r); },
        [&](size_t r) {
          return ld->IsNull(r) ||
                 static_cast<int64_t>(ld->GetInt32(r)) != static_cast<int64_t>(ln->GetInt32(r)) - lo->GetInt32(r);
        },
        "length_delta = length_new - length_old");
  });
  gate.Run(table, "consistent_region_mapping", "consistency", "error", [&](Check& c) {
    const Column* dom = Col(silver, "domain");
    const Column* reg = Col(silver, "region");
    const Column* lang = Col(silver, "language");
    if (MissingColumns(c, {{dom, "domain"}, {reg, "region"}})) return;
    RowCheck(
        c, n, ids, 1.0, [&](size_t r) { return dom->IsValid(r) && reg->IsValid(r); },
        [&](size_t r) {
          RegionLanguage rl = RegionOf(dom->GetString(r));
          if (Name(rl.region) != reg->GetString(r)) return true;
          return lang && lang->IsValid(r) && lang->GetString(r) != rl.language;
        },
        "region and language match the domain table");
  });

  // Timeliness uses the bronze row of each added event (its ingest time).
  StringViewSet added(n);
  if (ids) {
    for (size_t r = 0; r < n; ++r) {
      if (ids->IsValid(r)) added.Insert(ids->GetString(r));
    }
  }
  const Column* b_ids = Col(bronze, "event_id");
  const Column* b_ts = Col(bronze, "event_timestamp");
  const Column* b_ing = Col(bronze, "ingested_at");
  std::vector<size_t> matched;
  if (b_ids && b_ts && b_ing) {
    StringViewSet used(n);
    for (size_t r = 0; r < bronze.num_rows(); ++r) {
      std::string_view id = b_ids->GetString(r);
      if (added.Contains(id) && used.Insert(id)) matched.push_back(r);
    }
  }
  gate.Run(table, "timely_event_not_future", "timeliness", "error", [&](Check& c) {
    if (MissingColumns(c, {{b_ids, "bronze event_id"}, {b_ts, "bronze event_timestamp"}, {b_ing, "bronze ingested_at"}})) {
      return;
    }
    nlohmann::json examples = nlohmann::json::array();
    int64_t max_lead = INT64_MIN;
    for (size_t r : matched) {
      ++c.checked;
      int64_t lead = b_ts->GetInt64(r) - b_ing->GetInt64(r);
      max_lead = std::max(max_lead, lead);
      if (lead > kMaxFutureSkewUs) {
        ++c.failed;
        if (examples.size() < kMaxExamples) examples.push_back(IdOf(b_ids, r));
      }
    }
    c.threshold = static_cast<double>(kMaxFutureSkewUs) / 1e6;
    if (c.checked > 0) c.metric = static_cast<double>(max_lead) / 1e6;
    c.ok = c.failed == 0;
    c.evidence["examples"] = examples;
    c.message = c.failed == 0 ? "no event_timestamp more than 10 min after its ingest time"
                              : std::to_string(c.failed) + " events dated more than 10 min after their ingest time";
  });
  gate.Run(table, "timely_ingest_lag_p95", "timeliness", "warn", [&](Check& c) {
    c.threshold = kMaxIngestLagP95Seconds;
    const Column* b_src = Col(bronze, "source");
    if (MissingColumns(c, {{b_ids, "bronze event_id"}, {b_ts, "bronze event_timestamp"}, {b_ing, "bronze ingested_at"},
                           {b_src, "bronze source"}})) {
      return;
    }
    std::vector<double> lags;
    lags.reserve(matched.size());
    for (size_t r : matched) {
      std::optional<model::SourceKind> kind = model::ParseSourceKind(b_src->GetString(r));
      if (!kind || !model::IsLiveSource(*kind)) continue;
      lags.push_back(static_cast<double>(b_ing->GetInt64(r) - b_ts->GetInt64(r)) / 1e6);
    }
    if (lags.empty()) {
      c.skipped = true;
      c.message = "replayed or synthetic source: ingest lag is meaningless";
      return;
    }
    std::sort(lags.begin(), lags.end());
    c.checked = static_cast<int64_t>(lags.size());
    c.metric = Quantile(lags, 0.95);
    c.ok = *c.metric <= kMaxIngestLagP95Seconds;
    c.evidence["p50_s"] = Quantile(lags, 0.5);
    c.evidence["max_s"] = lags.back();
    // Rows over the threshold, for records_failed.
    c.failed = lags.end() - std::upper_bound(lags.begin(), lags.end(), kMaxIngestLagP95Seconds);
    c.message = c.ok ? "p95 ingest lag within 180 s" : "p95 ingest lag above 180 s";
  });
  gate.Run(table, "volume_vs_recent_median", "volume", "warn", [&](Check& c) {
    c.metric = static_cast<double>(n);
    if (ctx.recent_run_volumes.size() < static_cast<size_t>(kVolumeRunsNeeded)) {
      c.skipped = true;
      c.message = "needs " + std::to_string(kVolumeRunsNeeded) + " previous runs, have " +
                  std::to_string(ctx.recent_run_volumes.size());
      return;
    }
    std::vector<int64_t> v(ctx.recent_run_volumes.end() - kVolumeRunsNeeded, ctx.recent_run_volumes.end());
    std::sort(v.begin(), v.end());
    double median = (static_cast<double>(v[kVolumeRunsNeeded / 2 - 1]) + static_cast<double>(v[kVolumeRunsNeeded / 2])) / 2;
    c.threshold = median;
    double lo = 0.1 * median, hi = 10 * median;
    c.checked = 1;
    c.ok = static_cast<double>(n) >= lo && static_cast<double>(n) <= hi;
    c.failed = c.ok ? 0 : 1;
    c.evidence["median"] = median;
    c.evidence["lower"] = lo;
    c.evidence["upper"] = hi;
    c.evidence["rows"] = n;
    c.message = c.ok ? "row count within 0.1x-10x of the median of the last 10 runs"
                     : "row count outside 0.1x-10x of the median of the last 10 runs";
  });

  ProfileTable(silver, "silver", table, ctx.run_id, ctx.run_time_us, &out.profile_metrics);
  return out;
}

GateOutcome RunGoldGate(const GoldResult& gold, const std::map<std::string, int64_t>& silver_rows_per_date,
                        const GoldGateContext& ctx) {
  GateOutcome out;
  Gate gate("gold", ctx.run_id, ctx.run_time_us, &out);
  const std::string hourly_name = HourlyStatsTable().full_name();
  const std::string risk_name = RiskScoresTable().full_name();
  const std::string daily_name = DailySummaryTable().full_name();

  auto reconcile = [&](const std::string& table, const RecordBatch& b, const char* date_col, const char* name) {
    gate.Run(table, name, "reconciliation", "error", [&](Check& c) {
      const Column* dc = Col(b, date_col);
      const Column* tc = Col(b, "total_events");
      if (MissingColumns(c, {{dc, date_col}, {tc, "total_events"}})) return;
      std::map<std::string, int64_t> sums;
      for (size_t r = 0; r < b.num_rows(); ++r) sums[std::string(dc->GetString(r))] += tc->GetInt64(r);
      nlohmann::json mismatches = nlohmann::json::object();
      int64_t gold_total = 0, silver_total = 0;
      for (const auto& [date, rows] : silver_rows_per_date) {
        ++c.checked;
        int64_t g = sums.count(date) ? sums[date] : 0;
        gold_total += g;
        silver_total += rows;
        if (g != rows) {
          ++c.failed;
          if (mismatches.size() < kMaxExamples) mismatches[date] = {{"gold", g}, {"silver", rows}};
        }
      }
      for (const auto& [date, g] : sums) {
        if (!silver_rows_per_date.count(date)) {
          ++c.checked;
          ++c.failed;  // gold rows for a date the run did not reconcile
          if (mismatches.size() < kMaxExamples) mismatches[date] = {{"gold", g}, {"silver", nullptr}};
        }
      }
      c.metric = static_cast<double>(gold_total);
      c.threshold = static_cast<double>(silver_total);
      c.ok = c.failed == 0;
      c.evidence["mismatches"] = mismatches;
      c.message = c.ok ? "total_events equals the silver row count on every date"
                       : std::to_string(c.failed) + " dates where total_events differs from silver";
    });
  };
  reconcile(hourly_name, gold.hourly_stats, "stat_date", "reconcile_hourly_total_events");

  gate.Run(hourly_name, "hourly_total_ge_unique_users", "consistency", "error", [&](Check& c) {
    const Column* t = Col(gold.hourly_stats, "total_events");
    const Column* u = Col(gold.hourly_stats, "unique_users");
    if (MissingColumns(c, {{t, "total_events"}, {u, "unique_users"}})) return;
    const RecordBatch& b = gold.hourly_stats;
    nlohmann::json examples = nlohmann::json::array();
    for (size_t r = 0; r < b.num_rows(); ++r) {
      ++c.checked;
      if (t->GetInt64(r) < u->GetInt64(r)) {
        ++c.failed;
        if (examples.size() < kMaxExamples) {
          examples.push_back({{"stat_date", b.column("stat_date").GetString(r)},
                              {"stat_hour", b.column("stat_hour").GetInt32(r)},
                              {"domain", b.column("domain").GetString(r)}});
        }
      }
    }
    c.threshold = 1.0;
    if (c.checked) c.metric = static_cast<double>(c.checked - c.failed) / static_cast<double>(c.checked);
    c.ok = c.failed == 0;
    c.evidence["examples"] = examples;
    c.message = c.ok ? "total_events >= unique_users in every hourly row" : "hourly rows with more users than events";
  });
  gate.Run(hourly_name, "hourly_bot_percentage_range", "validity", "error", [&](Check& c) {
    const Column* p = Col(gold.hourly_stats, "bot_percentage");
    if (MissingColumns(c, {{p, "bot_percentage"}})) return;
    RowCheck(
        c, gold.hourly_stats.num_rows(), Col(gold.hourly_stats, "domain"), 1.0, [](size_t) { return true; },
        [&](size_t r) {
          double v = p->GetDouble(r);
          return p->IsNull(r) || !(v >= 0.0 && v <= 100.0);
        },
        "bot_percentage in [0, 100]");
  });
  gate.Run(risk_name, "risk_score_range", "validity", "error", [&](Check& c) {
    const Column* s = Col(gold.risk_scores, "risk_score");
    if (MissingColumns(c, {{s, "risk_score"}})) return;
    RowCheck(
        c, gold.risk_scores.num_rows(), Col(gold.risk_scores, "entity_id"), 1.0, [](size_t) { return true; },
        [&](size_t r) { return s->IsNull(r) || s->GetInt32(r) < 0 || s->GetInt32(r) > 100; },
        "risk_score in [0, 100]");
  });
  gate.Run(risk_name, "risk_level_consistent", "consistency", "error", [&](Check& c) {
    const Column* s = Col(gold.risk_scores, "risk_score");
    const Column* l = Col(gold.risk_scores, "risk_level");
    const Column* a = Col(gold.risk_scores, "alert_triggered");
    if (MissingColumns(c, {{s, "risk_score"}, {l, "risk_level"}})) return;
    RowCheck(
        c, gold.risk_scores.num_rows(), Col(gold.risk_scores, "entity_id"), 1.0, [](size_t) { return true; },
        [&](size_t r) {
          model::RiskLevel want = model::RiskLevelFor(s->GetInt32(r));
          if (l->GetString(r) != Name(want)) return true;
          return a && a->IsValid(r) && a->GetBool(r) != (want == model::RiskLevel::kHigh);
        },
        "risk_level (and alert_triggered) follow risk_score");
  });
  reconcile(daily_name, gold.daily_summary, "summary_date", "reconcile_daily_total_events");

  ProfileTable(gold.hourly_stats, "gold", hourly_name, ctx.run_id, ctx.run_time_us, &out.profile_metrics);
  ProfileTable(gold.risk_scores, "gold", risk_name, ctx.run_id, ctx.run_time_us, &out.profile_metrics);
  ProfileTable(gold.daily_summary, "gold", daily_name, ctx.run_id, ctx.run_time_us, &out.profile_metrics);
  ProfileTable(gold.trending_pages, "gold", TrendingPagesTable().full_name(), ctx.run_id, ctx.run_time_us,
               &out.profile_metrics);
  ProfileTable(gold.top_contributors, "gold", TopContributorsTable().full_name(), ctx.run_id, ctx.run_time_us,
               &out.profile_metrics);
  return out;
}

}  // namespace ws::transform
