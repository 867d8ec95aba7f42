#include "layers.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "messages.hpp"

namespace ember::config::detail {

namespace fs = std::filesystem;

namespace {

// The host's mount points, from /proc/self/mountinfo (field 5; octal escapes as the kernel
// writes them, which only matter for paths with spaces).
std::vector<fs::path> mount_points() {
  std::vector<fs::path> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id;
    std::string parent;
    std::string device;
    std::string root;
    std::string point;
    if (fields >> id >> parent >> device >> root >> point) out.emplace_back(point);
  }
  return out;
}

void check_layer(const Walker& walker, const Entry& element, const fs::path& dir) {
  const std::string text = dir.string();
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) {
    walker.fail(element, "directory " + text + " does not exist");
  }
  if (ec) walker.fail(element, "cannot access " + text + ": " + ec.message());
  if (!fs::is_directory(status)) walker.fail(element, text + " is not a directory");
  if (dir == dir.root_path()) {
    walker.fail(element, "`/` cannot be a layer: the function would see the host's root at /opt");
  }
  if (text.find_first_of(":,") != std::string::npos) {
    walker.fail(element, text + " has a `:` or `,`, which overlayfs cannot take in a layer path");
  }
  if (auto point = mount_below(fs::canonical(dir, ec))) {
    walker.fail(element, text + " holds the mount point " + point->string() +
                             ", which a layer cannot carry into the sandbox");
  }
}

}  // namespace

std::optional<fs::path> mount_below(const fs::path& dir) {
  const std::string prefix = dir == dir.root_path() ? dir.string() : dir.string() + "/";
  for (const auto& point : mount_points()) {
    if (point.string().starts_with(prefix) && point != dir) return point;
  }
  return std::nullopt;
}

void read_layers(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  if (!entry.value.IsSequence()) {
    walker.fail(entry, "expected a list of directories, got " + describe(entry.value));
  }
  if (entry.value.size() > kMaxLayers) {
    walker.fail(entry, "at most " + std::to_string(kMaxLayers) + " layers, as on Lambda; got " +
                           std::to_string(entry.value.size()));
  }
  function.layers.clear();
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    const YAML::Node& node = item;
    const Entry element{entry.key_path + "[" + std::to_string(index++) + "]", node, node};
    auto dir = walker.path(element);
    check_layer(walker, element, dir);
    function.layers.push_back(std::move(dir));
  }
}

std::string default_layers() { return "[]"; }

}  // namespace ember::config::detail
