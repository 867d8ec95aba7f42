// Where an OCI runtime puts a container's cgroups, and removing what it leaves there.
//
// A sandbox's own cgroup ("<parent>/ember-<id>", made by ember with its limits) is the
// container's parent: the runtime makes and deletes the container's cgroup below it in every
// hierarchy it knows (on v1 also devices, blkio, cpuset, ...), where ember's cgroup exists only
// in memory, cpu, pids and freezer. Peak memory and OOM kills stay readable in the parent
// after the runtime deleted the container.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ember/isolation/sys_error.hpp"

namespace ember::isolation {

// The container's cgroup below the sandbox's own, in each hierarchy.
inline constexpr const char* kOciContainerCgroup = "container";

// Every cgroup and cgroup2 mount point of /proc/self/mountinfo.
std::vector<std::filesystem::path> cgroup_hierarchy_roots();

// "/a/b" for "<mount>/a/b": the path of a cgroup directory inside its hierarchy, found by
// walking up while the parent is on the same file system.
Result<std::string> path_in_hierarchy(const std::filesystem::path& cgroup_dir);

// rmdir of "<root><path_in_hierarchy>/container", then of "<root><path_in_hierarchy>", in every
// hierarchy; what is absent or still busy is left.
void remove_container_cgroups(const std::vector<std::filesystem::path>& roots,
                              const std::string& path_in_hierarchy);

}  // namespace ember::isolation
