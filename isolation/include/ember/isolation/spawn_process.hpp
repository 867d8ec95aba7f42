// Starting a child process cheaply and owning it until it is reaped.
//
// For the children the engine starts for a sandbox: a runtime with `isolation: none` (the
// process backend), the Python zygote, and the OCI runtime (runc, crun: `run` and its short
// commands, oci_runtime.cpp). Children started from outside the engine (test nodes, the
// bench's baselines, the AWS CLI, skopeo) are ember::client's ChildProcess, on Boost.Process
// v2. isolation cannot use that one: ember::client is the outside's library (the CLI, tests
// and bench link it, above the engine) and isolation sits below the engine. The OCI runtime
// needs what this spawner gives anyway: a session of its own (killing the group ends runc and
// what it started), exactly its output fd and no other, and the normal scheduling policy.
// Nor could Process v2 serve here: its default launcher forks, copying the engine's page
// tables on the engine thread (measured at 4-80x a posix_spawn, growing with the parent's
// memory), and its vfork launcher runs Asio's fork notification inside the vfork child, on
// memory the engine shares. The new session, the reset signal dispositions and mask and the
// scheduling policy would each be a hand-written initializer, and its reap (waitpid) drops
// the rusage this reap keeps (peak RSS, for Max Memory Used).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ember/isolation/pidfd_child.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// A child process that leads its own session and process group. Destroying it kills the
// whole group and reaps the child, so no process outlives its owner.
class SpawnedProcess {
 public:
  SpawnedProcess(pid_t pid, UniqueFd pidfd) : child_(pid, std::move(pidfd)) {}
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;
  SpawnedProcess(SpawnedProcess&& other) noexcept = default;
  SpawnedProcess& operator=(SpawnedProcess&& other) = delete;
  // Kills the group first; the child's own destructor then waits and reaps.
  ~SpawnedProcess() { kill_group(); }

  [[nodiscard]] pid_t pid() const { return child_.pid(); }
  [[nodiscard]] int pidfd() const { return child_.pidfd(); }

  // SIGKILL to the process group. Safe after the leader exited: until it is reaped its pid,
  // and so the group id, cannot be reused.
  void kill_group() noexcept;
  // Non-blocking; returns the status once, after the process exited.
  std::optional<ExitStatus> try_reap();
  [[nodiscard]] bool reaped() const { return child_.reaped(); }
  // The process's peak resident set size as the kernel reported it at reaping; 0 before.
  [[nodiscard]] std::uint64_t peak_rss_at_exit() const { return peak_rss_bytes_; }

 private:
  PidfdChild child_;
  std::uint64_t peak_rss_bytes_ = 0;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0]: the executable's path
  std::vector<std::string> env;
  std::filesystem::path working_dir;  // empty: the caller's
  int output_fd = -1;                 // stdout and stderr; -1: the caller's
  int control_fd = -1;                // passed on as fd 3 (a control socket); -1: none
  // SCHED_OTHER whatever the caller's policy (a SCHED_IDLE thread's children inherit it).
  bool normal_scheduling = false;
};

// posix_spawn (vfork-like: the engine's memory is not copied) with stdin from /dev/null,
// every descriptor but 0-2 (and fd 3, given a control_fd) closed, default signal handling,
// and a new session so the process tree can be killed as one group.
Result<SpawnedProcess> spawn_in_new_session(const SpawnRequest& request);

}  // namespace ember::isolation
