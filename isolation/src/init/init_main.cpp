// ember-sandbox-init: pid 1 of a sandbox. The native backend clones it into new namespaces;
// it waits for its configuration, builds the root file system, reports, waits for the launch
// (at once, or when a prepared sandbox is taken), forks the worker (which drops privileges,
// loads seccomp and execs the runtime), reports, then reaps until the worker ends.
// A separate small executable, so the engine's memory is never copied into a sandbox and the
// child side runs as ordinary code (no vfork restrictions, no sanitizer runtime).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

#include "../init_protocol.hpp"
#include "arm.hpp"
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

StepResult reset_signal_handling(const InitConfig& /*config*/) {
  // The engine's ignored signals (SIGPIPE) survive exec; init starts clean too.
  if (auto r = reset_signal_dispositions()) return r;
  // SIGCHLD stays blocked and is read from a signalfd; the worker unblocks it.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): init has one thread.
  return check(::sigprocmask(SIG_SETMASK, &mask, nullptr), "sigprocmask");
}

StepResult cgroup_namespace(const InitConfig& /*config*/) {
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

// One datagram from the engine; nullopt when it went away before sending. Sized by a peek,
// so an idle sandbox's init holds no big buffer (it counts in every idle worker's memory).
std::optional<std::string> receive_message() {
  ssize_t size = 0;
  do {
    size = ::recv(kHandshakeFd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size <= 0) return std::nullopt;
  std::string buffer(static_cast<std::size_t>(size), '\0');
  ssize_t n = 0;
  do {
    n = ::recv(kHandshakeFd, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n != size) return std::nullopt;
  return buffer;
}

// The decimal number `text` starts with; 0 when it starts with none.
template <class Int>
Int leading_number(std::string_view text) {
  Int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} ? value : 0;
}

// The worker's failure report "E <errno>\n<step>\n<call>", or a generic one.
StepFailed worker_failure(const std::string& text) {
  const auto error = text.find("E ");
  if (error == std::string::npos) return StepFailed{0, "worker", "ended without a report"};
  const std::string body = text.substr(error + 2);
  const auto first = body.find('\n');
  const auto second = body.find('\n', first + 1);
  StepFailed failed{leading_number<int>(body), "worker", body};
  if (first != std::string::npos && second != std::string::npos) {
    failed.step = body.substr(first + 1, second - first - 1);
    failed.call = body.substr(second + 1);
  }
  return failed;
}

// Reads the worker's report pipe until `done` says the text is complete, or to EOF.
template <class Done>
std::string read_report(int fd, Done done) {
  std::string text;
  char chunk[512];
  while (!done(text)) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return text;
}

// "A <ns>": the worker dropped its privileges and loaded the filter; its CLOCK_MONOTONIC time.
std::int64_t wait_until_armed(int report_fd) {
  const std::string text =
      read_report(report_fd, [](const std::string& t) { return t.starts_with("A "); });
  if (!text.starts_with("A ")) fail(worker_failure(text));
  return leading_number<std::int64_t>(std::string_view(text).substr(2));
}

// Reads the worker's report to EOF (its execve closed the pipe, or it died), unless the
// engine closes the handshake first: then the sandbox was never used and init just exits.
std::string wait_for_exec(int report_fd) {
  for (;;) {
    // No POLLIN on the report pipe: init wakes once, when the worker's execve (or its death)
    // closes the write end, not also at the "T" the worker writes right before it, which
    // would take a CPU from the exec.
    pollfd fds[2] = {{kHandshakeFd, POLLIN, 0}, {report_fd, 0, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if ((fds[1].revents & (POLLHUP | POLLERR)) != 0) {
      std::string text;
      char chunk[512];
      for (;;) {
        const ssize_t n = ::read(report_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(chunk, static_cast<std::size_t>(n));
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char byte = 0;
      if (::recv(kHandshakeFd, &byte, 1, MSG_DONTWAIT) == 0) ::_exit(0);
    }
  }
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
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      (void)::read(sfd, &info, sizeof info);
    }
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char byte = 0;
      if (::recv(kHandshakeFd, &byte, 1, MSG_DONTWAIT) <= 0 && errno != EAGAIN) ::_exit(0);
    }
  }
}

}  // namespace
}  // namespace ember::isolation::init

int main() {
  using namespace ember::isolation::init;
  auto message = receive_message();
  if (!message) return 2;
  auto config = decode_config(*message);
  if (!config) return 2;
  if (auto failed = run_steps(kPrepare, *config)) fail(*failed);
  if (auto failed = run_steps(rootfs_steps(*config), *config)) fail(*failed);
  const std::int64_t mounts_done_ns = monotonic_ns();
  const sched_param normal{0};

  if (config->adopt) {
    // The worker comes from outside (the Python zygote): nothing to fork, nothing to launch.
    ::close(kLaunchFd);
    if (::sched_setscheduler(0, SCHED_OTHER, &normal) < 0) {
      fail({errno, "scheduling policy", "sched_setscheduler SCHED_OTHER"});
    }
    if (auto failed = restrict_init(arm_spec(*config))) fail(*failed);
    message.reset();
    send_message(encode(Prepared{mounts_done_ns}));
    reap(kAdoptedWorkerPid);
  }

  // The worker is forked and armed now, while the sandbox is prepared: a cold start then
  // costs only the Launch's trip through a pipe and the runtime's execve.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) fail({errno, "fork worker", "pipe2"});
  const pid_t worker = ::fork();
  if (worker < 0) fail({errno, "fork worker", "fork"});
  if (worker == 0) {
    ::close(report[0]);
    run_worker(*config, report[1]);
  }
  ::close(report[1]);
  ::close(kLaunchFd);  // the worker's alone: its EOF must mean the engine closed it
  const std::int64_t armed_ns = wait_until_armed(report[0]);
  // Prepared in the background (SCHED_IDLE, from the engine's preparer); the launch is not.
  if (::sched_setscheduler(0, SCHED_OTHER, &normal) < 0) {
    fail({errno, "scheduling policy", "sched_setscheduler SCHED_OTHER"});
  }
  message.reset();
  send_message(encode(Prepared{mounts_done_ns}));

  const std::string text = wait_for_exec(report[0]);
  const std::int64_t exec_done_ns = monotonic_ns();
  ::close(report[0]);
  // "T" then EOF: execve succeeded and closed the pipe. Anything else: it failed or died.
  if (text != "T") fail(worker_failure(text));
  // Ready first: the engine waits for it on the cold-start path, and the worker, already
  // unprivileged, cannot touch init meanwhile.
  send_message(encode(Ready{mounts_done_ns, armed_ns, exec_done_ns}));
  if (auto failed = restrict_init(arm_spec(*config))) {
    // Too late for the engine's start() to fail: end the sandbox, naming the step in its log.
    (void)::dprintf(STDERR_FILENO, "ember-sandbox-init: %s: %s: %s\n", failed->step.c_str(),
                    failed->call.c_str(), std::generic_category().message(failed->err).c_str());
    ::_exit(1);
  }
  reap(worker);
}
