// Bounds what connections can hold. cpp-httplib gives every connection a
// worker thread for its whole life (keep-alive included), so the number of
// workers is the number of connections served at once. ConnectionPool
// starts workers on demand up to a bound, queues a few connections beyond
// it, and hands the rest to a small rejecting lane whose workers answer
// every request 503 with Retry-After (see the pre-routing handler) instead
// of letting the listen queue grow until clients time out.
#include <algorithm>

#include "http_internal.h"

namespace ws::serve {

namespace {

thread_local bool t_rejecting = false;

}  // namespace

bool OnRejectingWorker() { return t_rejecting; }

ConnectionPool::Lane::Lane(size_t max_threads, size_t max_queued, bool rejecting)
    : max_threads_(std::max<size_t>(1, max_threads)), max_queued_(max_queued), rejecting_(rejecting) {}

bool ConnectionPool::Lane::Push(std::function<void()>& fn, bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return false;
  // Counted from acceptance to the end of the job, so a worker that has
  // not yet picked its job up still counts as busy.
  if (!force && active_ >= max_threads_ + max_queued_) return false;
  ++active_;
  jobs_.push_back(std::move(fn));
  if (jobs_.size() > idle_ && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Work(); });
  } else {
    cv_.notify_one();
  }
  return true;
}

void ConnectionPool::Lane::Work() {
  t_rejecting = rejecting_;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    --idle_;
    // On shutdown the queued connections still run: each one closes its socket.
    if (jobs_.empty()) return;
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
    --active_;
  }
}

void ConnectionPool::Lane::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  // No new thread starts once stop_ is set, so the list is stable.
  for (auto& t : threads_) t.join();
}

ConnectionPool::ConnectionPool(size_t max_threads, size_t max_queued, std::function<void()> on_reject)
    : serve_(max_threads, max_queued, false), reject_(kRejectingThreads, 0, true), on_reject_(std::move(on_reject)) {}

void ConnectionPool::enqueue(std::function<void()> fn) {
  if (serve_.Push(fn, false)) return;
  if (on_reject_) on_reject_();
  // The rejecting lane takes every connection the serving lane cannot: each
  // one still owns a socket that only running its job closes.
  if (!reject_.Push(fn, true) && fn) fn();
}

void ConnectionPool::shutdown() {
  serve_.Shutdown();
  reject_.Shutdown();
}

}  // namespace ws::serve
