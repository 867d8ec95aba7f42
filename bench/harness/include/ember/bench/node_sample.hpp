// What a running node holds, read from /proc and cgroupfs: the figures `ember bench soak`
// samples each second to show they stay flat under load.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ember::bench {

struct NodeSample {
  double at_s = 0;       // seconds since the soak's start
  double fds = 0;        // open file descriptors (/proc/PID/fd)
  double rss_kib = 0;    // resident memory (VmRSS)
  double threads = 0;    // /proc/PID/status Threads
  double cgroups = 0;    // sandbox cgroup directories the node made, all hierarchies
  double mounts = 0;     // lines of /proc/PID/mountinfo (the node's mount namespace)
  double log_bytes = 0;  // bytes under the log directory plus the node's stdout file
};

// One reading of `pid`; nullopt when the process is gone. `log_dir` and `stdout_file` may not
// exist (yet): they count 0.
std::optional<NodeSample> sample_node(pid_t pid, const std::filesystem::path& log_dir,
                                      const std::filesystem::path& stdout_file);

// The names and values of a sample's figures, in a fixed order (fds, rss_kib, ...).
std::vector<std::pair<std::string, double>> figures_of(const NodeSample& sample);

}  // namespace ember::bench
