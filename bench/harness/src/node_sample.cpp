#include "ember/bench/node_sample.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace ember::bench {

namespace fs = std::filesystem;

namespace {

std::size_t entries_in(const fs::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

// "Threads:\t12" -> 12 for key "Threads:"; VmRSS is in kB.
std::optional<double> status_field(const std::string& status, const std::string& key) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(key)) continue;
    try {
      return std::stod(line.substr(key.size()));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The hierarchies a /proc/PID/cgroup line's CONTROLLERS field names: cgroup v2 (empty) is
// /sys/fs/cgroup/unified on a hybrid host, else /sys/fs/cgroup; v1 "cpu,cpuacct" may be
// mounted under that name or under each controller's.
std::vector<fs::path> hierarchies_of(std::string controllers) {
  const fs::path root = "/sys/fs/cgroup";
  if (controllers.empty()) return {root / "unified", root};
  if (controllers.starts_with("name=")) controllers = controllers.substr(5);
  std::vector<fs::path> out{root / controllers};
  for (std::size_t at = 0; at <= controllers.size();) {
    const auto comma = std::min(controllers.find(',', at), controllers.size());
    out.push_back(root / controllers.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// Adds the entries of `parent` whose name holds `mark` to `seen`.
void add_marked(const fs::path& parent, const std::string& mark, std::set<fs::path>& seen) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().find(mark) != std::string::npos) {
      seen.insert(fs::weakly_canonical(it->path(), ec));
    }
  }
}

// The sandbox cgroups `pid` made: "<hierarchy>/<its cgroup>/ember/<function>-<pid>-<n>" (and
// "<hierarchy>/ember/..." when the hierarchy is mounted at its cgroup), in every hierarchy it
// is in, v1 and v2 alike. One that outlives its sandbox shows here.
std::size_t sandbox_cgroups(pid_t pid) {
  const std::string mark = "-" + std::to_string(pid) + "-";
  std::set<fs::path> seen;
  std::istringstream lines(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    // "ID:CONTROLLERS:PATH"; CONTROLLERS is empty for cgroup v2.
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const fs::path own = fs::path(line.substr(second + 1)).relative_path();
    for (const auto& h : hierarchies_of(line.substr(first + 1, second - first - 1))) {
      add_marked(h / own / "ember", mark, seen);
      add_marked(h / "ember", mark, seen);
    }
  }
  return seen.size();
}

std::size_t bytes_under(const fs::path& dir) {
  std::error_code ec;
  std::size_t total = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      const auto size = it->file_size(ec);
      if (!ec) total += size;
    }
  }
  return total;
}

}  // namespace

std::optional<NodeSample> sample_node(pid_t pid, const fs::path& log_dir,
                                      const fs::path& stdout_file) {
  const fs::path proc = "/proc/" + std::to_string(pid);
  const std::string status = read_text(proc / "status");
  const auto rss = status_field(status, "VmRSS:");
  const auto threads = status_field(status, "Threads:");
  if (!rss || !threads) return std::nullopt;  // gone, or a zombie
  NodeSample s;
  s.fds = static_cast<double>(entries_in(proc / "fd"));
  s.rss_kib = *rss;
  s.threads = *threads;
  s.cgroups = static_cast<double>(sandbox_cgroups(pid));
  const std::string mountinfo = read_text(proc / "mountinfo");
  s.mounts = static_cast<double>(std::count(mountinfo.begin(), mountinfo.end(), '\n'));
  std::error_code ec;
  const auto out_size = fs::file_size(stdout_file, ec);
  s.log_bytes = static_cast<double>(bytes_under(log_dir) + (ec ? 0 : out_size));
  return s;
}

std::vector<std::pair<std::string, double>> figures_of(const NodeSample& sample) {
  return {{"fds", sample.fds},         {"rss_kib", sample.rss_kib},
          {"threads", sample.threads}, {"cgroups", sample.cgroups},
          {"mounts", sample.mounts},   {"log_bytes", sample.log_bytes}};
}

}  // namespace ember::bench
