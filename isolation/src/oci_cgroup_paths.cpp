#include "oci_cgroup_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ember::isolation {

namespace fs = std::filesystem;

std::vector<fs::path> cgroup_hierarchy_roots() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::vector<fs::path> roots;
  for (std::string line; std::getline(mountinfo, line);) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS"
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream before(line.substr(0, dash));
    std::istringstream after(line.substr(dash + 3));
    std::string field;
    for (int i = 0; i < 4; ++i) before >> field;  // id, parent, major:minor, root
    std::string mount_point;
    before >> mount_point;
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    if (std::find(roots.begin(), roots.end(), mount_point) == roots.end()) {
      roots.emplace_back(mount_point);
    }
  }
  return roots;
}

Result<std::string> path_in_hierarchy(const fs::path& cgroup_dir) {
  struct stat st {};
  if (::stat(cgroup_dir.c_str(), &st) < 0) return last_error("stat " + cgroup_dir.string());
  fs::path root = cgroup_dir;
  for (fs::path up = root.parent_path(); up != root; up = root.parent_path()) {
    struct stat parent {};
    if (::stat(up.c_str(), &parent) < 0) return last_error("stat " + up.string());
    if (parent.st_dev != st.st_dev) break;
    root = up;
  }
  return "/" + cgroup_dir.lexically_relative(root).string();
}

void remove_container_cgroups(const std::vector<fs::path>& roots,
                              const std::string& path_in_hierarchy) {
  const fs::path relative = fs::path(path_in_hierarchy).relative_path();
  if (relative.empty()) return;  // never the hierarchy's root
  for (const auto& root : roots) {
    ::rmdir((root / relative / kOciContainerCgroup).c_str());
    ::rmdir((root / relative).c_str());
  }
}

}  // namespace ember::isolation
