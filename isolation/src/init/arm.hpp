// Arming a sandbox's worker: everything it drops and loads before a function's code may run.
// One object code for both kinds of worker: ember-sandbox-init's own (worker.cpp, before its
// execve) and the Python zygote's (through libember-arm.so, ../arm_abi/ember_arm.h).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>

#include "../per_user_limits.hpp"
#include "step.hpp"

namespace ember::isolation::init {

struct ArmSpec {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t group = 0;               // supplementary, besides gid (the same when there is none)
  std::span<const sock_filter> seccomp;  // the compiled policy (seccomp_policy.cpp)
};

// What ember-sandbox-init arms its worker and itself with.
inline ArmSpec arm_spec(const InitConfig& config) {
  return {config.uid, config.gid, config.group, config.seccomp};
}

// The fds an armed worker keeps: 0 (made /dev/null), 1 and 2 (the function's log), 3 (its
// report to whoever forked it) and 4 (the launch pipe, init_protocol.hpp's kLaunchFd).
// Every fd above is closed.
inline constexpr int kLastKeptFd = kLaunchFd;

// On the calling process, which must be single-threaded, root, and inside the sandbox's
// namespaces and cgroup, in this order: every signal's disposition to the default and none
// blocked, a new session, stdin from /dev/null, SCHED_OTHER, RLIMIT_NOFILE 1024, RLIMIT_CORE 0
// and the per-user limits (kSigPendingLimit, kMsgQueueBytes), the capability bounding set dropped,
// securebits locked, setgroups/setresgid/ setresuid to the spec's ids, every capability cleared,
// no_new_privs, fds above kLastKeptFd closed, and the seccomp filter loaded last. The first failure
// stops it.
std::optional<StepFailed> arm_worker(const ArmSpec& spec);

// Every signal's disposition to the default (SIGKILL and SIGSTOP have no other), the signals
// glibc keeps for itself included. arm_worker's first step; init resets its own with it.
StepResult reset_signal_dispositions();

// pid 1's own hardening once the worker runs: it stays uid 0 (it must wait for and signal the
// worker) but keeps no capability, sets no_new_privs and loads the same filter.
std::optional<StepFailed> restrict_init(const ArmSpec& spec);

}  // namespace ember::isolation::init
