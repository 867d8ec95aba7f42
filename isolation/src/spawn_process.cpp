#include "ember/isolation/spawn_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <memory>

namespace ember::isolation {
namespace {

// RAII for the two posix_spawn attribute objects.
struct SpawnAttributes {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  SpawnAttributes(SpawnAttributes&&) = delete;
  SpawnAttributes& operator=(SpawnAttributes&&) = delete;
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));  // NOLINT
  out.push_back(nullptr);
  return out;
}

Result<UniqueFd> open_pidfd(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return last_error("pidfd_open " + std::to_string(pid), "needs Linux 5.3 or later");
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace

void SpawnedProcess::kill_group() noexcept {
  if (!child_.running()) return;
  ::kill(-child_.pid(), SIGKILL);
  child_.signal(SIGKILL);
}

std::optional<ExitStatus> SpawnedProcess::try_reap() {
  // Look without reaping first: while the leader is a zombie its pid, and so its process
  // group id, cannot be reused, so the group kill below cannot hit a stranger.
  if (!child_.exited()) return std::nullopt;
  // Orphans the runtime left in its group die with it, as a Lambda sandbox's would.
  ::kill(-child_.pid(), SIGKILL);
  int status = 0;
  rusage usage{};
  // wait4 rather than waitid: it also reports the child's peak resident set size.
  while (::wait4(child_.pid(), &status, 0, &usage) < 0 && errno == EINTR) {
  }
  child_.mark_reaped();
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-union-access): glibc's rusage fields are in unions.
  peak_rss_bytes_ = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  if (WIFEXITED(status)) return ExitStatus{false, WEXITSTATUS(status)};
  return ExitStatus{true, WTERMSIG(status)};
}

Result<SpawnedProcess> spawn_in_new_session(const SpawnRequest& request) {
  const auto& argv = request.argv;
  const auto& working_dir = request.working_dir;
  SpawnAttributes spawn;
  posix_spawn_file_actions_addopen(&spawn.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (request.output_fd >= 0) {
    posix_spawn_file_actions_adddup2(&spawn.actions, request.output_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&spawn.actions, request.output_fd, STDERR_FILENO);
  }
  constexpr int kControlFd = STDERR_FILENO + 1;
  if (request.control_fd >= 0) {
    posix_spawn_file_actions_adddup2(&spawn.actions, request.control_fd, kControlFd);
  }
  posix_spawn_file_actions_addclosefrom_np(&spawn.actions,
                                           request.control_fd >= 0 ? kControlFd + 1 : kControlFd);
  if (!working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&spawn.actions, working_dir.c_str());
  }
  short flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  const sched_param normal{0};
  if (request.normal_scheduling) {
    posix_spawnattr_setschedpolicy(&spawn.attr, SCHED_OTHER);
    posix_spawnattr_setschedparam(&spawn.attr, &normal);
    flags = static_cast<short>(flags | POSIX_SPAWN_SETSCHEDULER);
  }

  // The engine ignores SIGPIPE; ignored dispositions survive exec, so reset every signal.
  sigset_t all_signals;
  sigfillset(&all_signals);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigdefault(&spawn.attr, &all_signals);
  posix_spawnattr_setsigmask(&spawn.attr, &no_signals);
  posix_spawnattr_setflags(&spawn.attr, flags);

  auto c_argv = c_strings(argv);
  auto c_env = c_strings(request.env);
  pid_t pid = -1;
  if (const int err =
          ::posix_spawn(&pid, c_argv[0], &spawn.actions, &spawn.attr, c_argv.data(), c_env.data());
      err != 0) {
    const bool bad_entrypoint = err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR;
    return SysError{
        err, "exec " + argv[0] + (working_dir.empty() ? "" : " (in " + working_dir.string() + ")"),
        bad_entrypoint ? "a script needs a '#!' line naming an installed interpreter" : "",
        bad_entrypoint};
  }
  auto pidfd = open_pidfd(pid);
  if (!pidfd) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pidfd.error();
  }
  return SpawnedProcess(pid, std::move(*pidfd));
}

}  // namespace ember::isolation
