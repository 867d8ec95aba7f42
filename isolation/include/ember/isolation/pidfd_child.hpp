// A child process known by its pidfd, owned until it is reaped.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <optional>

#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// Destruction SIGKILLs the child if it was not reaped yet and reaps it, so no child outlives
// its owner and none is left a zombie. It waits at most kReapWaitMs for the exit; a child
// that takes longer is reaped by a thread of its own.
class PidfdChild {
 public:
  static constexpr int kReapWaitMs = 100;

  PidfdChild() = default;
  PidfdChild(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  PidfdChild(const PidfdChild&) = delete;
  PidfdChild& operator=(const PidfdChild&) = delete;
  PidfdChild(PidfdChild&& other) noexcept;
  PidfdChild& operator=(PidfdChild&&) = delete;
  ~PidfdChild();

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int pidfd() const { return pidfd_.get(); }
  [[nodiscard]] bool reaped() const { return reaped_; }
  [[nodiscard]] bool running() const { return pid_ > 0 && !reaped_; }

  // Through the pidfd, so it can never reach a process that reused the pid.
  void signal(int sig) const noexcept;
  // True once it exited, without reaping it (it stays a zombie, holding its pid).
  [[nodiscard]] bool exited() const;
  // Reaps it once it exited; the wait status, or nullopt while it runs or once reaped.
  std::optional<siginfo_t> try_reap();
  // For owners that reap by other means (wait4 for its resource usage).
  void mark_reaped() { reaped_ = true; }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

}  // namespace ember::isolation
