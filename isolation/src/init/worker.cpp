#include "worker.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <string>
#include <vector>

#include "../seccomp_load.hpp"

namespace ember::isolation::init {
namespace {

// The worker's report pipe takes the handshake's number (the worker must not hold the
// handshake); the launch pipe is inherited at kLaunchFd. close_range keeps both.
constexpr int kReportFd = kHandshakeFd;

void report(int fd, const std::string& text) {
  const ssize_t n = ::write(fd, text.data(), text.size());
  (void)n;  // nothing more to do if the engine's side is gone
}

StepResult reset_signals(const InitConfig&) {
  sigset_t none;
  sigemptyset(&none);
  return check(::sigprocmask(SIG_SETMASK, &none, nullptr), "sigprocmask");
}

StepResult new_session(const InitConfig&) { return check(::setsid(), "setsid"); }

StepResult stdin_null(const InitConfig&) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return check(-1, "open /dev/null");
  const int rc = ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  return check(rc, "dup2 /dev/null 0");
}

StepResult normal_scheduling(const InitConfig&) {
  // A sandbox prepared in the background starts at SCHED_IDLE; the runtime must not.
  const sched_param normal{0};
  return check(::sched_setscheduler(0, SCHED_OTHER, &normal), "sched_setscheduler SCHED_OTHER");
}

StepResult limits(const InitConfig&) {
  // RLIMIT_NPROC counts per uid across sandboxes that share it; pids.max bounds processes.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  const rlim_t files = nofile.rlim_max < 1024 ? nofile.rlim_max : 1024;
  nofile = {files, files};
  if (auto r = check(::setrlimit(RLIMIT_NOFILE, &nofile), "setrlimit NOFILE 1024")) return r;
  const rlimit core{0, 0};
  return check(::setrlimit(RLIMIT_CORE, &core), "setrlimit CORE 0");
}

StepResult drop_bounding_set(const InitConfig&) {
  // Needs CAP_SETPCAP, so before the uid changes. The loop ends at the kernel's last cap.
  for (int cap = 0; ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (auto r = check(::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0),
                       "prctl PR_CAPBSET_DROP " + std::to_string(cap))) {
      return r;
    }
  }
  return std::nullopt;
}

StepResult lock_securebits(const InitConfig&) {
  // uid 0 gets no capabilities back by exec, setuid always clears them, and none of this can
  // be undone. Needs CAP_SETPCAP, so before the uid changes.
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                             SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  return check(::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0), "prctl PR_SET_SECUREBITS");
}

StepResult change_ids(const InitConfig& c) {
  const gid_t gid = c.gid;
  if (auto r = check(::setgroups(1, &gid), "setgroups " + std::to_string(gid))) return r;
  if (auto r = check(::setresgid(gid, gid, gid), "setresgid " + std::to_string(gid))) return r;
  return check(::setresuid(c.uid, c.uid, c.uid), "setresuid " + std::to_string(c.uid));
}

StepResult clear_capabilities(const InitConfig&) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (auto r = check(::syscall(SYS_capset, &header, data), "capset 0")) return r;
  return check(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
               "prctl PR_CAP_AMBIENT_CLEAR_ALL");
}

StepResult no_new_privs(const InitConfig&) {
  return check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl PR_SET_NO_NEW_PRIVS");
}

StepResult close_other_fds(const InitConfig&) {
  return check(::syscall(SYS_close_range, kLaunchFd + 1, ~0u, 0), "close_range");
}

StepResult load_seccomp(const InitConfig& c) {
  return check(
      load_seccomp_program(c.seccomp.data(), c.seccomp.size()),
      "seccomp SECCOMP_SET_MODE_FILTER (" + std::to_string(c.seccomp.size()) + " instructions)");
}

// Order matters: bounding set and securebits need root's CAP_SETPCAP; fds close before the
// filter (close_range stays allowed anyway); seccomp last.
constexpr Step kSteps[] = {
    {"reset signal mask", reset_signals},
    {"new session", new_session},
    {"stdin from /dev/null", stdin_null},
    {"scheduling policy", normal_scheduling},
    {"rlimits", limits},
    {"drop capability bounding set", drop_bounding_set},
    {"lock securebits", lock_securebits},
    {"change uid and gid", change_ids},
    {"clear capabilities", clear_capabilities},
    {"no_new_privs", no_new_privs},
    {"close other fds", close_other_fds},
    {"load seccomp filter", load_seccomp},
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void run_worker(const InitConfig& config, int report_fd) {
  // The report pipe was made after fds 0-4 were taken, so it is above both targets.
  ::dup2(report_fd, kReportFd);
  ::close(report_fd);
  ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kLaunchFd, F_SETFD, FD_CLOEXEC);
  const auto fail = [](const StepFailed& failure) {
    report(kReportFd,
           "E " + std::to_string(failure.err) + "\n" + failure.step + "\n" + failure.call);
    ::_exit(127);
  };
  if (auto failure = run_steps(kSteps, config)) fail(*failure);
  report(kReportFd, "A " + std::to_string(monotonic_ns()));

  // Armed: from here on only the Launch is awaited, under the filter and without privileges.
  std::string message;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(kLaunchFd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail({errno, "launch", "read the launch"});
    if (n == 0) break;
    message.append(chunk, static_cast<std::size_t>(n));
  }
  if (message.empty()) ::_exit(0);  // the sandbox was never used
  auto launch = decode_launch(message);
  if (!launch) fail({EPROTO, "launch", "malformed launch message"});
  // As the worker's uid, so an unreadable code directory fails here with a clear name.
  if (::chdir(launch->working_dir.c_str()) < 0) {
    fail({errno, "working directory", "chdir " + launch->working_dir});
  }
  auto argv = c_strings(launch->argv);
  auto envp = c_strings(launch->env);
  report(kReportFd, "T");
  ::execve(argv[0], argv.data(), envp.data());
  fail({errno, "exec runtime", "execve " + launch->argv[0]});
  ::_exit(127);
}

std::optional<StepFailed> restrict_init(const InitConfig& config) {
  // pid 1 stays uid 0 (it must wait for and signal the worker) but keeps no capability.
  constexpr Step kInitSteps[] = {
      {"init: drop capability bounding set", drop_bounding_set},
      {"init: clear capabilities", clear_capabilities},
      {"init: no_new_privs", no_new_privs},
      {"init: load seccomp filter", load_seccomp},
  };
  return run_steps(kInitSteps, config);
}

}  // namespace ember::isolation::init
