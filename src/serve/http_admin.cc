// The admin endpoints (POST /api/admin/*) start batch cycles and warehouse
// maintenance: each costs minutes of work, so a client that calls them in a
// loop is answered 429 with Retry-After before the API sees the request.
#include <algorithm>
#include <fmt/format.h>

#include "http_core.h"

namespace ws::serve {

AdminRateLimiter::AdminRateLimiter(int burst, int refill_ms)
    : burst_(std::max(1, burst)), refill_ms_(std::max(1, refill_ms)) {}

int AdminRateLimiter::Acquire(const std::string& client, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > kMaxClients) {
    // Full buckets carry no state worth keeping; drop them before growing.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = Refill(it->second, now) >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{static_cast<double>(burst_), now});
  Bucket& b = it->second;
  if (Refill(b, now) >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait_ms = (1.0 - b.tokens) * refill_ms_;
  return std::max(1, static_cast<int>((wait_ms + 999) / 1000));
}

double AdminRateLimiter::Refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double elapsed_ms = std::chrono::duration<double, std::milli>(now - b.last).count();
  b.tokens = std::min<double>(burst_, b.tokens + elapsed_ms / refill_ms_);
  b.last = now;
  return b.tokens;
}

std::optional<ApiResponse> HttpCore::AdminLimited(const ApiRequest& req, const std::string& remote_addr) {
  if (req.method != "POST" || req.path.rfind("/api/admin/", 0) != 0) return std::nullopt;
  const int wait_s = admin_limiter_.Acquire(remote_addr, std::chrono::steady_clock::now());
  if (wait_s == 0) return std::nullopt;
  ApiResponse res = ErrorResponse(429, fmt::format("too many admin requests; retry in {} s", wait_s));
  res.headers.emplace_back("Retry-After", std::to_string(wait_s));
  return res;
}

}  // namespace ws::serve
