// A TCP forwarder on 127.0.0.1 that can cut a connection at a chosen
// moment: the next client write containing a given text is forwarded to the
// server (or not), and then the client's side is closed before any answer
// reaches it — the "connection lost after sending the commit" case. With
// forward=true the server side stays open (answers are discarded) until the
// server closes it, so the server's session lives on as it would behind a
// network partition.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ws::testing {

class TcpCutProxy {
 public:
  explicit TcpCutProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listen_fd_, 64);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TcpCutProxy() {
    stop_ = true;
    thread_.join();
    for (auto& p : pairs_) {
      if (p.client >= 0) close(p.client);
      if (p.server >= 0) close(p.server);
    }
    close(listen_fd_);
  }

  int port() const { return port_; }
  void ArmCut(std::string needle, bool forward) {
    std::lock_guard<std::mutex> lock(mu_);
    needle_ = std::move(needle);
    forward_ = forward;
    cuts_ = 0;
  }
  int cuts() const { return cuts_.load(); }

 private:
  struct Pair {
    int client = -1;
    int server = -1;
  };

  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  static void WriteAll(int fd, const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return;
      data += w;
      n -= static_cast<size_t>(w);
    }
  }

  void Loop() {
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& p : pairs_) {
        fds.push_back({p.client, static_cast<short>(p.client >= 0 ? POLLIN : 0), 0});
        fds.push_back({p.server, static_cast<short>(p.server >= 0 ? POLLIN : 0), 0});
      }
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          int s = Connect();
          if (s < 0) {
            close(c);
          } else {
            pairs_.push_back({c, s});
          }
        }
      }
      const size_t n = fds.size();
      for (size_t i = 1; i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Pair& p = pairs_[(i - 1) / 2];
        const bool from_client = (i - 1) % 2 == 0;
        int from = from_client ? p.client : p.server;
        if (from < 0) continue;
        ssize_t r = recv(from, buf.data(), buf.size(), 0);
        if (r <= 0) {
          if (p.client >= 0) close(p.client);
          if (p.server >= 0) close(p.server);
          p.client = p.server = -1;
          continue;
        }
        if (from_client) {
          bool cut = false, forward = false;
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (!needle_.empty() && std::string(buf.data(), static_cast<size_t>(r)).find(needle_) != std::string::npos) {
              cut = true;
              forward = forward_;
              needle_.clear();
            }
          }
          if (cut) {
            if (forward) WriteAll(p.server, buf.data(), static_cast<size_t>(r));
            close(p.client);
            p.client = -1;
            if (!forward) {
              close(p.server);
              p.server = -1;
            }
            cuts_++;
            continue;
          }
          if (p.server >= 0) WriteAll(p.server, buf.data(), static_cast<size_t>(r));
        } else if (p.client >= 0) {
          WriteAll(p.client, buf.data(), static_cast<size_t>(r));
        }  // else: the client was cut; the server's answer is discarded
      }
    }
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<Pair> pairs_;  // only the loop thread touches it
  std::mutex mu_;
  std::string needle_;
  bool forward_ = false;
  std::atomic<int> cuts_{0};
};

}  // namespace ws::testing
