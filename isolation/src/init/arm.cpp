#include "arm.hpp"

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
#include <string>

#include "../seccomp_load.hpp"

namespace ember::isolation::init {
namespace {

StepResult default_signal_dispositions(const ArmSpec& /*spec*/) {
  return reset_signal_dispositions();
}

StepResult reset_signal_mask(const ArmSpec& /*spec*/) {
  sigset_t none;
  sigemptyset(&none);
  // pthread_sigmask returns the error rather than setting errno.
  if (const int err = ::pthread_sigmask(SIG_SETMASK, &none, nullptr); err != 0) {
    return CallFailed{"pthread_sigmask", err};
  }
  return std::nullopt;
}

StepResult new_session(const ArmSpec& /*spec*/) { return check(::setsid(), "setsid"); }

StepResult stdin_null(const ArmSpec& /*spec*/) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return check(-1, "open /dev/null");
  const int rc = ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  return check(rc, "dup2 /dev/null 0");
}

StepResult normal_scheduling(const ArmSpec& /*spec*/) {
  // A sandbox prepared in the background starts at SCHED_IDLE; the runtime must not.
  const sched_param normal{0};
  return check(::sched_setscheduler(0, SCHED_OTHER, &normal), "sched_setscheduler SCHED_OTHER");
}

StepResult limits(const ArmSpec& /*spec*/) {
  // RLIMIT_NPROC counts per uid across sandboxes that share it; pids.max bounds processes.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  const rlim_t files = nofile.rlim_max < 1024 ? nofile.rlim_max : 1024;
  nofile = {files, files};
  if (auto r = check(::setrlimit(RLIMIT_NOFILE, &nofile), "setrlimit NOFILE 1024")) return r;
  const rlimit core{0, 0};
  if (auto r = check(::setrlimit(RLIMIT_CORE, &core), "setrlimit CORE 0")) return r;
  const rlimit signals{kSigPendingLimit, kSigPendingLimit};
  if (auto r = check(::setrlimit(RLIMIT_SIGPENDING, &signals), "setrlimit SIGPENDING")) return r;
  const rlimit queues{kMsgQueueBytes, kMsgQueueBytes};
  return check(::setrlimit(RLIMIT_MSGQUEUE, &queues), "setrlimit MSGQUEUE");
}

StepResult drop_bounding_set(const ArmSpec& /*spec*/) {
  // Needs CAP_SETPCAP, so before the uid changes. The loop ends at the kernel's last cap.
  for (int cap = 0; ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (auto r = check(::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0),
                       "prctl PR_CAPBSET_DROP " + std::to_string(cap))) {
      return r;
    }
  }
  return std::nullopt;
}

StepResult lock_securebits(const ArmSpec& /*spec*/) {
  // uid 0 gets no capabilities back by exec, setuid always clears them, and none of this can
  // be undone. Needs CAP_SETPCAP, so before the uid changes.
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                             SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  return check(::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0), "prctl PR_SET_SECUREBITS");
}

StepResult change_ids(const ArmSpec& spec) {
  const gid_t gid = spec.gid;
  const gid_t groups[] = {gid, spec.group};
  const std::size_t count = spec.group == gid ? 1 : 2;
  if (auto r = check(::setgroups(count, groups),
                     "setgroups " + std::to_string(gid) +
                         (count == 2 ? "," + std::to_string(spec.group) : std::string()))) {
    return r;
  }
  if (auto r = check(::setresgid(gid, gid, gid), "setresgid " + std::to_string(gid))) return r;
  return check(::setresuid(spec.uid, spec.uid, spec.uid), "setresuid " + std::to_string(spec.uid));
}

StepResult clear_capabilities(const ArmSpec& /*spec*/) {
  // The uid change already cleared the permitted and effective sets; this also clears the
  // inheritable one, and says so rather than relying on it.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (auto r = check(::syscall(SYS_capset, &header, data), "capset 0")) return r;
  return check(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
               "prctl PR_CAP_AMBIENT_CLEAR_ALL");
}

StepResult no_new_privs(const ArmSpec& /*spec*/) {
  return check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl PR_SET_NO_NEW_PRIVS");
}

StepResult close_other_fds(const ArmSpec& /*spec*/) {
  return check(::syscall(SYS_close_range, kLastKeptFd + 1, ~0U, 0), "close_range");
}

StepResult load_seccomp(const ArmSpec& spec) {
  return check(
      load_seccomp_program(spec.seccomp.data(), spec.seccomp.size()),
      "seccomp SECCOMP_SET_MODE_FILTER (" + std::to_string(spec.seccomp.size()) + " instructions)");
}

// Order matters: bounding set and securebits need root's CAP_SETPCAP; fds close before the
// filter (close_range stays allowed anyway); seccomp last.
constexpr BasicStep<ArmSpec> kWorkerSteps[] = {
    {"default signal dispositions", default_signal_dispositions},
    {"reset signal mask", reset_signal_mask},
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

constexpr BasicStep<ArmSpec> kInitSteps[] = {
    {"init: drop capability bounding set", drop_bounding_set},
    {"init: clear capabilities", clear_capabilities},
    {"init: no_new_privs", no_new_privs},
    {"init: load seccomp filter", load_seccomp},
};

}  // namespace

StepResult reset_signal_dispositions() {
  // Through the kernel's call: glibc's sigaction refuses its own two signals (SIGCANCEL,
  // SIGSETXID), so one ignored by whoever started ember would survive into the worker (glibc
  // installs their handlers when it needs them). The layout is the x86_64 and arm64 one.
  struct KernelSigaction {
    void* handler = nullptr;  // SIG_DFL
    unsigned long flags = 0;
    void* restorer = nullptr;
    std::uint64_t mask = 0;
  };
  const KernelSigaction action;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (auto r = check(::syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof action.mask),
                       "rt_sigaction " + std::to_string(sig) + " SIG_DFL")) {
      return r;
    }
  }
  return std::nullopt;
}

std::optional<StepFailed> arm_worker(const ArmSpec& spec) { return run_steps(kWorkerSteps, spec); }

std::optional<StepFailed> restrict_init(const ArmSpec& spec) { return run_steps(kInitSteps, spec); }

}  // namespace ember::isolation::init
