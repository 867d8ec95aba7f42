// cgroups of a sandbox: one interface over cgroup v2 and v1, chosen by detection at start.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/isolation/sys_error.hpp"

namespace ember::isolation {

enum class CgroupVersion { kNone, kV1, kV2 };
std::string_view to_string(CgroupVersion version);

// A sandbox's resources, as Lambda sizes them.
struct CgroupLimits {
  std::uint32_t memory_mb = 128;  // memory.max / memory.limit_in_bytes; swap is turned off
  std::uint32_t pids_max = 1024;  // pids.max: contains fork bombs
  // No CPU quota until limit_cpu(): the init phase's burst, as Lambda gives it.
  bool cpu_burst = false;
};

// CPU time per period for memory_mb: 1769 MB buys one full CPU, as on Lambda. Never below
// 1 ms, the kernel's minimum quota.
std::uint64_t cpu_quota_us(std::uint32_t memory_mb, std::uint64_t period_us);
inline constexpr std::uint64_t kCpuPeriodUs = 100'000;
inline constexpr std::uint32_t kMemoryMbPerCpu = 1769;

// One sandbox's cgroup (one directory per v1 hierarchy, one directory on v2).
// Destruction kills every process in it, waits until it is empty and removes the directories.
class Cgroup {
 public:
  Cgroup() = default;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  Cgroup(Cgroup&&) = delete;
  Cgroup& operator=(Cgroup&&) = delete;
  virtual ~Cgroup() = default;

  // --- membership
  // Moves pid (the whole process on v2, the process on v1) into the cgroup.
  virtual Result<void> attach(pid_t pid) = 0;
  [[nodiscard]] virtual std::filesystem::path path() const = 0;  // memory's dir on v1
  // The cgroup.procs files a process writes "0" to, to join (every hierarchy on v1).
  [[nodiscard]] virtual std::vector<std::filesystem::path> procs_files() const = 0;

  // --- cpu
  // The CPU quota memory_mb buys (cpu_quota_us); ends a CgroupLimits::cpu_burst.
  virtual Result<void> limit_cpu(std::uint32_t memory_mb) = 0;

  // --- freezer
  // Freezes and waits until every process is frozen.
  virtual Result<void> freeze() = 0;
  // Asks for a freeze and returns at once; the kernel finishes it on its own. For parking
  // an idle worker, where nobody needs to wait for it.
  virtual Result<void> request_freeze() = 0;
  virtual Result<void> thaw() = 0;

  // --- accounting
  // Highest memory use in bytes so far; 0 when unreadable.
  [[nodiscard]] virtual std::uint64_t peak_memory_bytes() const = 0;
  // True once the kernel OOM-killed a process of the cgroup.
  [[nodiscard]] virtual bool oom_killed() const = 0;

  // --- ending
  // SIGKILL to every process listed now, without waiting for them to go: for ending a
  // sandbox whose pid namespace dies with its init anyway. kill_all() finishes the job.
  virtual Result<void> kill_now() = 0;
  // SIGKILL to every process in the cgroup, then waits until it is empty. Idempotent.
  virtual Result<void> kill_all() = 0;
};

// Test seams: a fake cgroupfs is a plain directory tree, so the test plays the kernel and
// fills each new cgroup directory with its control files and empties it before rmdir.
struct CgroupFsHooks {
  std::function<void(const std::filesystem::path&)> after_mkdir;
  std::function<void(const std::filesystem::path&)> before_rmdir;
};

class CgroupManager {
 public:
  CgroupManager() = default;
  CgroupManager(const CgroupManager&) = delete;
  CgroupManager& operator=(const CgroupManager&) = delete;
  CgroupManager(CgroupManager&&) = delete;
  CgroupManager& operator=(CgroupManager&&) = delete;
  virtual ~CgroupManager() = default;

  [[nodiscard]] virtual CgroupVersion version() const = 0;
  // Creates the cgroup "<parent>/<id>" with the limits applied and nothing in it yet.
  virtual Result<std::unique_ptr<Cgroup>> create(std::string_view id,
                                                 const CgroupLimits& limits) = 0;
  // Ends the cgroups under the parent whose id `orphaned` accepts: thaws them, kills what is
  // in them and removes them. Returns the ids removed; what could not be removed is left and
  // named in `failures`.
  virtual std::vector<std::string> remove_orphans(
      const std::function<bool(std::string_view id)>& orphaned, std::string& failures) = 0;
};

// The cgroup ids under each of `parents` (one per v1 hierarchy, or v2's one), each once.
std::vector<std::string> cgroup_ids_under(const std::vector<std::filesystem::path>& parents);

// --- detection
struct CgroupMounts {
  std::filesystem::path unified;  // cgroup2 mount point that has the controllers we need
  std::map<std::string, std::filesystem::path> v1;  // controller -> its hierarchy's mount
};
// Parses /proc/self/mountinfo text. A cgroup2 mount counts only if unified_controllers
// (its cgroup.controllers) lists memory, cpu and pids; hybrid hosts have an empty one.
CgroupMounts parse_cgroup_mounts(
    std::string_view mountinfo,
    const std::function<std::string(const std::filesystem::path&)>& unified_controllers);
// "0::/a/b" line of /proc/self/cgroup -> "/a/b"; "" when absent.
std::string own_unified_cgroup(std::string_view proc_self_cgroup);

struct CgroupOptions {
  std::string parent = "ember";  // directory under the hierarchy (v1) or our cgroup (v2)
  CgroupFsHooks hooks;           // tests only
};

// v2 when a cgroup2 mount has memory, cpu and pids; else v1 when memory, cpu, pids and
// freezer hierarchies exist; else an error that says what is missing.
Result<std::unique_ptr<CgroupManager>> detect_cgroup_manager(const CgroupOptions& options = {});

// The backends, for tests against a fake tree. v1: controller name -> mount point
// ("memory", "cpu", "pids", "freezer"). v2: the directory that holds the parent.
std::unique_ptr<CgroupManager> make_cgroup_v1_manager(
    std::map<std::string, std::filesystem::path> mounts, CgroupOptions options);
Result<std::unique_ptr<CgroupManager>> make_cgroup_v2_manager(const std::filesystem::path& base,
                                                              CgroupOptions options);

}  // namespace ember::isolation
