// The cgroup pieces of a native sandbox (docs/isolation.md): creating one with its limits and
// removing it, moving a process in and killing it, and the freezer that parks idle workers.
//
// These touch the real hierarchy, so they need root and a writable cgroupfs; anything else is
// reported with SkipWithError instead of a number. Everything lives under a parent of its own
// ("ember-bench"), never the engine's "ember", and the parent is removed again after each run,
// also when a step failed: the Cgroup objects kill and remove their own directories.
#include <benchmark/benchmark.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "cgroup_files.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ember::isolation;
using Clock = std::chrono::steady_clock;

constexpr const char* kParent = "ember-bench";

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The parent directories the manager will create, found the way detect_cgroup_manager finds
// the hierarchies. Computed once: on v2 the manager may move this process into "<base>/engine",
// after which /proc/self/cgroup no longer names the base.
const std::vector<fs::path>& parent_dirs() {
  static const std::vector<fs::path> dirs = [] {
    std::vector<fs::path> found;
    auto mountinfo = read_control("/proc/self/mountinfo");
    if (!mountinfo) return found;
    const auto mounts = parse_cgroup_mounts(*mountinfo, [](const fs::path& mount) {
      auto text = read_control(mount / "cgroup.controllers");
      return text ? *text : std::string{};
    });
    if (!mounts.unified.empty()) {
      if (auto self = read_control("/proc/self/cgroup")) {
        found.push_back(mounts.unified / fs::path(own_unified_cgroup(*self)).relative_path() /
                        kParent);
      }
      return found;
    }
    for (const char* controller : {"memory", "cpu", "pids", "freezer"}) {
      const auto mount = mounts.v1.find(controller);
      if (mount == mounts.v1.end()) continue;
      const auto dir = mount->second / kParent;
      if (std::find(found.begin(), found.end(), dir) == found.end()) found.push_back(dir);
    }
    return found;
  }();
  return dirs;
}

// One benchmark run's manager. Declare Cgroups and children after it, so they are gone
// (killed, directories removed) before its destructor removes the parent.
class CgroupRun {
 public:
  explicit CgroupRun(benchmark::State& state) {
    if (::geteuid() != 0) {
      state.SkipWithError("needs root: the benchmark creates cgroups under /sys/fs/cgroup");
      return;
    }
    auto manager = detect_cgroup_manager({.parent = kParent});
    if (!manager) {
      state.SkipWithError(manager.error().message().c_str());
      return;
    }
    manager_ = std::move(*manager);
  }
  CgroupRun(const CgroupRun&) = delete;
  CgroupRun& operator=(const CgroupRun&) = delete;
  CgroupRun(CgroupRun&&) = delete;
  CgroupRun& operator=(CgroupRun&&) = delete;
  ~CgroupRun() {
    // Best effort: EBUSY here means a sandbox cgroup survived, which its own error reported.
    for (const auto& dir : parent_dirs()) ::rmdir(dir.c_str());
  }

  [[nodiscard]] bool ok() const { return manager_ != nullptr; }

  // A fresh name each time: rmdir of a v1 cgroup can lag behind, and a reused name would
  // then fail with EEXIST.
  Result<std::unique_ptr<Cgroup>> create() {
    const std::string id = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(next_id_++);
    return manager_->create(id, CgroupLimits{});
  }

 private:
  std::unique_ptr<CgroupManager> manager_;
  unsigned long next_id_ = 0;
};

// A child that sleeps until killed, standing in for a sandbox's init.
class SleepingChild {
 public:
  SleepingChild() : pid_(::fork()) {
    if (pid_ == 0) {
      // Dies with the benchmark even if the benchmark crashes before killing it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) ::pause();
    }
  }
  SleepingChild(const SleepingChild&) = delete;
  SleepingChild& operator=(const SleepingChild&) = delete;
  SleepingChild(SleepingChild&&) = delete;
  SleepingChild& operator=(SleepingChild&&) = delete;
  ~SleepingChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap();
  }

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Collects the killed child so no zombie outlives the iteration.
  void reap() {
    if (pid_ <= 0) return;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

void BM_CgroupCreateDestroy(benchmark::State& state) {
  CgroupRun run(state);
  if (!run.ok()) return;
  double create_s = 0;
  double destroy_s = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto cgroup = run.create();
    const auto t1 = Clock::now();
    if (!cgroup) {
      state.SkipWithError(cgroup.error().message().c_str());
      break;
    }
    cgroup->reset();  // kill_all on an empty group (freeze, thaw) and rmdir per hierarchy
    const auto t2 = Clock::now();
    create_s += seconds(t1 - t0);
    destroy_s += seconds(t2 - t1);
    state.SetIterationTime(seconds(t2 - t0));
  }
  state.counters["create_us"] =
      benchmark::Counter(create_s * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["destroy_us"] =
      benchmark::Counter(destroy_s * 1e6, benchmark::Counter::kAvgIterations);
}

// A sandbox's life in the cgroup, minus creation: its init appears, is attached, is killed
// with everything in the group, and the group is removed.
void BM_CgroupAttachKillDestroy(benchmark::State& state) {
  CgroupRun run(state);
  if (!run.ok()) return;
  std::array<double, 4> phase_s{};  // fork, attach, kill_all + reap, destroy
  for (auto _ : state) {
    auto cgroup = run.create();  // not timed: BM_CgroupCreateDestroy has it
    if (!cgroup) {
      state.SkipWithError(cgroup.error().message().c_str());
      break;
    }
    const auto t0 = Clock::now();
    SleepingChild child;
    const auto t1 = Clock::now();
    if (child.pid() < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    if (auto r = (*cgroup)->attach(child.pid()); !r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    const auto t2 = Clock::now();
    if (auto r = (*cgroup)->kill_all(); !r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    child.reap();
    const auto t3 = Clock::now();
    cgroup->reset();
    const auto t4 = Clock::now();
    phase_s[0] += seconds(t1 - t0);
    phase_s[1] += seconds(t2 - t1);
    phase_s[2] += seconds(t3 - t2);
    phase_s[3] += seconds(t4 - t3);
    state.SetIterationTime(seconds(t4 - t0));
  }
  const auto avg = [](double s) {
    return benchmark::Counter(s * 1e6, benchmark::Counter::kAvgIterations);
  };
  state.counters["fork_us"] = avg(phase_s[0]);
  state.counters["attach_us"] = avg(phase_s[1]);
  state.counters["kill_us"] = avg(phase_s[2]);
  state.counters["destroy_us"] = avg(phase_s[3]);
}

// Parking and unparking an idle worker: one process asleep in pause(), as a runtime blocked in
// `next` is.
void BM_CgroupFreezeThaw(benchmark::State& state) {
  CgroupRun run(state);
  if (!run.ok()) return;
  auto cgroup = run.create();
  if (!cgroup) {
    state.SkipWithError(cgroup.error().message().c_str());
    return;
  }
  const SleepingChild child;
  if (child.pid() < 0) {
    state.SkipWithError("fork failed");
    return;
  }
  if (auto r = (*cgroup)->attach(child.pid()); !r) {
    state.SkipWithError(r.error().message().c_str());
    return;
  }
  double freeze_s = 0;
  double thaw_s = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (auto r = (*cgroup)->freeze(); !r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    const auto t1 = Clock::now();
    if (auto r = (*cgroup)->thaw(); !r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    const auto t2 = Clock::now();
    freeze_s += seconds(t1 - t0);
    thaw_s += seconds(t2 - t1);
    state.SetIterationTime(seconds(t2 - t0));
  }
  state.counters["freeze_us"] =
      benchmark::Counter(freeze_s * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["thaw_us"] = benchmark::Counter(thaw_s * 1e6, benchmark::Counter::kAvgIterations);
}

}  // namespace

// Manual time: the untimed setup (creating the group, starting the child) stays out, and the
// freezer and kill paths sleep in 1 ms polls that CPU time would not see.
BENCHMARK(BM_CgroupCreateDestroy)->UseManualTime();
BENCHMARK(BM_CgroupAttachKillDestroy)->UseManualTime();
BENCHMARK(BM_CgroupFreezeThaw)->UseManualTime();
