#include "ember/bench/memory.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "ember/bench/stats.hpp"

namespace ember::bench {

namespace {

std::optional<double> read_number(const std::string& path) {
  std::ifstream in(path);
  double value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// The value of "NAME VALUE" (memory.stat) or "NAME: VALUE kB" (smaps_rollup) lines.
std::optional<double> keyed_value(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key)) continue;
    std::istringstream fields(line.substr(key.size()));
    double value = 0;
    if (fields >> value) return value;
  }
  return std::nullopt;
}

// The mount point of the cgroup hierarchy holding `controller` ("" for cgroup2), from this
// process's /proc/self/mountinfo, joined with `path`; "" when it is not mounted.
std::string hierarchy_dir(const std::string& controller, const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::istringstream tail(line.substr(dash + 3));
    std::string id;
    std::string parent;
    std::string dev;
    std::string root;
    std::string mount_point;
    std::string fs_type;
    std::string source;
    std::string super_options;
    head >> id >> parent >> dev >> root >> mount_point;
    tail >> fs_type >> source >> super_options;
    const bool match =
        controller.empty()
            ? fs_type == "cgroup2"
            : fs_type == "cgroup" &&
                  ("," + super_options + ",").find("," + controller + ",") != std::string::npos;
    if (!match || !path.starts_with(root)) continue;
    const auto rest = root == "/" ? path : path.substr(root.size());
    return mount_point + rest;
  }
  return "";
}

}  // namespace

MemInfo read_meminfo() {
  MemInfo out;
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.find(" kB") == std::string::npos) continue;
    std::istringstream value(line.substr(colon + 1));
    double kib = 0;
    if (value >> kib) out[line.substr(0, colon)] = kib;
  }
  return out;
}

MemInfo median_meminfo(std::size_t reads, std::chrono::milliseconds interval) {
  std::map<std::string, std::vector<double>> samples;
  for (std::size_t i = 0; i < std::max<std::size_t>(reads, 1); ++i) {
    if (i > 0) std::this_thread::sleep_for(interval);
    for (const auto& [name, kib] : read_meminfo()) samples[name].push_back(kib);
  }
  MemInfo out;
  for (auto& [name, values] : samples) out[name] = summarize(values).p50;
  return out;
}

double unavailable_kib(const MemInfo& info) {
  const auto total = info.find("MemTotal");
  const auto available = info.find("MemAvailable");
  if (total == info.end() || available == info.end()) return 0;
  return total->second - available->second;
}

std::optional<double> MemoryCgroup::charge_kib() const {
  const auto bytes = read_number(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"));
  if (!bytes) return std::nullopt;
  return *bytes / 1024;
}

std::optional<double> MemoryCgroup::kernel_kib() const {
  const auto bytes = v2 ? keyed_value(dir + "/memory.stat", "kernel ")
                        : read_number(dir + "/memory.kmem.usage_in_bytes");
  if (!bytes) return std::nullopt;
  return *bytes / 1024;
}

std::vector<pid_t> MemoryCgroup::pids() const {
  std::ifstream in(dir + "/cgroup.procs");
  std::vector<pid_t> out;
  pid_t pid = 0;
  while (in >> pid) out.push_back(pid);
  return out;
}

std::optional<MemoryCgroup> memory_cgroup_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  std::optional<std::string> v1_path;
  std::optional<std::string> v2_path;
  while (std::getline(in, line)) {  // "ID:CONTROLLERS:PATH"
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    // Appended, not `"," + ...`: GCC 12 at -O3 takes that for an overlapping memcpy (-Wrestrict).
    std::string controllers = ",";
    controllers.append(line, first + 1, second - first - 1).append(",");
    const auto path = line.substr(second + 1);
    if (controllers.find(",memory,") != std::string::npos) v1_path = path;
    if (line.starts_with("0::")) v2_path = path;
  }
  MemoryCgroup out;
  if (v1_path) {
    out.path = *v1_path;
    out.dir = hierarchy_dir("memory", *v1_path);
  } else if (v2_path) {
    out.path = *v2_path;
    out.dir = hierarchy_dir("", *v2_path);
    out.v2 = true;
  }
  if (out.dir.empty() || !out.charge_kib()) return std::nullopt;
  return out;
}

std::optional<double> pss_kib(pid_t pid) {
  return keyed_value("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss:");
}

}  // namespace ember::bench
