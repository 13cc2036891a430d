// Test doubles for the runtime: a clock whose time moves only when the test
// says so, the payloads a ScriptedSource (testing/scripted_source.h) plays,
// and the value of a published counter.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <set>

#include "wikistream/common/time.h"
#include "wikistream/runtime/clock.h"
#include "wikistream/source/source.h"
#include "wikistream/source/synthetic_source.h"
#include "testing/scripted_source.h"

namespace ws::runtime::testing {

using ws::testing::ScriptedSource;

// Time stands still until Advance(). WaitFor blocks (in real time) until
// its wake condition holds or the fake time reaches its deadline; Advance
// returns once every waiter whose deadline passed has run on and is waiting
// again (or has not come back within a few seconds: the caller's
// expectation then fails on its own).
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t wall_start_us) : wall_start_us_(wall_start_us) {}

  int64_t NowMicros() const override { return wall_start_us_ + elapsed_.load(); }
  int64_t MonotonicMicros() const override { return elapsed_.load(); }

  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t micros,
               const std::function<bool()>& wake) override {
    const int64_t deadline = elapsed_.load() + micros;
    int id;
    {
      std::lock_guard<std::mutex> g(mu_);
      id = next_id_++;
      waiters_[id] = {deadline, &cv};
      waits_.push_back(micros);
    }
    while (!wake() && elapsed_.load() < deadline) cv.wait_for(lock, std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> g(mu_);
    waiters_.erase(id);
    return wake();
  }

  // Moves time on by `micros`, then waits until `settled` threads wait
  // again with a deadline in the future.
  void Advance(int64_t micros, int settled = 1) {
    elapsed_ += micros;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto& [id, w] : waiters_) w.cv->notify_all();
    }
    for (int i = 0; i < 5000; ++i) {
      if (Settled(settled)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // Advance in steps of `step` up to `micros` in total.
  void AdvanceBy(int64_t micros, int64_t step, int settled = 1) {
    for (int64_t done = 0; done < micros; done += step) Advance(step, settled);
  }

  // Every wait asked for, in order (micros).
  std::vector<int64_t> waits() const {
    std::lock_guard<std::mutex> g(mu_);
    return waits_;
  }
  bool HasWaiterFor(int64_t micros) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [id, w] : waiters_) {
      if (w.deadline - elapsed_.load() == micros) return true;
    }
    return false;
  }

 private:
  struct Waiter {
    int64_t deadline;
    std::condition_variable* cv;
  };
  bool Settled(int n) const {
    std::lock_guard<std::mutex> g(mu_);
    int waiting = 0;
    for (const auto& [id, w] : waiters_) {
      if (w.deadline <= elapsed_.load()) return false;
      ++waiting;
    }
    return waiting >= n;
  }

  const int64_t wall_start_us_;
  std::atomic<int64_t> elapsed_{0};
  mutable std::mutex mu_;
  std::map<int, Waiter> waiters_;
  std::vector<int64_t> waits_;
  int next_id_ = 0;
};

// `n` well-formed synthetic events with distinct ids and no canary: each
// becomes one bronze row.
inline std::vector<std::string> SyntheticPayloads(size_t n, uint64_t seed = 3) {
  source::SyntheticGenerator gen(seed, source::kSyntheticDefaultStartUs, 200, /*malformed_share=*/0);
  std::vector<std::string> out;
  std::set<std::string> ids;
  while (out.size() < n) {
    std::string line = gen.Next();
    auto j = nlohmann::json::parse(line);
    if (j["meta"]["domain"] == "canary" || !ids.insert(j["meta"]["id"].get<std::string>()).second) continue;
    out.push_back(std::move(line));
  }
  return out;
}

// The value of counter `family`{label=value} in `registry`; -1 if absent.
inline double CounterValue(prometheus::Registry& registry, const std::string& family, const std::string& value) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (!m.label.empty() && m.label[0].value == value) return m.counter.value;
    }
  }
  return -1;
}

}  // namespace ws::runtime::testing
