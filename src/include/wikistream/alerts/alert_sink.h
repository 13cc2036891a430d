// AlertSink: raises alerts once, records them, and delivers them.
//
// Contract: Raise() is thread-safe and never blocks on the network: the alert
// is logged at once, queued for the webhook (POST application/json, 3
// attempts with backoff, 5 s timeout each) on a background thread, and kept
// for TakePending(), which the batch cycle commits to ops.alerts. An alert
// whose identity model::AlertKey(kind, entity, date) was already raised (in
// this process, or found in ops.alerts at start through MarkRaised) is
// dropped: ops.alerts holds one row per identity, and a user's first HIGH of
// a day raises exactly one alert whether the live path or the batch found it.
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

#include "wikistream/model/alert.h"

namespace ws::alerts {

class AlertSink {
 public:
  explicit AlertSink(std::string webhook_url);
  ~AlertSink();
  AlertSink(const AlertSink&) = delete;
  AlertSink& operator=(const AlertSink&) = delete;

  // Returns false if an alert of the same identity (model::AlertKey) was
  // already raised. An empty alert_date becomes the UTC date of raised_at.
  bool Raise(model::Alert alert);
  // Keys are model::AlertKey values.
  void MarkRaised(const std::string& alert_key);
  bool WasRaised(const std::string& alert_key) const;
  // Alerts raised since the last call, with their delivery outcome so far.
  std::vector<model::Alert> TakePending();
  // Most recent alerts (newest first), for the API and dashboard.
  std::vector<model::Alert> Recent(size_t limit) const;
  // Called for every raised alert (e.g. to push to SSE clients and metrics).
  void SetListener(std::function<void(const model::Alert&)> listener);
  void Shutdown();

 private:
  void DeliveryLoop();
  bool Deliver(model::Alert* alert);

  std::string webhook_url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::string> raised_;
  std::deque<model::Alert> queue_;      // waiting for delivery
  std::vector<model::Alert> pending_;   // waiting to be recorded in ops.alerts
  std::deque<model::Alert> recent_;
  std::function<void(const model::Alert&)> listener_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace ws::alerts
