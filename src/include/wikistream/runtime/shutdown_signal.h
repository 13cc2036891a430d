// ShutdownSignal: turns SIGINT/SIGTERM into an orderly stop.
//
// Contract: Install() blocks SIGINT and SIGTERM in the calling thread (call it
// from main's thread before starting any other thread, so every thread
// inherits the mask) and starts a thread that waits for them with sigwait.
// The first signal sets requested() and runs every registered callback once
// (e.g. Source::Stop, waking the batch scheduler); the loops then flush,
// commit and return, and the process exits 0. A second signal exits at once
// with status 130: the user insisted, and every commit is atomic, so nothing
// committed is lost (uncommitted events are re-read from the source position).
#pragma once

#include <chrono>
#include <functional>

namespace ws::runtime {

class ShutdownSignal {
 public:
  static ShutdownSignal& Instance();
  void Install();
  bool requested() const;
  // Requests shutdown from code (tests, --once completion, fatal errors).
  void Request();
  // Registers a callback run on the first request; returns an id for Remove.
  int OnRequest(std::function<void()> callback);
  // Unregisters a callback. Returns only once no callback is running on the
  // signal thread, so the callback's captures may be destroyed right after.
  void Remove(int id);
  // Sleeps up to `duration`, returning early (true) when shutdown is requested.
  bool WaitFor(std::chrono::milliseconds duration);
};

}  // namespace ws::runtime
