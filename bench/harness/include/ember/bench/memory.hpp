// What the kernel says about memory, read the way `ember bench memory` needs it: the
// system-wide counters of /proc/meminfo, a process's memory cgroup charge and the Pss of the
// processes in it. Read-only; nothing here drops caches or changes a cgroup.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ember::bench {

// /proc/meminfo: field name -> KiB (every "Name: N kB" line; HugePages counts are left out).
using MemInfo = std::map<std::string, double>;

MemInfo read_meminfo();
// `reads` readings `interval` apart, field by field the median: one reading catches whatever
// else the machine was doing at that moment.
MemInfo median_meminfo(std::size_t reads, std::chrono::milliseconds interval);
// MemTotal - MemAvailable: what the kernel could not give back without killing something.
double unavailable_kib(const MemInfo& info);

// Where a process's memory is accounted: its memory cgroup, v1 or v2 (detected from
// /proc/PID/cgroup; a hybrid host with a v1 memory hierarchy counts as v1).
struct MemoryCgroup {
  std::string path;  // as /proc/PID/cgroup names it, e.g. "/ember/fn-12-3"
  std::string dir;   // the directory in the mounted hierarchy
  bool v2 = false;
  // memory.usage_in_bytes (v1) or memory.current (v2) in KiB; nullopt when unreadable.
  [[nodiscard]] std::optional<double> charge_kib() const;
  // The part of the charge that is kernel objects, in KiB: memory.kmem.usage_in_bytes (v1),
  // memory.stat's "kernel" (v2, 5.18+); nullopt when the kernel does not say.
  [[nodiscard]] std::optional<double> kernel_kib() const;
  // The pids in the group (cgroup.procs).
  [[nodiscard]] std::vector<pid_t> pids() const;
};

// nullopt when the process is gone or its memory cgroup is not mounted here.
std::optional<MemoryCgroup> memory_cgroup_of(pid_t pid);

// Pss of /proc/PID/smaps_rollup in KiB; nullopt when the process is gone.
std::optional<double> pss_kib(pid_t pid);

}  // namespace ember::bench
