#include "ember/isolation/pidfd_child.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>
#include <utility>

namespace ember::isolation {

PidfdChild::PidfdChild(PidfdChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, true)) {}

PidfdChild::~PidfdChild() {
  if (!running()) return;
  signal(SIGKILL);
  // A killed process is normally gone within microseconds. One that is not (frozen, or stuck
  // in the kernel) must not hold up its owner's thread, which may be the engine's: after a
  // bounded wait, a thread of its own waits for the exit and reaps it, so it leaves no zombie.
  // The pidfd may be non-blocking (an event loop watched it), so the exit is polled for.
  pollfd exited_event{pidfd_.get(), POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&exited_event, 1, kReapWaitMs)) < 0 && errno == EINTR) {
  }
  if (ready > 0 && try_reap()) return;
  try {
    std::thread([pidfd = std::move(pidfd_)] {
      pollfd exited{pidfd.get(), POLLIN, 0};
      while (::poll(&exited, 1, -1) < 0 && errno == EINTR) {
      }
      siginfo_t info{};
      while (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED | WNOHANG) < 0 &&
             errno == EINTR) {
      }
    }).detach();
  } catch (const std::system_error&) {
    // No thread to spare: the process stays a zombie until ember exits.
  }
}

void PidfdChild::signal(int sig) const noexcept {
  if (!running()) return;
  ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

bool PidfdChild::exited() const {
  if (!running()) return false;
  siginfo_t info{};
  return ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG | WNOWAIT) ==
             0 &&
         info.si_pid != 0;
}

std::optional<siginfo_t> PidfdChild::try_reap() {
  if (!running()) return std::nullopt;
  siginfo_t info{};
  int rc = 0;
  while ((rc = ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG)) < 0 &&
         errno == EINTR) {
  }
  if (rc < 0 || info.si_pid == 0) return std::nullopt;
  reaped_ = true;
  return info;
}

}  // namespace ember::isolation
