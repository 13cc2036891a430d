#include "wikistream/runtime/clock.h"

#include <chrono>

#include "wikistream/common/time.h"

namespace ws::runtime {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowMicros() const override { return ws::NowMicros(); }
  int64_t MonotonicMicros() const override { return ws::MonotonicMicros(); }
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, int64_t micros,
               const std::function<bool()>& wake) override {
    return cv.wait_for(lock, std::chrono::microseconds(micros > 0 ? micros : 0), wake);
  }
};

}  // namespace

Clock* SystemClock() {
  static RealClock* clock = new RealClock();  // never destroyed: threads may outlive main
  return clock;
}

}  // namespace ws::runtime
