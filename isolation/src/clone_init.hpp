// Starting ember-sandbox-init in new namespaces, and owning that process until it is reaped.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <filesystem>
#include <optional>

#include "ember/isolation/pidfd_child.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// pid 1 of a sandbox, seen from the host. Destruction SIGKILLs it, which makes the kernel kill
// everything else in its pid namespace, and reaps it.
class InitProcess {
 public:
  InitProcess(pid_t pid, UniqueFd pidfd) : child_(pid, std::move(pidfd)) {}

  [[nodiscard]] pid_t pid() const { return child_.pid(); }
  [[nodiscard]] int pidfd() const { return child_.pidfd(); }
  void kill() noexcept { child_.signal(SIGKILL); }
  // The raw wait status once it exited; nullopt while it runs or after it was reaped.
  std::optional<siginfo_t> try_reap() { return child_.try_reap(); }

 private:
  PidfdChild child_;  // its destructor kills and reaps
};

struct CloneRequest {
  std::filesystem::path init_path;
  int handshake_fd = -1;  // becomes fd 3 in init
  int launch_fd = -1;     // the launch pipe's read end: fd 4 in init
  int output_fd = -1;     // becomes stdout and stderr
  bool new_network = true;
};

// clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEW{NS,PID,IPC,UTS[,NET]}): like
// posix_spawn the child borrows the engine's memory on a small stack only until it execs init,
// so nothing of the engine is copied; the parent resumes once exec succeeded or failed.
Result<InitProcess> clone_init(const CloneRequest& request);

}  // namespace ember::isolation
