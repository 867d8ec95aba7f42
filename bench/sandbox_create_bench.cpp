// Cold-start cost of a sandbox, step by step: create() to the runtime's execve for a trivial
// C program, with and without a network namespace, next to a plain posix_spawn of the same
// binary in the same run. Prints median and p99 per step, in milliseconds.
//
//   sandbox_create_bench [iterations=200] [program=<build>/tests/testcases/c/hello]
// Needs root (docs/isolation.md records the numbers).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ember/isolation/sandbox.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ember::isolation;
using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Series {
  std::string name;
  std::vector<double> samples;

  void print() {
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) {
      return samples[std::min(samples.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
    };
    std::printf("  %-34s median %7.3f ms   p99 %7.3f ms\n", name.c_str(), at(0.5), at(0.99));
  }
};

std::vector<double>& series(std::vector<Series>& all, const std::string& name) {
  for (auto& s : all) {
    if (s.name == name) return s.samples;
  }
  all.push_back({name, {}});
  return all.back().samples;
}

void bench_posix_spawn(const fs::path& program, int iterations, int out) {
  std::vector<Series> all;
  for (int i = 0; i < iterations; ++i) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    char* envp[] = {nullptr};
    pid_t pid = -1;
    const auto begin = Clock::now();
    // glibc's posix_spawn returns once the child's execve succeeded (CLONE_VFORK).
    if (::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, envp) != 0) return;
    const auto spawned = Clock::now();
    int status = 0;
    ::waitpid(pid, &status, 0);
    const auto reaped = Clock::now();
    posix_spawn_file_actions_destroy(&actions);
    series(all, "spawn to exec").push_back(ms(spawned - begin));
    series(all, "spawn to exit+reap").push_back(ms(reaped - begin));
  }
  std::printf("posix_spawn (no isolation), %d runs\n", iterations);
  for (auto& s : all) s.print();
}

void bench_native(SandboxBackend& backend, const fs::path& program, int iterations, int out,
                  bool network_host) {
  std::vector<Series> all;
  for (int i = 0; i < iterations; ++i) {
    SandboxSpec spec;
    spec.id = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    spec.code_dir = program.parent_path();
    spec.working_dir = spec.code_dir;
    spec.argv = {(backend.task_root(spec) / program.filename()).string()};
    spec.output_fd = out;
    spec.network_host = network_host;
    Clock::time_point ended;
    {
      auto sandbox = backend.create(spec);
      if (!sandbox) {
        std::fprintf(stderr, "create: %s\n", sandbox.error().message().c_str());
        return;
      }
      const auto& t = (*sandbox)->timings();
      series(all, "create to exec (total)").push_back(ms(t.exec_done - t.create_begin));
      series(all, "  cgroup created").push_back(ms(t.cgroup_created - t.create_begin));
      series(all, "  clone + exec init (namespaces)")
          .push_back(ms(t.namespaces_created - t.cgroup_created));
      series(all, "  cgroup attached").push_back(ms(t.cgroup_attached - t.namespaces_created));
      series(all, "  listener ready").push_back(ms(t.listener_ready - t.cgroup_attached));
      series(all, "  mounts + pivot_root").push_back(ms(t.mounts_done - t.listener_ready));
      series(all, "  fork worker .. seccomp loaded")
          .push_back(ms(t.seccomp_loaded - t.mounts_done));
      series(all, "  execve runtime").push_back(ms(t.exec_done - t.seccomp_loaded));
      series(all, "create() returned").push_back(ms(Clock::now() - t.create_begin));
      pollfd pfd{(*sandbox)->exit_fd(), POLLIN, 0};
      ::poll(&pfd, 1, 10'000);
      (void)(*sandbox)->try_reap();
      ended = Clock::now();
    }
    series(all, "teardown (cgroup removed)").push_back(ms(Clock::now() - ended));
  }
  std::printf("native sandbox, %s, %d runs\n",
              network_host ? "network: host" : "own network namespace", iterations);
  for (auto& s : all) s.print();
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  const fs::path program =
      argc > 2 ? fs::path(argv[2]) : fs::path(EMBER_BINARY_DIR) / "tests/testcases/c/hello";
  const int out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  NativeOptions options;
  options.init_path = fs::path(EMBER_BINARY_DIR) / "ember-sandbox-init";
  auto backend = make_native_backend(options);
  if (!backend) {
    std::fprintf(stderr, "%s\n", backend.error().message().c_str());
    return 1;
  }
  std::printf("program: %s\n", program.c_str());
  bench_posix_spawn(program, iterations, out);
  bench_native(**backend, program, iterations, out, false);
  bench_native(**backend, program, iterations, out, true);
  return 0;
}
