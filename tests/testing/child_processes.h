// Child processes of an end-to-end test: the real binary (or any program)
// started with its output appended to a log file, waited for with a bound,
// and killed when the test ends early (a failed ASSERT) so nothing outlives
// it. Header-only so any test area can use it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_util.h"

namespace ws::testing {

// A log a child process may not have created yet ("" until it has).
inline std::string ReadLog(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? ReadFile(path) : std::string();
}

// The probe address a role logged ("/metrics, /healthz and /readyz at
// http://127.0.0.1:PORT"), "" until it has.
inline std::string ProbeUrlIn(const std::string& log) {
  static const std::regex kUrl("/readyz at (http://127\\.0\\.0\\.1:[0-9]+)");
  std::smatch m;
  const std::string text = ReadLog(log);
  return std::regex_search(text, m, kUrl) ? m[1].str() : "";
}

// Starts `program` (default: the wikistream binary) with `args`, stdout and
// stderr appended to `log`. Returns the pid (or -1).
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& log, std::string program = "") {
  if (program.empty()) program = WikistreamBinary().string();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Exit status of `pid` once it ends within `limit`, else -1 (and it is
// killed). A process ended by a signal is -1 as well.
inline int WaitExit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Polls `done` every `step` until it holds or `limit` passes; its last answer.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit,
                    std::chrono::milliseconds step = std::chrono::milliseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

// ProbeUrlIn(log) once the role has logged it within `limit`, else "".
inline std::string WaitForProbeUrl(const std::string& log, std::chrono::milliseconds limit) {
  std::string url;
  WaitFor([&] { return !(url = ProbeUrlIn(log)).empty(); }, limit);
  return url;
}

// Children still running when the test ends are killed (SIGKILL) and reaped.
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() {
    for (pid_t pid : running_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  pid_t Start(const std::vector<std::string>& args, const std::string& log, const std::string& program = "") {
    pid_t pid = Spawn(args, log, program);
    if (pid > 0) running_.insert(pid);
    return pid;
  }
  int Wait(pid_t pid, std::chrono::milliseconds limit) {
    running_.erase(pid);
    return WaitExit(pid, limit);
  }
  // SIGTERM, then its exit status once it ends within `limit` (else -1, and
  // it is killed): how a supervisor stops a role.
  int Stop(pid_t pid, std::chrono::milliseconds limit) {
    kill(pid, SIGTERM);
    return Wait(pid, limit);
  }
  // SIGKILL and reap; true if it was still running (not exited by itself).
  bool Kill(pid_t pid) {
    running_.erase(pid);
    int status = 0;
    const bool running = waitpid(pid, &status, WNOHANG) == 0;
    kill(pid, SIGKILL);
    if (running) waitpid(pid, &status, 0);
    return running;
  }
  // Whether `pid` has exited (it is then reaped; *code gets its exit status, -1 for a signal).
  bool Exited(pid_t pid, int* code) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) != pid) return false;
    running_.erase(pid);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
  }

 private:
  std::set<pid_t> running_;
};

}  // namespace ws::testing
