#include "ember/bench/baselines.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "ember/bench/progress.hpp"
#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"

extern char** environ;  // NOLINT: POSIX

namespace ember::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWaitMs = 10'000;  // a runtime that has not called by then is broken

// A socket descriptor, closed on scope exit.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

// A listening socket on 127.0.0.1 with an ephemeral port.
Socket listen_loopback(std::uint16_t& port, int backlog = 16) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  // sockaddr_in is what the socket API takes as a generic sockaddr.
  auto* generic = reinterpret_cast<sockaddr*>(&addr);  // NOLINT
  if (s.get() < 0 || ::bind(s.get(), generic, len) != 0 || ::listen(s.get(), backlog) != 0 ||
      ::getsockname(s.get(), generic, &len) != 0) {
    throw std::runtime_error("loopback listener: " + std::system_category().message(errno));
  }
  port = ntohs(addr.sin_port);
  return s;
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) > 0;
}

// Reads from fd until `buffer` holds a full request head; false on EOF or timeout.
bool read_head(int fd, std::string& buffer) {
  char chunk[4096];
  while (buffer.find("\r\n\r\n") == std::string::npos) {
    if (!wait_readable(fd, kWaitMs)) return false;
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

// Accepts the runtime's connection and waits for its first request head.
bool wait_for_next(int listener) {
  if (!wait_readable(listener, kWaitMs)) return false;
  Socket conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (conn.get() < 0) return false;
  std::string head;
  return read_head(conn.get(), head) && head.starts_with("GET ") &&
         head.find("/runtime/invocation/next") != std::string::npos;
}

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

void write_oci_config(const fs::path& bundle, std::uint16_t port) {
  namespace json = boost::json;
  json::object process{
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", json::array{"/bootstrap"}},
      {"env", json::array{"PATH=/", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(port)}},
      {"cwd", "/"},
      {"noNewPrivileges", true},
  };
  json::array mounts{
      json::object{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      json::object{{"destination", "/dev"},
                   {"type", "tmpfs"},
                   {"source", "tmpfs"},
                   {"options", json::array{"nosuid", "strictatime", "mode=755", "size=65536k"}}},
  };
  // No "network" namespace: the container shares the host's, so 127.0.0.1 is the bench's.
  json::array namespaces{json::object{{"type", "pid"}}, json::object{{"type", "ipc"}},
                         json::object{{"type", "uts"}}, json::object{{"type", "mount"}}};
  const json::object config{
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "ember-bench"},
      {"mounts", mounts},
      {"linux", {{"namespaces", namespaces}}},
  };
  std::ofstream(bundle / "config.json") << json::serialize(config);
}

// What a timed start runs: argv[0] a path, the whole environment, stdout and stderr to
// `output` (/dev/null when empty).
struct TimedCommand {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::filesystem::path cwd;  // empty: the bench's
  std::filesystem::path output;
};

TimedCommand runtime_command(const BootstrapCommand& command, std::uint16_t port) {
  TimedCommand out{command.argv, {}, command.cwd, {}};
  for (const auto& [key, value] : command.env) {
    if (key != "AWS_LAMBDA_RUNTIME_API") {
      out.env.push_back(std::string(key).append("=").append(value));
    }
  }
  out.env.push_back("AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(port));
  return out;
}

// The baselines' own start, inside the timed span: posix_spawn, the call ember's process
// backend makes (vfork-like, nothing of the bench's memory is copied). Boost.Process v2
// cannot stand in here: its default launcher forks, which copies the bench's page tables
// and costs 4-80x a posix_spawn depending on the bench's memory, and 1.81's vfork launcher
// runs Asio's fork notification inside the vfork child, in memory the parent shares. The
// caller adopts the pid (ChildProcess::adopt) once the clock has stopped, so setting up its
// ownership is not timed either.
pid_t spawn_timed(TimedCommand& command) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string out = command.output.empty() ? "/dev/null" : command.output.string();
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (!command.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, command.cwd.c_str());
  std::vector<char*> argv;
  for (auto& a : command.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (auto& e : command.env) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + command.argv.at(0) + ": " +
                             std::system_category().message(rc));
  }
  return pid;
}

// An untimed command (runc kill, runc delete), given at most 5 s.
void run_to_end(std::vector<std::string> argv, const fs::path& output) {
  client::ChildOptions options;
  options.argv = std::move(argv);
  options.output = output;
  client::ChildProcess child(options);
  child.wait_for(std::chrono::seconds(5));
}

}  // namespace

std::vector<double> spawn_to_next_us(const BootstrapCommand& command, std::size_t n,
                                     Progress* progress) {
  std::uint16_t port = 0;
  const Socket listener = listen_loopback(port);
  auto timed = runtime_command(command, port);
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const pid_t pid = spawn_timed(timed);
    const bool called = wait_for_next(listener.get());
    const double us = us_since(start);
    auto child = client::ChildProcess::adopt(pid);
    if (!called) throw std::runtime_error(command.argv.at(0) + " never called next");
    out.push_back(us);
    child.stop(std::chrono::milliseconds(0));
    if (progress != nullptr) progress->tick();
  }
  return out;
}

SpawnRate spawn_rate(const BootstrapCommand& command, std::size_t n, std::size_t concurrency,
                     Progress* progress) {
  concurrency = std::clamp<std::size_t>(concurrency, 1, std::max<std::size_t>(n, 1));
  std::vector<std::vector<double>> per_thread(concurrency);
  std::vector<std::string> errors(concurrency);
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < concurrency; ++t) {
      // n split as evenly as it goes: the first n % concurrency threads take one more.
      const std::size_t share = n / concurrency + (t < n % concurrency ? 1 : 0);
      threads.emplace_back([&, t, share] {
        try {
          per_thread[t] = spawn_to_next_us(command, share, progress);
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    }
  }  // joins
  SpawnRate out;
  out.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::size_t t = 0; t < concurrency; ++t) {
    if (!errors[t].empty()) throw std::runtime_error(errors[t]);
    out.us.insert(out.us.end(), per_thread[t].begin(), per_thread[t].end());
  }
  return out;
}

void with_parked_runtimes(const BootstrapCommand& command, std::size_t n,
                          const std::function<void(const std::vector<pid_t>&)>& measure,
                          Progress* progress) {
  std::uint16_t port = 0;
  const Socket listener = listen_loopback(port, static_cast<int>(std::min<std::size_t>(n, 4096)));
  auto timed = runtime_command(command, port);
  std::vector<Socket> connections;             // held open, never answered: each waits in recv
  std::vector<client::ChildProcess> children;  // declared last, so killed first
  children.reserve(n);
  connections.reserve(n);
  std::vector<pid_t> pids;
  for (std::size_t i = 0; i < n; ++i) {
    children.push_back(client::ChildProcess::adopt(spawn_timed(timed)));
    pids.push_back(children.back().pid());
    if (!wait_readable(listener.get(), kWaitMs)) {
      throw std::runtime_error(command.argv.at(0) + " never connected");
    }
    connections.emplace_back(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    std::string head;
    if (connections.back().get() < 0 || !read_head(connections.back().get(), head)) {
      throw std::runtime_error(command.argv.at(0) + " never called next");
    }
    if (progress != nullptr) progress->tick();
  }
  measure(pids);
}  // children are killed and reaped, then the connections and the listener closed

std::vector<double> runc_to_next_us(const fs::path& runc, const fs::path& static_bootstrap,
                                    std::size_t n) {
  std::uint16_t port = 0;
  const Socket listener = listen_loopback(port);
  client::TempDir bundle("ember-bench-oci-");
  fs::create_directories(bundle.path() / "rootfs");
  fs::copy_file(static_bootstrap, bundle.path() / "rootfs" / "bootstrap");
  write_oci_config(bundle.path(), port);
  const auto log = bundle.path() / "runc.log";
  std::vector<std::string> inherited_env;
  for (char** e = environ; *e != nullptr; ++e) inherited_env.emplace_back(*e);  // NOLINT

  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string id = "ember-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    TimedCommand run_command{
        {runc.string(), "run", "--bundle", bundle.path().string(), id}, inherited_env, {}, log};
    const auto start = Clock::now();
    const pid_t pid = spawn_timed(run_command);
    const bool called = wait_for_next(listener.get());
    const double us = us_since(start);
    auto run = client::ChildProcess::adopt(pid);
    // The closed connection ends the runtime, and with it `runc run`; make sure of both.
    if (!run.wait_for(std::chrono::seconds(5))) {
      run_to_end({runc.string(), "kill", id, "KILL"}, log);
      run.stop(std::chrono::seconds(1));
    }
    run_to_end({runc.string(), "delete", "--force", id}, log);
    if (!called) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      throw std::runtime_error("runc run: the bootstrap never called next. " + text);
    }
    out.push_back(us);
  }
  return out;
}

std::vector<double> loopback_rtt_us(ClientKind client, const std::string& payload, std::size_t n) {
  std::uint16_t port = 0;
  const Socket listener = listen_loopback(port);
  // The server: one connection, answered request by request until the client closes it.
  std::thread server([fd = listener.get()] {
    if (!wait_readable(fd, kWaitMs)) return;
    Socket conn(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    const int one = 1;
    ::setsockopt(conn.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
        "{\"ok\":true}";
    std::string buffer;
    while (read_head(conn.get(), buffer)) {
      const auto head_end = buffer.find("\r\n\r\n") + 4;
      std::size_t body = 0;
      const auto cl = buffer.find("ontent-Length: ");  // Beast and curl both send this case
      if (cl != std::string::npos && cl < head_end) body = std::stoul(buffer.substr(cl + 15));
      char chunk[4096];
      while (buffer.size() < head_end + body) {
        const auto got = ::recv(conn.get(), chunk, sizeof chunk, 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(got));
      }
      buffer.erase(0, head_end + body);
      if (::send(conn.get(), kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL) < 0) return;
    }
  });

  std::vector<double> out;
  {
    auto http = make_client(client, {.host = "127.0.0.1", .port = port, .sign_as = std::nullopt});
    for (std::size_t i = 0; i < n + 1; ++i) {
      const auto reply = http->post("/", payload, false);
      if (!reply.ok) break;
      if (i > 0) out.push_back(reply.total_us);  // the first one pays for connect
    }
  }  // the client's connection closes here, which ends the server's loop
  server.join();
  if (out.size() != n) throw std::runtime_error("loopback baseline: the round trip failed");
  return out;
}

}  // namespace ember::bench
