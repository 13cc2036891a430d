// AlertSink: raises alerts once, records them, and delivers them.
//
// Contract: Raise() is thread-safe and never blocks on the network: the alert
// is logged at once, queued for the webhook (POST application/json, 3
// attempts with backoff, 5 s timeout each) on a background thread, and kept
// for TakePending(), which the batch cycle commits to ops.alerts. An alert
// with a dedup key that was already raised (in this process, or found in
// ops.alerts at start through MarkRaised) is dropped: a user's first HIGH of a
// day raises exactly one alert whether the live path or the batch found it.
// Shutdown() waits (bounded) for queued deliveries.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace ws {

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

class AlertSink {
 public:
  explicit AlertSink(std::string webhook_url);
  ~AlertSink();
  AlertSink(const AlertSink&) = delete;
  AlertSink& operator=(const AlertSink&) = delete;

  // Returns false if the dedup key was already raised.
  bool Raise(Alert alert);
  void MarkRaised(const std::string& dedup_key);
  bool WasRaised(const std::string& dedup_key) const;
  // Alerts raised since the last call, with their delivery outcome so far.
  std::vector<Alert> TakePending();
  // Most recent alerts (newest first), for the API and dashboard.
  std::vector<Alert> Recent(size_t limit) const;
  // Called for every raised alert (e.g. to push to SSE clients and metrics).
  void SetListener(std::function<void(const Alert&)> listener);
  void Shutdown();

 private:
  void DeliveryLoop();
  bool Deliver(Alert* alert);

  std::string webhook_url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::string> raised_;
  std::deque<Alert> queue_;      // waiting for delivery
  std::vector<Alert> pending_;   // waiting to be recorded in ops.alerts
  std::deque<Alert> recent_;
  std::function<void(const Alert&)> listener_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace ws
