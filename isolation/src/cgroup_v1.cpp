// cgroup v1: one directory per hierarchy (memory, cpu, pids, freezer), each under "<parent>/".
#include <algorithm>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "cgroup_common.hpp"
#include "cgroup_files.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

// The controllers a sandbox needs; cpu and cpuacct are often co-mounted ("cpu,cpuacct").
constexpr const char* kControllers[] = {"memory", "cpu", "pids", "freezer"};

class CgroupV1 final : public Cgroup {
 public:
  CgroupV1(std::map<std::string, fs::path> dirs, CgroupFsHooks hooks)
      : dirs_(std::move(dirs)),
        peak_(dirs_.at("memory") / "memory.max_usage_in_bytes"),
        hooks_(std::move(hooks)) {
    for (const auto& [controller, dir] : dirs_) {
      if (std::find(distinct_.begin(), distinct_.end(), dir) == distinct_.end()) {
        distinct_.push_back(dir);
      }
    }
  }
  CgroupV1(const CgroupV1&) = delete;
  CgroupV1& operator=(const CgroupV1&) = delete;
  CgroupV1(CgroupV1&&) = delete;
  CgroupV1& operator=(CgroupV1&&) = delete;
  ~CgroupV1() override { (void)destroy(); }

  // Directories created so far, so a failed create() removes exactly those.
  void add_created(const fs::path& dir) { created_.push_back(dir); }

  Result<void> limit_cpu(std::uint32_t memory_mb) override {
    return write_control(dirs_.at("cpu") / "cpu.cfs_quota_us",
                         std::to_string(cpu_quota_us(memory_mb, kCpuPeriodUs)));
  }

  Result<void> attach(pid_t pid) override {
    for (const auto& dir : distinct_) {
      if (auto r = write_control(dir / "cgroup.procs", std::to_string(pid)); !r) return r;
    }
    return {};
  }
  [[nodiscard]] fs::path path() const override { return dirs_.at("memory"); }
  [[nodiscard]] std::vector<fs::path> procs_files() const override {
    std::vector<fs::path> files;
    for (const auto& dir : distinct_) files.push_back(dir / "cgroup.procs");
    return files;
  }

  Result<void> freeze() override {
    const auto state = dirs_.at("freezer") / "freezer.state";
    if (auto r = write_control(state, "FROZEN"); !r) return r;
    return wait_for_text(state, "FROZEN");
  }
  Result<void> request_freeze() override {
    return write_control(dirs_.at("freezer") / "freezer.state", "FROZEN");
  }
  Result<void> thaw() override {
    return write_control(dirs_.at("freezer") / "freezer.state", "THAWED");
  }

  [[nodiscard]] std::uint64_t peak_memory_bytes() const override {
    auto peak = peak_.read_u64();
    return peak ? *peak : 0;
  }
  [[nodiscard]] bool oom_killed() const override {
    const auto oom_control = dirs_.at("memory") / "memory.oom_control";
    // "oom_kill N" exists since Linux 4.13; before that a hit limit is the best sign.
    if (read_keyed_u64(oom_control, "oom_kill") > 0) return true;
    auto text = read_control(oom_control);
    if (text && text->find("oom_kill ") != std::string::npos) return false;
    auto failcnt = read_control_u64(dirs_.at("memory") / "memory.failcnt");
    return failcnt && *failcnt > 0;
  }

  Result<void> kill_now() override {
    kill_listed_pids(dirs_.at("freezer") / "cgroup.procs");
    return {};
  }

  // v1 has no cgroup.kill: freeze so nothing forks while we read the list, SIGKILL each
  // listed process, thaw so the signals are delivered, then wait until every list is empty.
  Result<void> kill_all() override {
    const auto procs = dirs_.at("freezer") / "cgroup.procs";
    const bool frozen = freeze().has_value();
    kill_listed_pids(procs);
    (void)thaw();
    if (!frozen) {  // without the freezer, repeat until a pass finds nothing
      for (int pass = 0; pass < 100 && kill_listed_pids(procs) > 0; ++pass) {
      }
    }
    for (const auto& dir : distinct_) {
      if (auto r = wait_until_empty(dir / "cgroup.procs"); !r) return r;
    }
    return {};
  }

 private:
  Result<void> destroy() {
    peak_.close();
    if (created_.empty()) return {};
    Result<void> result = kill_all();
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      if (auto r = remove_cgroup_dir(*it, hooks_); !r && result) result = r;
    }
    created_.clear();
    return result;
  }

  std::map<std::string, fs::path> dirs_;  // controller -> this cgroup's directory
  OpenControl peak_;                      // read after every invocation
  std::vector<fs::path> distinct_;        // each directory once
  std::vector<fs::path> created_;
  CgroupFsHooks hooks_;
};

class CgroupV1Manager final : public CgroupManager {
 public:
  CgroupV1Manager(std::map<std::string, fs::path> mounts, CgroupOptions options)
      : mounts_(std::move(mounts)), options_(std::move(options)) {}

  [[nodiscard]] CgroupVersion version() const override { return CgroupVersion::kV1; }

  Result<std::unique_ptr<Cgroup>> create(std::string_view id, const CgroupLimits& limits) override {
    std::map<std::string, fs::path> dirs;
    for (const char* controller : kControllers) {
      const auto mount = mounts_.find(controller);
      if (mount == mounts_.end()) {
        return SysError{ENOENT, std::string("cgroup v1 hierarchy for ") + controller,
                        "mount it: mount -t cgroup -o " + std::string(controller) + " ..."};
      }
      dirs[controller] = mount->second / options_.parent / std::string(id);
    }
    auto cgroup = std::make_unique<CgroupV1>(dirs, options_.hooks);
    std::vector<fs::path> made;
    for (const auto& [controller, dir] : dirs) {
      if (std::find(made.begin(), made.end(), dir) != made.end()) continue;
      if (auto r = make_cgroup_dir(dir.parent_path(), true, options_.hooks); !r) return r.error();
      if (auto r = make_cgroup_dir(dir, false, options_.hooks); !r) return r.error();
      made.push_back(dir);
      cgroup->add_created(dir);
    }
    if (auto r = apply_limits(dirs, limits); !r) return r.error();
    return std::unique_ptr<Cgroup>(std::move(cgroup));
  }

  std::vector<std::string> remove_orphans(const std::function<bool(std::string_view id)>& orphaned,
                                          std::string& failures) override {
    std::vector<fs::path> parents;
    for (const auto& [controller, mount] : mounts_) parents.push_back(mount / options_.parent);
    std::vector<std::string> removed;
    for (const auto& id : cgroup_ids_under(parents)) {
      if (!orphaned(id)) continue;
      std::vector<fs::path> dirs;
      for (const auto& parent : parents) {
        if (std::find(dirs.begin(), dirs.end(), parent / id) == dirs.end()) {
          dirs.push_back(parent / id);
        }
      }
      const auto freezer = mounts_.find("freezer");
      const auto thaw = [&] {
        if (freezer == mounts_.end()) return;
        (void)write_control(freezer->second / options_.parent / id / "freezer.state", "THAWED");
      };
      if (end_leftover_cgroup(dirs, thaw, options_.hooks, failures)) removed.push_back(id);
    }
    return removed;
  }

 private:
  static Result<void> apply_limits(const std::map<std::string, fs::path>& dirs,
                                   const CgroupLimits& limits) {
    const auto memory = dirs.at("memory");
    const std::string bytes = std::to_string(std::uint64_t{limits.memory_mb} << 20);
    if (auto r = write_control(memory / "memory.limit_in_bytes", bytes); !r) return r;
    // memory+swap equal to memory means no swap. Without swap accounting (no memsw files)
    // swappiness 0 is the closest we get.
    if (control_exists(memory / "memory.memsw.limit_in_bytes")) {
      if (auto r = write_control(memory / "memory.memsw.limit_in_bytes", bytes); !r) return r;
    } else if (control_exists(memory / "memory.swappiness")) {
      if (auto r = write_control(memory / "memory.swappiness", "0"); !r) return r;
    }
    const auto cpu = dirs.at("cpu");
    if (auto r = write_control(cpu / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)); !r) {
      return r;
    }
    // -1: no quota, for the init burst.
    const std::string quota =
        limits.cpu_burst ? "-1" : std::to_string(cpu_quota_us(limits.memory_mb, kCpuPeriodUs));
    if (auto r = write_control(cpu / "cpu.cfs_quota_us", quota); !r) return r;
    return write_control(dirs.at("pids") / "pids.max", std::to_string(limits.pids_max));
  }

  std::map<std::string, fs::path> mounts_;
  CgroupOptions options_;
};

}  // namespace

std::unique_ptr<CgroupManager> make_cgroup_v1_manager(std::map<std::string, fs::path> mounts,
                                                      CgroupOptions options) {
  return std::make_unique<CgroupV1Manager>(std::move(mounts), std::move(options));
}

}  // namespace ember::isolation
