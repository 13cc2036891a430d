// A real PostgreSQL server for tests, started and stopped by the test itself:
// Debian's `postgresql` binaries (/usr/lib/postgresql/<version>/bin, or
// WS_PG_BIN), `initdb -A trust` into a fresh directory, listening only on
// 127.0.0.1 on a free port (its Unix socket in that directory). Tests running
// as root (initdb refuses root) run the server as the `postgres` user through
// runuser. Header-only so any test area can use it.
//
// No /tmp/wikistream-pg-* directory outlives its test: the destructor and an
// exit handler (for a test that calls exit()) stop the server and delete the
// directory, and the first Start() of a process deletes the ones a crashed
// test left: those whose creator (its pid is in the directory's `owner`
// file) is gone, after stopping a postmaster that still runs there. A
// directory without an owner file (an older helper) is deleted only when no
// postmaster runs in it and it has not changed for 10 minutes, so another
// test's initdb in progress is never touched.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include "testing/test_util.h"

namespace ws::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer() {
    {
      std::lock_guard<std::mutex> lock(LiveMutex());
      Live().erase(this);
    }
    Release();
  }

  // The bin directory of the newest installed version ("" if none).
  static std::string BinDir() {
    if (const char* env = std::getenv("WS_PG_BIN")) return env;
    std::string best;
    int best_version = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      std::string bin = (e.path() / "bin").string();
      int version = std::atoi(e.path().filename().c_str());
      if (version > best_version && std::filesystem::exists(bin + "/initdb") &&
          std::filesystem::exists(bin + "/pg_ctl")) {
        best = bin;
        best_version = version;
      }
    }
    return best;
  }
  static bool Available() { return !BinDir().empty(); }

  // initdb (first call) and start; false with *error on failure.
  bool Start(std::string* error) {
    bin_ = BinDir();
    if (bin_.empty()) {
      *error = "no PostgreSQL binaries under /usr/lib/postgresql (install Debian's postgresql; scripts/setup does)";
      return false;
    }
    static std::once_flag cleaned;
    std::call_once(cleaned, [this] {
      CleanStale(bin_);
      std::atexit([] {
        std::lock_guard<std::mutex> lock(LiveMutex());
        for (PostgresServer* s : Live()) s->Release();
        Live().clear();
      });
    });
    if (dir_.empty()) {
      char tmpl[] = "/tmp/wikistream-pg-XXXXXX";
      if (!mkdtemp(tmpl)) {
        *error = "mkdtemp failed";
        return false;
      }
      dir_ = tmpl;
      std::ofstream(dir_ + "/owner") << getpid() << "\n";
      {
        std::lock_guard<std::mutex> lock(LiveMutex());
        Live().insert(this);
      }
      if (geteuid() == 0) {
        struct passwd* pw = getpwnam("postgres");
        if (!pw || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
          *error = "running as root needs the postgres user to own " + dir_;
          return false;
        }
      }
      std::string out;
      if (RunCommand(AsOwner(bin_ + "/initdb -D " + dir_ + "/data -A trust -U postgres -N -E UTF8 --no-instructions") +
                         " 2>&1",
                     &out) != 0) {
        *error = "initdb failed: " + out;
        return false;
      }
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0 || attempt > 0) port_ = FreePort();
      std::string out;
      std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                         " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
      if (RunCommand(AsOwner(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -o '" + opts + "' -w -t 60 start") +
                         " 2>&1",
                     &out) == 0) {
        running_ = true;
        return true;
      }
      *error = "pg_ctl start failed: " + out + ReadLog();
    }
    return false;
  }

  // Restarts on the same port (the data survives).
  bool Restart(std::string* error) {
    Stop(/*immediate=*/true);
    std::string out;
    std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                       " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
    if (RunCommand(AsOwner(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -o '" + opts + "' -w -t 60 start") +
                       " 2>&1",
                   &out) != 0) {
      *error = "pg_ctl start failed: " + out + ReadLog();
      return false;
    }
    running_ = true;
    return true;
  }

  // immediate: like a crash (no shutdown checkpoint, sessions cut).
  void Stop(bool immediate) {
    if (!running_) return;
    RunCommand(AsOwner(bin_ + "/pg_ctl -D " + dir_ + "/data -m " + (immediate ? "immediate" : "fast") + " -w stop") +
               " >/dev/null 2>&1");
    running_ = false;
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }  // data/ and the log are in it
  std::string Uri(const std::string& db = "postgres") const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }
  // Runs SQL with psql (unaligned, tuples only); returns psql's exit code.
  int Psql(const std::string& sql, std::string* out = nullptr, const std::string& db = "postgres") const {
    std::string quoted;
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return RunCommand(bin_ + "/psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
                          " -U postgres -d " + db + " -c '" + quoted + "' 2>&1",
                      out);
  }
  // Deletes the directories of servers whose test is gone (see the top).
  static void CleanStale(const std::string& bin) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/tmp", ec)) {
      const std::string dir = e.path().string();
      if (e.path().filename().string().rfind("wikistream-pg-", 0) != 0 || !e.is_directory(ec)) continue;
      const int owner = PidIn(dir + "/owner");
      if (owner > 0 && Alive(owner)) continue;
      const int postmaster = PidIn(dir + "/data/postmaster.pid");
      const bool running = postmaster > 0 && Alive(postmaster);
      if (owner <= 0) {
        auto changed = fs::last_write_time(dir, ec);
        if (ec || running || fs::file_time_type::clock::now() - changed < std::chrono::minutes(10)) continue;
      } else if (running) {
        RunCommand((geteuid() == 0 ? "runuser -u postgres -- " : "") + bin + "/pg_ctl -D " + dir +
                   "/data -m immediate -w stop >/dev/null 2>&1");
        // pg_ctl returns once postmaster.pid is gone, which the postmaster
        // removes a moment before it exits.
        for (int i = 0; i < 200 && Alive(postmaster); ++i) usleep(50 * 1000);
        if (Alive(postmaster)) continue;
      }
      for (int i = 0; i < 3; ++i) {  // a file still being closed can make one pass fail
        fs::remove_all(dir, ec);
        if (!ec) break;
        usleep(100 * 1000);
      }
    }
  }

  // A fresh database; its URI.
  std::string NewDatabase(const std::string& name) {
    std::string out;
    if (Psql("CREATE DATABASE " + name, &out) != 0) ADD_FAILURE() << out;
    return Uri(name);
  }

 private:
  void Release() {
    Stop(/*immediate=*/true);
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }
  static std::mutex& LiveMutex() {
    static std::mutex mu;
    return mu;
  }
  static std::set<PostgresServer*>& Live() {
    static auto* live = new std::set<PostgresServer*>();  // never destroyed: the exit handler may run after statics
    return *live;
  }
  // The number on the first line of `path`, 0 if none.
  static int PidIn(const std::string& path) {
    std::ifstream in(path);
    int pid = 0;
    return in >> pid ? pid : 0;
  }
  // A process that exists and is not a zombie (an orphaned postmaster's
  // zombie lingers until its new parent reaps it).
  static bool Alive(int pid) {
    if (kill(pid, 0) != 0 && errno != EPERM) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, comm, state;
    if (!(stat >> pid_field >> comm >> state)) return true;
    return state != "Z" && state != "X";
  }
  std::string AsOwner(const std::string& cmd) const {
    return geteuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
  }
  std::string ReadLog() const {
    std::error_code ec;
    return std::filesystem::exists(dir_ + "/log", ec) ? "\n" + ReadFile(dir_ + "/log") : "";
  }

 public:
  // A loopback port nothing listens on right now.
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof(a);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
  }

 private:

  std::string bin_;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace ws::testing
