#include "testing/s3_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace ws::testing {

S3Server::S3Server(std::string bucket) : bucket_(std::move(bucket)) {
  const std::string script = (SourceDir() / "node_modules/s3rver/bin/s3rver.js").string();
  if (::access(script.c_str(), R_OK) != 0) {
    error_ = script + " is missing: run scripts/setup (npm ci)";
    return;
  }
  const std::string data = (dir_.path() / "data").string();
  const std::string log_path = (dir_.path() / "s3rver.log").string();
  pid_ = ::fork();
  if (pid_ < 0) {
    error_ = "fork failed";
    return;
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    // Port 0: the kernel picks a free port and s3rver prints it. s3rver
    // encrypts ListObjectsV2 continuation tokens with DES, which Node's
    // OpenSSL 3 only offers through the legacy provider.
    ::execlp("node", "node", "--openssl-legacy-provider", script.c_str(), "-d", data.c_str(), "-a", "127.0.0.1", "-p", "0", "--silent",
             "--configure-bucket", bucket_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string marker = "S3rver listening on 127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    if (size_t at = text.find(marker); at != std::string::npos) {
      size_t end = text.find('\n', at);
      if (end != std::string::npos) {
        port_ = std::atoi(text.substr(at + marker.size(), end - at - marker.size()).c_str());
        if (port_ > 0) return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "s3rver exited at start: " + text;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "s3rver did not start within 30 s: " + log();
}

S3Server::~S3Server() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string S3Server::log() const {
  std::ifstream in(dir_.path() / "s3rver.log");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ws::testing
