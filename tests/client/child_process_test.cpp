#include "ember/client/child_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "ember/client/temp_dir.hpp"

extern char** environ;  // NOLINT: POSIX

namespace ember::client {
namespace {

using namespace std::chrono_literals;

ChildOptions shell(const std::string& script) {
  ChildOptions options;
  options.argv = {"sh", "-c", script};
  return options;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Alive and not a zombie: an orphan is reaped by whoever pid 1 is, which may never do it.
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto state_at = line.rfind(')') + 2;  // "PID (COMM) STATE ..."
  return state_at < line.size() && line[state_at] != 'Z';
}

TEST(ChildProcess, ReportsTheExitStatusOfAProgramThatEnds) {
  ChildProcess child(shell("exit 7"));
  EXPECT_EQ(child.wait_for(10s), 7);
  EXPECT_EQ(child.pid(), -1);  // reaped
}

TEST(ChildProcess, ReportsASignalAs128PlusItsNumber) {
  ChildProcess child(shell("kill -9 $$"));
  EXPECT_EQ(child.wait_for(10s), 128 + SIGKILL);
}

TEST(ChildProcess, WritesStdoutAndStderrWhereAsked) {
  const TempDir dir;
  auto together = shell("echo out; echo err >&2");
  together.output = dir.path() / "both";
  ASSERT_EQ(ChildProcess(together).wait_for(10s), 0);
  EXPECT_EQ(read_file(dir.path() / "both"), "out\nerr\n");

  auto apart = shell("echo out; echo err >&2");
  apart.output = dir.path() / "out";
  apart.errors = dir.path() / "err";
  ASSERT_EQ(ChildProcess(apart).wait_for(10s), 0);
  EXPECT_EQ(read_file(dir.path() / "out"), "out\n");
  EXPECT_EQ(read_file(dir.path() / "err"), "err\n");
}

TEST(ChildProcess, AddsToTheEnvironmentOrReplacesIt) {
  const TempDir dir;
  ::setenv("EMBER_CHILD_TEST_INHERITED", "yes", 1);
  auto added = shell("echo \"$EMBER_CHILD_TEST_INHERITED $EXTRA\"");
  added.env = {{"EXTRA", "given"}};
  added.output = dir.path() / "added";
  ASSERT_EQ(ChildProcess(added).wait_for(10s), 0);
  EXPECT_EQ(read_file(dir.path() / "added"), "yes given\n");

  ChildOptions replaced;
  replaced.argv = {"/usr/bin/env"};
  replaced.env = {{"ONLY", "this"}};
  replaced.replace_env = true;
  replaced.output = dir.path() / "replaced";
  ASSERT_EQ(ChildProcess(replaced).wait_for(10s), 0);
  EXPECT_EQ(read_file(dir.path() / "replaced"), "ONLY=this\n");
  ::unsetenv("EMBER_CHILD_TEST_INHERITED");
}

TEST(ChildProcess, StartsInTheGivenDirectory) {
  const TempDir dir;
  auto options = shell("pwd");
  options.cwd = dir.path();
  options.output = dir.path() / "pwd";
  ASSERT_EQ(ChildProcess(options).wait_for(10s), 0);
  EXPECT_EQ(read_file(dir.path() / "pwd"), dir.path().string() + "\n");
}

TEST(ChildProcess, PassesOneDescriptorAsFd3AndClosesTheRest) {
  int fds[2];
  // Low numbers, below what the spawner opens itself, but not 3 (the passed one). No
  // O_CLOEXEC: only the spawner may keep them from the child.
  ASSERT_EQ(::pipe(fds), 0);
  for (int& fd : fds) {
    if (fd == 3) {
      const int moved = ::fcntl(fd, F_DUPFD, 4);
      ::close(fd);
      fd = moved;
    }
  }
  const TempDir dir;
  // `[` is the shell's own builtin, so /proc/$$/fd is the child's own table.
  const auto held = [](int fd) {
    const auto n = std::to_string(fd);
    return "if [ -e /proc/$$/fd/" + n + " ]; then echo " + n + " open; else echo " + n +
           " closed; fi; ";
  };
  auto options = shell("echo through-3 >&3; " + held(3) + held(fds[0]) + held(fds[1]));
  options.pass_fd = fds[1];
  options.output = dir.path() / "fds";
  ChildProcess child(options);
  ::close(fds[1]);
  ASSERT_EQ(child.wait_for(10s), 0);
  char buf[64] = {};
  ASSERT_GT(::read(fds[0], buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "through-3\n");
  EXPECT_EQ(read_file(dir.path() / "fds"), "3 open\n" + std::to_string(fds[0]) + " closed\n" +
                                               std::to_string(fds[1]) + " closed\n");
  ::close(fds[0]);
}

TEST(ChildProcess, WaitForGivesUpOnAChildStillRunning) {
  auto options = shell("exec sleep 30");
  ChildProcess child(options);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(child.wait_for(100ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_TRUE(alive(child.pid()));
  EXPECT_EQ(child.stop(10s), 128 + SIGTERM);
}

TEST(ChildProcess, StopKillsAChildThatIgnoresSigterm) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto options = shell("trap '' TERM; echo ready >&3; exec 3>&-; while :; do :; done");
  options.pass_fd = fds[1];
  ChildProcess child(options);
  ::close(fds[1]);
  // Once it said so, the trap is set: SIGTERM before it would end the shell normally.
  char buf[16] = {};
  ASSERT_GT(::read(fds[0], buf, sizeof buf - 1), 0);
  ::close(fds[0]);
  EXPECT_EQ(child.stop(200ms), 128 + SIGKILL);
}

TEST(ChildProcess, DestructionKillsAndReapsTheChild) {
  pid_t pid = -1;
  {
    const ChildProcess child(shell("exec sleep 30"));
    pid = child.pid();
    ASSERT_TRUE(alive(pid));
  }
  EXPECT_FALSE(alive(pid));  // not even a zombie: reaped
}

TEST(ChildProcess, OwnProcessGroupStopsWhatTheChildStarted) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  // The shell starts a sleep of its own and says its pid.
  auto options = shell("sleep 30 & echo $! >&3; exec 3>&-; wait");
  options.pass_fd = fds[1];
  options.own_process_group = true;
  ChildProcess child(options);
  ::close(fds[1]);
  char buf[32] = {};
  ASSERT_GT(::read(fds[0], buf, sizeof buf - 1), 0);
  ::close(fds[0]);
  const pid_t grandchild = std::stoi(buf);
  EXPECT_EQ(::getpgid(child.pid()), child.pid()) << "the child leads a group";
  EXPECT_EQ(::getpgid(grandchild), child.pid()) << "what it starts is in that group";
  EXPECT_NE(::getpgrp(), child.pid()) << "the test's own group is another";
  EXPECT_EQ(child.stop(10s), 128 + SIGTERM);
  // The orphaned sleep got the group's SIGTERM too (delivered asynchronously).
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (running(grandchild) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(running(grandchild));
}

TEST(ChildProcess, ThrowsForAProgramThatIsNotThere) {
  ChildOptions options;
  options.argv = {"/nonexistent/program"};
  EXPECT_THROW(ChildProcess{options}, std::runtime_error);
  options.argv = {"no-such-program-on-path"};
  EXPECT_THROW(ChildProcess{options}, std::runtime_error);
}

TEST(ChildProcess, AdoptsAChildStartedByOtherMeans) {
  char sh[] = "/bin/sh";
  char flag[] = "-c";
  char script[] = "exit 3";
  char* argv[] = {sh, flag, script, nullptr};
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, sh, nullptr, nullptr, argv, environ), 0);
  auto child = ChildProcess::adopt(pid);
  EXPECT_EQ(child.pid(), pid);
  EXPECT_EQ(child.wait_for(10s), 3);
}

TEST(FindProgram, SearchesPathAndTakesPathsAsGiven) {
  const auto sh = find_program("sh");
  ASSERT_TRUE(sh);
  EXPECT_TRUE(sh->is_absolute());
  EXPECT_EQ(find_program("/bin/sh"), std::filesystem::path("/bin/sh"));
  EXPECT_FALSE(find_program("no-such-program-on-path"));
  const TempDir dir;
  const auto plain = dir.path() / "plain";
  std::ofstream(plain) << "not a program\n";
  std::filesystem::permissions(
      plain, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_FALSE(find_program(plain.string()));  // no execute permission
}

}  // namespace
}  // namespace ember::client
