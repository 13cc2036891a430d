// Alert: one row of ops.alerts, as raised by the live path, the batch
// cycle's gates and the ingest supervisor, and delivered by alerts::AlertSink.
//
// Contract: a plain record. `dedup_key` is not persisted: it is the
// kind/entity/date identity that makes an alert raise once.
#pragma once

#include <cstdint>
#include <string>

namespace ws::model {

struct Alert {
  std::string alert_id;
  int64_t raised_at_us = 0;
  std::string alert_date;  // YYYY-MM-DD of the thing alerted on (the risk's day), else of raised_at
  std::string kind;        // risk | dq | pipeline | ingest
  std::string severity;    // INFO | WARNING | HIGH | CRITICAL
  std::string subject;     // one line for humans
  std::string entity;      // the user, the check, the stage
  std::string details;     // JSON object text
  bool delivered = false;
  std::string delivery_error;
  std::string dedup_key;   // not persisted as a column: kind/entity/date identity
};

// "risk|<date>|<user>": the key that makes a user's HIGH alert once per day.
std::string RiskAlertKey(const std::string& date, const std::string& user);

}  // namespace ws::model
