#include "ember/isolation/pidfd_child.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

std::optional<PidfdChild> fork_pausing_child() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    while (true) ::pause();
  }
  if (pid < 0) return std::nullopt;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return std::nullopt;
  return std::optional<PidfdChild>(std::in_place, pid, UniqueFd(pidfd));
}

bool reaped(pid_t pid) { return !fs::exists("/proc/" + std::to_string(pid)); }

TEST(PidfdChild, DestructionKillsAndReapsTheChild) {
  auto child = fork_pausing_child();
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  child.reset();
  EXPECT_TRUE(reaped(pid)) << "no zombie is left behind";
}

// A frozen process cannot die until it is thawed: destruction must not wait for that.
TEST(PidfdChild, DestructionOfAChildThatCannotDieReturnsAndReapsItLater) {
  const fs::path freezer = "/sys/fs/cgroup/freezer";
  if (::geteuid() != 0 || !fs::exists(freezer / "cgroup.procs")) {
    GTEST_SKIP() << "needs root and the cgroup v1 freezer";
  }
  const fs::path cgroup = freezer / ("ember-pidfd-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(fs::create_directory(cgroup));
  auto child = fork_pausing_child();
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  // Our own pidfd, to wait for the exit as an event.
  const UniqueFd watch(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_GE(watch.get(), 0);
  std::ofstream(cgroup / "cgroup.procs") << pid;
  std::ofstream(cgroup / "freezer.state") << "FROZEN";

  const auto begin = std::chrono::steady_clock::now();
  child.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
  EXPECT_FALSE(reaped(pid)) << "still frozen";

  std::ofstream(cgroup / "freezer.state") << "THAWED";
  pollfd exited{watch.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&exited, 1, 5000), 1) << "the child died once thawed";
  // The reaping thread woke at the same event; give it a moment to call waitid.
  for (int i = 0; i < 500 && !reaped(pid); ++i) ::usleep(1000);
  EXPECT_TRUE(reaped(pid)) << "reaped by the destructor's thread, not left a zombie";
  fs::remove(cgroup);
}

}  // namespace
}  // namespace ember::isolation
