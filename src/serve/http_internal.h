// The cpp-httplib transport's pieces: http_httplib.cc (the adapter from
// httplib to HttpCore, lifecycle, the live stream) and http_connections.cc
// (how many connections are served at once). Private to src/serve.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "http_core.h"

namespace ws::serve {

// True on the workers of ConnectionPool's rejecting lane: the request is
// answered 503 with Retry-After without reaching the API.
bool OnRejectingWorker();

// cpp-httplib's TaskQueue, bounded: at most max_threads connections are
// served at once (workers start on demand), max_queued more wait, and the
// rest go to a small rejecting lane (on_reject is called for each).
class ConnectionPool : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t max_threads, size_t max_queued, std::function<void()> on_reject);
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued (each job closes its socket) and joins every worker.
  void shutdown() override;

 private:
  static constexpr size_t kRejectingThreads = 4;

  class Lane {
   public:
    Lane(size_t max_threads, size_t max_queued, bool rejecting);
    // Takes fn (moves from it) unless the lane is full (force: never full)
    // or stopped.
    bool Push(std::function<void()>& fn, bool force);
    void Shutdown();

   private:
    void Work();

    const size_t max_threads_;
    const size_t max_queued_;
    const bool rejecting_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    size_t idle_ = 0;    // workers waiting for a job
    size_t active_ = 0;  // jobs accepted and not finished
    bool stop_ = false;
  };

  Lane serve_;
  Lane reject_;
  std::function<void()> on_reject_;
};

}  // namespace ws::serve
