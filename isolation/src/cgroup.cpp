// Detection of the cgroup version and the helpers both backends share.
#include "cgroup.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "cgroup_files.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto end = text.find(separator);
    if (end != 0) parts.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return parts;
}

bool has_word(std::string_view text, std::string_view word) {
  for (auto line : split(text, '\n')) {
    for (auto w : split(line, ' ')) {
      if (w == word) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(CgroupVersion version) {
  switch (version) {
    case CgroupVersion::kV1:
      return "v1";
    case CgroupVersion::kV2:
      return "v2";
    case CgroupVersion::kNone:
      break;
  }
  return "none";
}

std::uint64_t cpu_quota_us(std::uint32_t memory_mb, std::uint64_t period_us) {
  const std::uint64_t quota = period_us * memory_mb / kMemoryMbPerCpu;
  return std::max<std::uint64_t>(quota, 1000);
}

CgroupMounts parse_cgroup_mounts(
    std::string_view mountinfo,
    const std::function<std::string(const fs::path&)>& unified_controllers) {
  CgroupMounts mounts;
  for (auto line : split(mountinfo, '\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS"
    const auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const fs::path mount_point{std::string(before[4])};
    if (after[0] == "cgroup2") {
      const std::string controllers = unified_controllers(mount_point);
      if (mounts.unified.empty() && has_word(controllers, "memory") &&
          has_word(controllers, "cpu") && has_word(controllers, "pids")) {
        mounts.unified = mount_point;
      }
    } else if (after[0] == "cgroup") {
      for (auto option : split(after[2], ',')) {
        if (option == "rw" || option == "ro" || option.find('=') != std::string_view::npos) {
          continue;
        }
        mounts.v1.emplace(std::string(option), mount_point);
      }
    }
  }
  return mounts;
}

std::string own_unified_cgroup(std::string_view proc_self_cgroup) {
  for (auto line : split(proc_self_cgroup, '\n')) {
    if (line.starts_with("0::")) return std::string(line.substr(3));
  }
  return {};
}

Result<std::unique_ptr<CgroupManager>> detect_cgroup_manager(const CgroupOptions& options) {
  auto mountinfo = read_control("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error();
  const auto mounts = parse_cgroup_mounts(*mountinfo, [](const fs::path& mount) {
    auto text = read_control(mount / "cgroup.controllers");
    return text ? *text : std::string{};
  });
  if (!mounts.unified.empty()) {
    auto self = read_control("/proc/self/cgroup");
    if (!self) return self.error();
    const std::string own = own_unified_cgroup(*self);
    return make_cgroup_v2_manager(mounts.unified / fs::path(own).relative_path(), options);
  }
  std::string missing;
  for (const char* controller : {"memory", "cpu", "pids", "freezer"}) {
    if (!mounts.v1.contains(controller)) {
      missing += std::string(missing.empty() ? "" : ", ") + controller;
    }
  }
  if (missing.empty()) return make_cgroup_v1_manager(mounts.v1, options);
  return SysError{ENOENT,
                  "detect cgroups: no cgroup2 mount with memory, cpu and pids, and no cgroup v1 "
                  "hierarchy for " +
                      missing,
                  "mount cgroup2 on /sys/fs/cgroup (systemd.unified_cgroup_hierarchy=1) or the "
                  "v1 controllers, or run functions with `isolation: none`"};
}

}  // namespace ember::isolation
