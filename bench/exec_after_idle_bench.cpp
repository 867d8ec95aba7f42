// What an armed worker's execve costs: fork a child that waits on a pipe (as a prepared
// sandbox's worker waits for its launch), wake it after IDLE_MS, and time its execve of
// PROGRAM up to the program's first instruction in main, against a child that execs at once.
// No sandbox: this isolates the exec from namespaces and cgroups (docs/benchmarks.md).
//
//   exec_after_idle_bench PROGRAM [RUNS] [IDLE_MS]
//
// PROGRAM must write CLOCK_MONOTONIC nanoseconds (an int64) to fd 5 first thing in main;
// bench/exec_probe.c does.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Sample {
  double wake_us;  // parent's write to the child returning from read
  double exec_us;  // child's execve to the program's main
};

Sample run_once(const char* program, std::chrono::milliseconds idle) {
  std::array<int, 2> report{};
  std::array<int, 2> go{};
  if (::pipe(report.data()) < 0 || ::pipe(go.data()) < 0) std::exit(2);
  const pid_t pid = ::fork();
  if (pid < 0) std::exit(2);
  if (pid == 0) {
    ::close(report[0]);
    ::close(go[1]);
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) ::_exit(1);
    const std::int64_t woke = monotonic_ns();
    if (::write(report[1], &woke, sizeof woke) != sizeof woke) ::_exit(1);
    ::dup2(report[1], 5);
    char* argv[] = {const_cast<char*>(program), nullptr};
    char* envp[] = {nullptr};
    ::execve(program, argv, envp);
    ::_exit(127);
  }
  ::close(report[1]);
  ::close(go[0]);
  std::this_thread::sleep_for(idle);
  const std::int64_t sent = monotonic_ns();
  if (::write(go[1], "x", 1) != 1) std::exit(2);
  std::int64_t woke = 0;
  std::int64_t in_main = 0;
  if (::read(report[0], &woke, sizeof woke) != sizeof woke ||
      ::read(report[0], &in_main, sizeof in_main) != sizeof in_main) {
    std::fprintf(stderr, "%s did not report its main on fd 5\n", program);
    std::exit(2);
  }
  ::waitpid(pid, nullptr, 0);
  ::close(report[0]);
  ::close(go[1]);
  return {static_cast<double>(woke - sent) / 1e3, static_cast<double>(in_main - woke) / 1e3};
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROGRAM [RUNS] [IDLE_MS]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 100;
  const int idle_ms = argc > 3 ? std::atoi(argv[3]) : 20;
  std::printf("%-28s %10s %10s %10s\n", "microseconds, p50 / p99", "wake", "exec->main", "");
  for (const int idle : {0, idle_ms}) {
    std::vector<double> wake;
    std::vector<double> exec;
    for (int i = 0; i < runs; ++i) {
      const auto s = run_once(argv[1], std::chrono::milliseconds(idle));
      wake.push_back(s.wake_us);
      exec.push_back(s.exec_us);
    }
    std::printf("idle %4d ms before exec      %5.0f / %5.0f   %5.0f / %5.0f\n", idle,
                percentile(wake, 0.5), percentile(wake, 0.99), percentile(exec, 0.5),
                percentile(exec, 0.99));
  }
  return 0;
}
