#include "ember/isolation/pidfd_child.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace ember::isolation {

PidfdChild::PidfdChild(PidfdChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, true)) {}

PidfdChild::~PidfdChild() {
  if (!running()) return;
  signal(SIGKILL);
  // The pidfd may be non-blocking (an event loop watched it), which would make a blocking
  // waitid fail with EAGAIN and leave a zombie: poll for the exit, then reap.
  pollfd exited_event{pidfd_.get(), POLLIN, 0};
  while (::poll(&exited_event, 1, -1) < 0 && errno == EINTR) {
  }
  try_reap();
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
