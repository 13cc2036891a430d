// Alert: one row of ops.alerts, as raised by the live path, the batch
// cycle's gates and stages and the ingest supervisor, and delivered by
// alerts::AlertSink.
//
// Contract: an alert's identity is (kind, entity, date): AlertKey() is the
// one dedup key every raiser and the sink use, so ops.alerts holds at most
// one row per identity and the webhook is called once for it. `alert_date`
// is the day the alert is about (the scored day of a `risk` alert), else the
// UTC day it was raised. Name() gives the exact `kind` and `severity` texts.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class AlertKind : uint8_t { kRisk, kDq, kPipeline, kIngest };
inline constexpr std::array<std::string_view, 4> kAlertKindNames = {"risk", "dq", "pipeline", "ingest"};
constexpr std::string_view Name(AlertKind k) { return NameIn(kAlertKindNames, k); }
constexpr std::optional<AlertKind> ParseAlertKind(std::string_view s) { return ParseIn<AlertKind>(kAlertKindNames, s); }
WS_MODEL_ENUM_TO_JSON(AlertKind)

enum class AlertSeverity : uint8_t { kInfo, kWarning, kHigh, kCritical };
inline constexpr std::array<std::string_view, 4> kAlertSeverityNames = {"INFO", "WARNING", "HIGH", "CRITICAL"};
constexpr std::string_view Name(AlertSeverity s) { return NameIn(kAlertSeverityNames, s); }
constexpr std::optional<AlertSeverity> ParseAlertSeverity(std::string_view s) {
  return ParseIn<AlertSeverity>(kAlertSeverityNames, s);
}
WS_MODEL_ENUM_TO_JSON(AlertSeverity)

struct Alert {
  std::string alert_id;
  int64_t raised_at_us = 0;
  std::string alert_date;  // YYYY-MM-DD of the thing alerted on (the risk's day), else of raised_at
  AlertKind kind = AlertKind::kPipeline;
  AlertSeverity severity = AlertSeverity::kCritical;
  std::string subject;  // one line for humans
  std::string entity;   // the user, the gate, the stage, the source
  std::string details;  // JSON object text
  bool delivered = false;
  std::string delivery_error;
};

// The dedup key of the identity (kind, entity, date): "<kind>|<date>|<entity>".
// The date is YYYY-MM-DD and the entity comes last, so any entity text gives
// a distinct key.
std::string AlertKey(AlertKind kind, std::string_view entity, std::string_view date);
inline std::string AlertKey(const Alert& alert) { return AlertKey(alert.kind, alert.entity, alert.alert_date); }

}  // namespace ws::model
