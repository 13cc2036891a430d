// Clock: the time a long-running service reads and waits on, so tests can
// drive schedules, backoffs and stall detection with a fake one.
//
// Contract: NowMicros() is the wall clock (UTC micros: alert dates),
// MonotonicMicros() never goes back (schedules, backoff, stall windows).
// WaitFor() is called with `lock` held; it returns as soon as `wake()` is
// true (checked under `lock`; whoever changes what `wake` reads notifies
// `cv`) or once `micros` have passed on this clock, and returns `wake()`.
// SystemClock() is the real time; it is thread-safe and lives forever.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace ws::runtime {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  virtual int64_t MonotonicMicros() const = 0;
  virtual bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t micros,
                       const std::function<bool()>& wake) = 0;
};

Clock* SystemClock();

}  // namespace ws::runtime
