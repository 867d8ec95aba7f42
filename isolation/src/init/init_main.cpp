// ember-sandbox-init: pid 1 of a sandbox. The native backend clones it into new namespaces;
// it waits for its configuration, builds the root file system, forks the worker (which drops
// privileges, loads seccomp and execs the runtime), reports, then reaps until the worker ends.
// A separate small executable, so the engine's memory is never copied into a sandbox and the
// child side runs as ordinary code (no vfork restrictions, no sanitizer runtime).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "../init_protocol.hpp"
#include "rootfs.hpp"
#include "worker.hpp"

namespace ember::isolation::init {
namespace {

void send_message(const std::string& message) {
  (void)::send(kHandshakeFd, message.data(), message.size(), MSG_NOSIGNAL);
}

[[noreturn]] void fail(const StepFailed& failed) {
  send_message(encode(failed));
  ::_exit(1);
}

StepResult reset_signal_handling(const InitConfig&) {
  // The engine's ignored signals (SIGPIPE) survive exec; the worker must start clean.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  // SIGCHLD stays blocked and is read from a signalfd; the worker unblocks it.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  return check(::sigprocmask(SIG_SETMASK, &mask, nullptr), "sigprocmask");
}

StepResult cgroup_namespace(const InitConfig&) {
  // Now, not at clone: the engine has moved us into the sandbox's cgroup, so that becomes
  // the namespace's root and the worker sees "/" in /proc/self/cgroup.
  return check(::unshare(CLONE_NEWCGROUP), "unshare CLONE_NEWCGROUP");
}

StepResult hostname(const InitConfig& c) {
  return check(::sethostname(c.hostname.data(), c.hostname.size()), "sethostname " + c.hostname);
}

constexpr Step kPrepare[] = {
    {"signals", reset_signal_handling},
    {"cgroup namespace", cgroup_namespace},
    {"hostname", hostname},
};

std::optional<InitConfig> receive_config() {
  std::string buffer(1 << 20, '\0');
  const ssize_t n = ::recv(kHandshakeFd, buffer.data(), buffer.size(), 0);
  if (n <= 0) return std::nullopt;  // the engine went away before sending
  buffer.resize(static_cast<std::size_t>(n));
  return decode_config(buffer);
}

// Reads the worker's report pipe to EOF (execve closed it, or the worker died).
Reply read_worker_report(int fd, std::int64_t mounts_done_ns) {
  std::string text;
  char chunk[512];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  const std::int64_t exec_done_ns = monotonic_ns();
  Reply reply;
  const auto error = text.find("E ");
  if (error != std::string::npos) {
    const std::string body = text.substr(error + 2);
    const auto first = body.find('\n');
    const auto second = body.find('\n', first + 1);
    StepFailed failed{std::atoi(body.c_str()), "worker", body};
    if (first != std::string::npos && second != std::string::npos) {
      failed.step = body.substr(first + 1, second - first - 1);
      failed.call = body.substr(second + 1);
    }
    reply.failed = failed;
    return reply;
  }
  if (!text.starts_with("T ")) {
    reply.failed = StepFailed{0, "worker", "ended before exec without a report"};
    return reply;
  }
  reply.ready = Ready{mounts_done_ns, std::atoll(text.c_str() + 2), exec_done_ns};
  return reply;
}

// Reaps every child (orphans are re-parented to us) until the worker exits, and stops when
// the engine closes its end. When pid 1 exits the kernel kills the rest of the namespace.
[[noreturn]] void reap(pid_t worker) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  const int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
  for (;;) {
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != worker) continue;
      const WorkerExited exited{WIFSIGNALED(status),
                                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status)};
      send_message(encode(exited));
      ::_exit(0);
    }
    pollfd fds[2] = {{sfd, POLLIN, 0}, {kHandshakeFd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      (void)::read(sfd, &info, sizeof info);
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char byte = 0;
      if (::recv(kHandshakeFd, &byte, 1, MSG_DONTWAIT) <= 0 && errno != EAGAIN) ::_exit(0);
    }
  }
}

}  // namespace
}  // namespace ember::isolation::init

int main() {
  using namespace ember::isolation::init;
  auto config = receive_config();
  if (!config) return 2;
  if (auto failed = run_steps(kPrepare, *config)) fail(*failed);
  if (auto failed = run_steps(rootfs_steps(), *config)) fail(*failed);
  const std::int64_t mounts_done_ns = monotonic_ns();

  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) fail({errno, "fork worker", "pipe2"});
  const pid_t worker = ::fork();
  if (worker < 0) fail({errno, "fork worker", "fork"});
  if (worker == 0) {
    ::close(report[0]);
    run_worker(*config, report[1]);
  }
  ::close(report[1]);
  const Reply reply = read_worker_report(report[0], mounts_done_ns);
  ::close(report[0]);
  if (reply.failed) fail(*reply.failed);
  if (auto failed = restrict_init(*config)) fail(*failed);
  send_message(encode(*reply.ready));
  reap(worker);
}
