#include "ember/client/oci_image.hpp"

#include <chrono>
#include <stdexcept>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"

namespace ember::client {

namespace fs = std::filesystem;

void run_tool(const std::vector<std::string>& argv) {
  const TempDir logs("ember-tool-");
  ChildOptions options;
  options.argv = argv;
  options.output = logs.path() / "output";
  ChildProcess child(options);
  const auto status = child.wait_for(std::chrono::minutes(5));
  if (status != 0) {
    std::string command;
    for (const auto& a : argv) command.append(command.empty() ? "" : " ").append(a);
    throw std::runtime_error(command + ": exit " + (status ? std::to_string(*status) : "timeout") +
                             ": " + read_file(logs.path() / "output"));
  }
}

void build_oci_image(const fs::path& root, const fs::path& layout, const std::string& tag,
                     const OciImageSpec& spec) {
  const std::string image = layout.string() + ":" + tag;
  if (!fs::exists(layout / "index.json")) run_tool({"umoci", "init", "--layout", layout.string()});
  run_tool({"umoci", "new", "--image", image});
  run_tool({"umoci", "insert", "--image", image, root.string(), "/"});
  std::vector<std::string> config = {"umoci", "config", "--image", image};
  // umoci's --config.entrypoint and --config.cmd append; an empty list is left out.
  for (const auto& e : spec.entrypoint) config.push_back("--config.entrypoint=" + e);
  for (const auto& c : spec.cmd) config.push_back("--config.cmd=" + c);
  for (const auto& e : spec.env) config.push_back("--config.env=" + e);
  if (!spec.working_dir.empty()) config.push_back("--config.workingdir=" + spec.working_dir);
  if (!spec.architecture.empty()) config.push_back("--architecture=" + spec.architecture);
  run_tool(config);
  // umoci leaves the superseded manifests and configs behind; harmless, but skopeo copies
  // only what the tag names anyway.
}

void copy_image(const std::string& from, const std::string& to,
                const std::vector<std::string>& options) {
  std::vector<std::string> argv = {"skopeo", "copy", "--quiet"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(from);
  argv.push_back(to);
  run_tool(argv);
}

}  // namespace ember::client
