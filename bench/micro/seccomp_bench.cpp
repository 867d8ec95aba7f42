// The seccomp pieces of a native sandbox's creation (docs/isolation.md): compiling a policy
// with libseccomp, the per-sandbox cache lookup that normally replaces it, and the child's
// load of the prebuilt program right before execve.
//
// A loaded filter cannot be removed, so every load happens in a fresh child. The load is
// reported three ways: fork+load+_exit against fork+_exit in the same run (the difference is
// what the worker pays, including the filter's release at exit), and the child's own clock
// around prctl+seccomp, which fork's noise does not reach.
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>

#include "seccomp_load.hpp"
#include "seccomp_policy.hpp"

namespace {

using namespace ember::isolation;

void BM_SeccompCompileDefault(benchmark::State& state) {
  const SeccompPolicy policy{};
  std::size_t instructions = 0;
  for (auto _ : state) {
    auto program = compile_seccomp_policy(policy);
    if (!program) {
      state.SkipWithError(program.error().message().c_str());
      break;
    }
    instructions = (*program)->instructions.size();
    benchmark::DoNotOptimize(program);
  }
  state.counters["bpf_insns"] = static_cast<double>(instructions);
}

// What SandboxBackend::create pays per sandbox once the node has compiled the policy.
void BM_SeccompCacheHit(benchmark::State& state) {
  const SeccompPolicy policy{};
  SeccompProgramCache cache;
  if (auto warm = cache.get(policy); !warm) {
    state.SkipWithError(warm.error().message().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(cache.get(policy));
}

// A shared anonymous page: the child writes its measurement there, the parent reads it after
// waitpid (which orders the two).
struct SharedSample {
  SharedSample() {
    void* page = ::mmap(nullptr, sizeof(std::int64_t), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ns = page == MAP_FAILED ? nullptr : static_cast<std::int64_t*>(page);
  }
  SharedSample(const SharedSample&) = delete;
  SharedSample& operator=(const SharedSample&) = delete;
  ~SharedSample() {
    if (ns != nullptr) ::munmap(ns, sizeof(std::int64_t));
  }
  std::int64_t* ns = nullptr;
};

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

enum class Spawn { kFork, kVfork };

// Starts a child and returns its pid (-1 when fork failed). Only async-signal-safe calls
// between fork and _exit: the child is a copy of a process whose other state (allocator locks,
// benchmark internals) it must not touch. With vfork it even shares this stack, which is fine
// because the parent is suspended until the _exit. A function of its own, kept out of line,
// so that the benchmark loop's variables do not live across vfork's second return
// (-Wclobbered).
template <Spawn How, bool LoadFilter>
[[gnu::noinline]] pid_t start_child(const SeccompProgram* program, std::int64_t* sample) {
  const pid_t pid = How == Spawn::kVfork ? ::vfork() : ::fork();
  if (pid != 0) return pid;
  if constexpr (LoadFilter) {
    const std::int64_t begin = now_ns();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(1);
    if (load_seccomp_program(program->instructions.data(), program->instructions.size()) != 0) {
      ::_exit(2);
    }
    *sample = now_ns() - begin;
  }
  ::_exit(0);
}

template <Spawn How, bool LoadFilter>
void spawn_child(benchmark::State& state, const SeccompProgram* program, std::int64_t* sample) {
  double load_ns_total = 0;
  for (auto _ : state) {
    const pid_t pid = start_child<How, LoadFilter>(program, sample);
    if (pid < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("child failed: prctl (1) or seccomp (2), see the exit status");
      break;
    }
    if constexpr (LoadFilter) load_ns_total += static_cast<double>(*sample);
  }
  if constexpr (LoadFilter) {
    state.counters["load_ns"] =
        benchmark::Counter(load_ns_total, benchmark::Counter::kAvgIterations);
  }
}

// The baseline: what any child costs this process (page tables copied, exit, reap). vfork
// copies no page tables, so its baseline is smaller and the load a larger share of it.
template <Spawn How>
void BM_SpawnExit(benchmark::State& state) {
  spawn_child<How, false>(state, nullptr, nullptr);
}

template <Spawn How>
void BM_SpawnSeccompLoadExit(benchmark::State& state) {
  auto program = compile_seccomp_policy(SeccompPolicy{});
  if (!program) {
    state.SkipWithError(program.error().message().c_str());
    return;
  }
  const SharedSample sample;
  if (sample.ns == nullptr) {
    state.SkipWithError("mmap of the shared sample page failed");
    return;
  }
  spawn_child<How, true>(state, program->get(), sample.ns);
}

}  // namespace

BENCHMARK(BM_SeccompCompileDefault);
BENCHMARK(BM_SeccompCacheHit);
// Wall time: the cost is in the child and in waitpid, not in this thread's CPU time.
BENCHMARK(BM_SpawnExit<Spawn::kFork>)->Name("BM_ForkExit")->UseRealTime();
BENCHMARK(BM_SpawnSeccompLoadExit<Spawn::kFork>)->Name("BM_ForkSeccompLoadExit")->UseRealTime();
BENCHMARK(BM_SpawnExit<Spawn::kVfork>)->Name("BM_VforkExit")->UseRealTime();
BENCHMARK(BM_SpawnSeccompLoadExit<Spawn::kVfork>)->Name("BM_VforkSeccompLoadExit")->UseRealTime();
