#include "worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>
#include <vector>

#include "arm.hpp"

namespace ember::isolation::init {
namespace {

// The worker's report pipe takes the handshake's number (the worker must not hold the
// handshake); the launch pipe is inherited at kLaunchFd. Arming keeps both (kLastKeptFd).
constexpr int kReportFd = kHandshakeFd;
static_assert(kReportFd < kLastKeptFd && kLaunchFd <= kLastKeptFd);

void report(int fd, const std::string& text) {
  const ssize_t n = ::write(fd, text.data(), text.size());
  (void)n;  // nothing more to do if the engine's side is gone
}

// execve takes char* const[]: pointers into the launch's own (mutable) strings.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
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
  if (auto failure = arm_worker(arm_spec(config))) fail(*failure);
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

}  // namespace ember::isolation::init
