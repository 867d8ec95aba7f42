// Starting ember-sandbox-init in new namespaces, and owning that process until it is reaped.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <filesystem>
#include <optional>

#include "ember/isolation/sandbox.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// pid 1 of a sandbox, seen from the host. Destruction SIGKILLs it, which makes the kernel kill
// everything else in its pid namespace, and reaps it.
class InitProcess {
 public:
  InitProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  InitProcess(const InitProcess&) = delete;
  InitProcess& operator=(const InitProcess&) = delete;
  InitProcess(InitProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        pidfd_(std::move(other.pidfd_)),
        reaped_(std::exchange(other.reaped_, true)) {}
  InitProcess& operator=(InitProcess&&) = delete;
  ~InitProcess();

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int pidfd() const { return pidfd_.get(); }
  void kill() noexcept;
  // The raw wait status once it exited; nullopt while it runs or after it was reaped.
  std::optional<siginfo_t> try_reap();

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

struct CloneRequest {
  std::filesystem::path init_path;
  int handshake_fd = -1;  // becomes fd 3 in init
  int output_fd = -1;     // becomes stdout and stderr
  bool new_network = true;
};

// clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEW{NS,PID,IPC,UTS[,NET]}): like
// posix_spawn the child borrows the engine's memory on a small stack only until it execs init,
// so nothing of the engine is copied; the parent resumes once exec succeeded or failed.
Result<InitProcess> clone_init(const CloneRequest& request);

}  // namespace ember::isolation
