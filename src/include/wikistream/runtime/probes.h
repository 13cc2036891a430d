// Probes: what /healthz and /readyz answer for a long-running role that is
// not the dashboard — `bronze`, `produce`, the `batch --every` loop
// (docs/operations.md, "Health, readiness and metrics").
//
// Contract (thread-safe):
// - Health() is OK while the role's loop made progress within stall_after:
//   the loop calls Beat() each time it gets through one more iteration (an
//   idle poll counts: waiting for input is not a hang). Before the first
//   Beat() the window runs from construction. Otherwise Unavailable
//   "<loop> made no progress for N s". Between Begin(what, budget) and End()
//   the window is `budget` instead (a batch cycle or maintenance may run
//   long without a beat; a Beat() meanwhile is progress within it):
//   Unavailable "<loop> made no progress for N s (<what>, bound B s)".
//   End() is a beat and restores stall_after.
// - Ready() is Unavailable once BeginShutdown() was called ("shutting
//   down"), else while a reason set by NotReady() stands (e.g. "opening the
//   warehouse"), else what the check set by SetCheck() says (e.g. whether a
//   Kafka consumer has partitions), else OK. SetReady() clears the reason.
// - Callbacks() wires both into serve::ServerCallbacks; the object must
//   outlive the server.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "wikistream/common/status.h"
#include "wikistream/runtime/clock.h"
#include "wikistream/serve/api.h"

namespace ws::runtime {

class Probes {
 public:
  Probes(std::string loop, int64_t stall_after_us, Clock* clock = SystemClock());

  void Beat();
  void Begin(std::string what, int64_t budget_us);
  void End();
  void NotReady(std::string reason);
  void SetReady();
  void SetCheck(std::function<Status()> check);
  void BeginShutdown();

  Status Health() const;
  Status Ready() const;
  serve::ServerCallbacks Callbacks() const;

 private:
  const std::string loop_;
  const int64_t stall_after_us_;
  Clock* clock_;
  mutable std::mutex mu_;
  int64_t last_beat_us_;  // monotonic
  std::string activity_;  // Begin()'s, until End()
  int64_t activity_budget_us_ = 0;
  std::string not_ready_ = "starting";
  std::function<Status()> check_;
  bool shutting_down_ = false;
};

}  // namespace ws::runtime
