#include "wikistream/runtime/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "wikistream/common/logging.h"

namespace ws::runtime {
namespace {

struct State {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> requested{false};
  std::map<int, std::function<void()>> callbacks;
  // The thread running copied callbacks, if any: Remove() waits for it, since
  // a callback's captures may die as soon as its owner's Remove() returns.
  std::thread::id dispatching;
  int next_id = 1;
  bool installed = false;
};

State& GetState() {
  static State* state = new State();  // never destroyed: the signal thread may outlive main
  return *state;
}

}  // namespace

ShutdownSignal& ShutdownSignal::Instance() {
  static ShutdownSignal instance;
  return instance;
}

void ShutdownSignal::Install() {
  State& s = GetState();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.installed) return;
    s.installed = true;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set]() {
    int count = 0;
    auto first_at = std::chrono::steady_clock::now();
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      // Tools like `timeout` or a terminal may deliver the same request twice
      // in quick succession; only a deliberate second signal forces the exit.
      if (count > 0 && std::chrono::steady_clock::now() - first_at < std::chrono::seconds(1)) continue;
      if (count == 0) first_at = std::chrono::steady_clock::now();
      if (++count > 1) {
        log::Warn("app", "second signal: exiting immediately (committed data is safe)");
        _exit(130);
      }
      log::Info("app", "received {}: committing buffered data and stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      Instance().Request();
    }
  }).detach();
}

bool ShutdownSignal::requested() const { return GetState().requested.load(); }

void ShutdownSignal::Request() {
  State& s = GetState();
  std::map<int, std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.requested.exchange(true)) return;
    callbacks = s.callbacks;
    s.dispatching = std::this_thread::get_id();
  }
  s.cv.notify_all();
  for (auto& [id, cb] : callbacks) cb();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.dispatching = std::thread::id();
  }
  s.cv.notify_all();
}

int ShutdownSignal::OnRequest(std::function<void()> callback) {
  State& s = GetState();
  std::unique_lock<std::mutex> lock(s.mu);
  int id = s.next_id++;
  if (s.requested.load()) {
    lock.unlock();
    callback();
    return id;
  }
  s.callbacks[id] = std::move(callback);
  return id;
}

void ShutdownSignal::Remove(int id) {
  State& s = GetState();
  std::unique_lock<std::mutex> lock(s.mu);
  s.callbacks.erase(id);
  // Request() runs a copy of the callbacks outside the lock; the one just
  // removed may still be running (e.g. inside PipelineService::Stop while
  // Run() already returned). A callback removing itself must not wait.
  s.cv.wait(lock, [&] {
    return s.dispatching == std::thread::id() || s.dispatching == std::this_thread::get_id();
  });
}

bool ShutdownSignal::WaitFor(std::chrono::milliseconds duration) {
  State& s = GetState();
  std::unique_lock<std::mutex> lock(s.mu);
  return s.cv.wait_for(lock, duration, [&] { return s.requested.load(); });
}

}  // namespace ws::runtime
