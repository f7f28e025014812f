// A small HTTP/1.1, WebSocket and HTTP/2 (cleartext, prior knowledge) server on ruvicorn_core: one
// thread, non-blocking POSIX sockets, level-triggered epoll. It only moves bytes between sockets
// and Protocols (protocol.hpp: Session for HTTP/1.1, H2Session for HTTP/2), which hold all the
// protocol work.
//
//   ruvicorn_example_server [--host 127.0.0.1] [--port 8000] [--parser pico|llhttp]
//
// --port 0 picks a free port. The first line on stdout is "listening on http://HOST:PORT".
// SIGINT/SIGTERM stop it (exit status 0).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "ruvicorn/connection.hpp"
#include "ruvicorn/response.hpp"
#include "protocol.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 8000;
  ruvicorn::http1::ParserKind parser = ruvicorn::http1::ParserKind::kPico;
};

bool parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (arg == "--host") {
      options.host = value;
    } else if (arg == "--port") {
      char* end = nullptr;
      const long port = std::strtol(value, &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) return false;
      options.port = static_cast<int>(port);
    } else if (arg == "--parser") {
      if (!ruvicorn::http1::parser_kind_from_name(value, options.parser)) return false;
    } else {
      return false;
    }
  }
  return true;
}

int listen_on(const Options& options, int& bound_port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options.port));
  if (inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "not an IPv4 address: %s\n", options.host.c_str());
    return -1;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "cannot listen on %s:%d: %s\n", options.host.c_str(), options.port,
                 std::strerror(errno));
    ::close(fd);
    return -1;
  }
  bound_port = ntohs(addr.sin_port);
  return fd;
}

using Clock = std::chrono::steady_clock;
// Idle keep-alive connections and slow request heads are closed after this (a 408 for the latter).
constexpr auto kIdleTimeout = std::chrono::seconds(5);
// After our last byte, how long unread input is drained before the socket is closed.
constexpr auto kLingerTimeout = std::chrono::seconds(2);

struct Client {
  Client(int socket, const ruvicorn::Limits& limits, ruvicorn::http1::ParserKind parser,
         const ruvicorn::ResponseConfig& config)
      : fd(socket), session(limits, parser, config), deadline(Clock::now() + kIdleTimeout) {}
  Fd fd;
  example::Dispatch session;
  uint32_t events = EPOLLIN;  // what epoll currently watches for this fd
  Clock::time_point deadline;
  bool lingering = false;     // write side shut down; discarding input until EOF or deadline
};

class Server {
 public:
  Server(int epoll_fd, int listen_fd, const Options& options)
      : epoll_(epoll_fd), listen_(listen_fd), parser_(options.parser) {
    limits_.max_body_size = 1024 * 1024;  // /echo keeps bodies in memory
    response_config_.server_name = "ruvicorn-example";
  }

  int run() {
    watch(listen_.get(), EPOLLIN, EPOLL_CTL_ADD);
    epoll_event events[64];
    while (!g_stop) {
      const int n = ::epoll_wait(epoll_.get(), events, 64, 500);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_.get()) {
          accept_all();
        } else {
          serve(fd, events[i].events);
        }
      }
      expire(Clock::now());
    }
    return 0;
  }

 private:
  void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_.get(), op, fd, &ev);
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error such as EMFILE: retried on next event
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto client = std::make_unique<Client>(fd, limits_, parser_, response_config_);
      watch(fd, EPOLLIN, EPOLL_CTL_ADD);
      clients_.emplace(fd, std::move(client));
    }
  }

  void serve(int fd, uint32_t events) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    Client& client = *it->second;
    if (events & EPOLLERR) {
      clients_.erase(it);  // closes the socket, which also removes it from epoll
      return;
    }
    if (client.lingering) {
      if (!drain(client)) clients_.erase(it);
      return;
    }
    if (events & (EPOLLIN | EPOLLHUP)) read_from(client);
    if (!flush(client)) {
      clients_.erase(it);
      return;
    }
    update(client);
  }

  // After a read, a write or a timeout: close, linger, or watch what the session needs next.
  void update(Client& client) {
    const int fd = client.fd.get();
    if (client.session.finished() && client.session.pending().empty()) {
      // RFC 9112 9.6: close the write side first and drain input, so the peer's unread request
      // bytes do not turn our close into a reset that destroys the response in flight.
      ::shutdown(fd, SHUT_WR);
      client.lingering = true;
      client.deadline = Clock::now() + kLingerTimeout;
      if (client.events != EPOLLIN) {
        client.events = EPOLLIN;
        watch(fd, EPOLLIN, EPOLL_CTL_MOD);
      }
      return;
    }
    uint32_t want = 0;
    if (client.session.wants_read()) want |= EPOLLIN;
    if (!client.session.pending().empty()) want |= EPOLLOUT;
    if (want != client.events) {
      client.events = want;
      watch(fd, want, EPOLL_CTL_MOD);
    }
  }

  void read_from(Client& client) {
    char buffer[64 * 1024];
    const ssize_t n = ::recv(client.fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      client.deadline = Clock::now() + kIdleTimeout;
      client.session.received(std::string_view(buffer, static_cast<std::size_t>(n)));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      client.session.peer_closed();
    }
  }

  // Discards input of a lingering client; false once the peer has closed.
  bool drain(Client& client) {
    char buffer[16 * 1024];
    const ssize_t n = ::recv(client.fd.get(), buffer, sizeof buffer, 0);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }

  void expire(Clock::time_point now) {
    for (auto it = clients_.begin(); it != clients_.end();) {
      Client& client = *it->second;
      if (now < client.deadline) {
        ++it;
      } else if (client.lingering || !client.session.pending().empty()) {
        it = clients_.erase(it);
      } else {
        client.session.timed_out();
        if (flush(client)) {
          update(client);
          ++it;
        } else {
          it = clients_.erase(it);
        }
      }
    }
  }

  // False when the peer is gone.
  bool flush(Client& client) {
    while (!client.session.pending().empty()) {
      const std::string_view data = client.session.pending();
      const ssize_t n = ::send(client.fd.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      client.deadline = Clock::now() + kIdleTimeout;
      client.session.sent(static_cast<std::size_t>(n));
    }
    return true;
  }

  Fd epoll_;
  Fd listen_;
  ruvicorn::http1::ParserKind parser_;
  ruvicorn::Limits limits_;
  ruvicorn::ResponseConfig response_config_;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "usage: %s [--host 127.0.0.1] [--port 8000] [--parser pico|llhttp]\n",
                 argv[0]);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  int port = 0;
  const int listen_fd = listen_on(options, port);
  if (listen_fd < 0) return 1;
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    ::close(listen_fd);
    std::perror("epoll_create1");
    return 1;
  }
  std::printf("listening on http://%s:%d\n", options.host.c_str(), port);
  std::fflush(stdout);
  return Server(epoll_fd, listen_fd, options).run();
}
