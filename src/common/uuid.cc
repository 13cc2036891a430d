#include "wikistream/common/uuid.h"

#include <fmt/format.h>

#include <unistd.h>

#include <mutex>
#include <random>

namespace ws {

std::string NewUuid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static pid_t seeded_pid = ::getpid();
  uint64_t hi, lo;
  {
    std::lock_guard<std::mutex> lock(mu);
    // A forked child inherits the generator's state: reseed, or parent and
    // child would hand out the same "unique" ids (file names, commit ids).
    if (pid_t pid = ::getpid(); pid != seeded_pid) {
      rng.seed(std::random_device{}());
      seeded_pid = pid;
    }
    hi = rng();
    lo = rng();
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                     lo & 0xffffffffffffULL);
}

}  // namespace ws
