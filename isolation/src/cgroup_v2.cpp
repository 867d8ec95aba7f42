// cgroup v2: one directory "<own cgroup>/<parent>/<id>" in the unified hierarchy.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "cgroup.hpp"
#include "cgroup_common.hpp"
#include "cgroup_files.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEnable = "+memory +cpu +pids";

// cpu.max: "QUOTA PERIOD".
std::string cpu_max(const std::string& quota) { return quota + " " + std::to_string(kCpuPeriodUs); }

class CgroupV2 final : public Cgroup {
 public:
  CgroupV2(fs::path dir, CgroupFsHooks hooks)
      : dir_(std::move(dir)), peak_(dir_ / "memory.peak"), hooks_(std::move(hooks)) {}
  CgroupV2(const CgroupV2&) = delete;
  CgroupV2& operator=(const CgroupV2&) = delete;
  CgroupV2(CgroupV2&&) = delete;
  CgroupV2& operator=(CgroupV2&&) = delete;
  ~CgroupV2() override {
    peak_.close();
    if (!created_) return;
    (void)kill_all();
    (void)remove_cgroup_dir(dir_, hooks_);
  }

  void mark_created() { created_ = true; }

  Result<void> limit_cpu(std::uint32_t memory_mb) override {
    return write_control(dir_ / "cpu.max",
                         cpu_max(std::to_string(cpu_quota_us(memory_mb, kCpuPeriodUs))));
  }

  Result<void> attach(pid_t pid) override {
    return write_control(dir_ / "cgroup.procs", std::to_string(pid));
  }
  [[nodiscard]] fs::path path() const override { return dir_; }
  [[nodiscard]] std::vector<fs::path> procs_files() const override {
    return {dir_ / "cgroup.procs"};
  }

  Result<void> freeze() override {
    if (auto r = write_control(dir_ / "cgroup.freeze", "1"); !r) return r;
    return wait_for_text(dir_ / "cgroup.events", "frozen 1");
  }
  Result<void> request_freeze() override { return write_control(dir_ / "cgroup.freeze", "1"); }
  Result<void> thaw() override { return write_control(dir_ / "cgroup.freeze", "0"); }

  [[nodiscard]] std::uint64_t peak_memory_bytes() const override {
    // memory.peak exists since Linux 5.19; before that, the highest sample we have seen.
    if (auto peak = peak_.read_u64()) return *peak;
    if (auto current = read_control_u64(dir_ / "memory.current")) {
      sampled_peak_ = std::max(sampled_peak_, *current);
    }
    return sampled_peak_;
  }
  [[nodiscard]] bool oom_killed() const override {
    return read_keyed_u64(dir_ / "memory.events", "oom_kill") > 0;
  }

  Result<void> kill_now() override {
    if (control_exists(dir_ / "cgroup.kill")) return write_control(dir_ / "cgroup.kill", "1");
    kill_listed_pids(dir_ / "cgroup.procs");
    return {};
  }

  Result<void> kill_all() override {
    const auto procs = dir_ / "cgroup.procs";
    if (control_exists(dir_ / "cgroup.kill")) {  // Linux 5.14+: one write kills the group
      if (auto r = write_control(dir_ / "cgroup.kill", "1"); !r) return r;
    } else {
      const bool frozen = freeze().has_value();
      kill_listed_pids(procs);
      (void)thaw();
      for (int pass = 0; !frozen && pass < 100 && kill_listed_pids(procs) > 0; ++pass) {
      }
    }
    return wait_until_empty(procs);
  }

 private:
  fs::path dir_;
  OpenControl peak_;  // read after every invocation
  CgroupFsHooks hooks_;
  bool created_ = false;
  mutable std::uint64_t sampled_peak_ = 0;
};

class CgroupV2Manager final : public CgroupManager {
 public:
  CgroupV2Manager(fs::path parent, CgroupOptions options)
      : parent_(std::move(parent)), options_(std::move(options)) {}

  [[nodiscard]] CgroupVersion version() const override { return CgroupVersion::kV2; }

  Result<std::unique_ptr<Cgroup>> create(std::string_view id, const CgroupLimits& limits) override {
    const fs::path dir = parent_ / std::string(id);
    auto cgroup = std::make_unique<CgroupV2>(dir, options_.hooks);
    if (auto r = make_cgroup_dir(dir, false, options_.hooks); !r) return r.error();
    cgroup->mark_created();
    const std::string bytes = std::to_string(std::uint64_t{limits.memory_mb} << 20);
    if (auto r = write_control(dir / "memory.max", bytes); !r) return r.error();
    if (control_exists(dir / "memory.swap.max")) {  // absent when swap accounting is off
      if (auto r = write_control(dir / "memory.swap.max", "0"); !r) return r.error();
    }
    // "max": no quota, for the init burst.
    const std::string quota =
        limits.cpu_burst ? "max" : std::to_string(cpu_quota_us(limits.memory_mb, kCpuPeriodUs));
    if (auto r = write_control(dir / "cpu.max", cpu_max(quota)); !r) return r.error();
    if (auto r = write_control(dir / "pids.max", std::to_string(limits.pids_max)); !r) {
      return r.error();
    }
    return std::unique_ptr<Cgroup>(std::move(cgroup));
  }

  std::vector<std::string> remove_orphans(const std::function<bool(std::string_view id)>& orphaned,
                                          std::string& failures) override {
    std::vector<std::string> removed;
    for (const auto& id : cgroup_ids_under({parent_})) {
      if (!orphaned(id)) continue;
      const fs::path dir = parent_ / id;
      const auto thaw = [&] {
        (void)write_control(dir / "cgroup.freeze", "0");
        // cgroup.kill (Linux 5.14) kills everything at once, forks in flight included.
        if (control_exists(dir / "cgroup.kill")) (void)write_control(dir / "cgroup.kill", "1");
      };
      if (end_leftover_cgroup({dir}, thaw, options_.hooks, failures)) removed.push_back(id);
    }
    return removed;
  }

 private:
  fs::path parent_;
  CgroupOptions options_;
};

// Controllers reach a child only through its parent's cgroup.subtree_control, and v2 refuses
// that (EBUSY) on a cgroup that holds processes ("no internal processes"). When ember runs
// directly in its cgroup, it moves itself into a "<base>/engine" leaf first, as systemd's
// init.scope does, so the base can delegate controllers to "<base>/<parent>".
Result<void> enable_controllers(const fs::path& base, const fs::path& parent,
                                const CgroupOptions& options) {
  auto r = write_control(base / "cgroup.subtree_control", kEnable);
  if (!r && r.error().err == EBUSY) {
    const fs::path leaf = base / "engine";
    if (auto m = make_cgroup_dir(leaf, true, options.hooks); !m) return m;
    if (auto m = write_control(leaf / "cgroup.procs", std::to_string(::getpid())); !m) return m;
    r = write_control(base / "cgroup.subtree_control", kEnable);
  }
  if (!r) {
    auto error = r.error();
    error.hint = "delegate memory, cpu and pids to ember's cgroup (systemd: Delegate=yes)";
    return error;
  }
  if (auto m = make_cgroup_dir(parent, true, options.hooks); !m) return m;
  return write_control(parent / "cgroup.subtree_control", kEnable);
}

}  // namespace

Result<std::unique_ptr<CgroupManager>> make_cgroup_v2_manager(const fs::path& base,
                                                              CgroupOptions options) {
  const fs::path parent = base / options.parent;
  if (auto r = enable_controllers(base, parent, options); !r) return r.error();
  return std::unique_ptr<CgroupManager>(
      std::make_unique<CgroupV2Manager>(parent, std::move(options)));
}

}  // namespace ember::isolation
