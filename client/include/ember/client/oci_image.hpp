// Building OCI images without Docker or a registry, with umoci and skopeo: the tests' images
// and the bench's image of the function it measures.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ember::client {

// Runs a tool to completion (at most 5 minutes); throws std::runtime_error with the command
// and its output when it fails.
void run_tool(const std::vector<std::string>& argv);

struct OciImageSpec {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // KEY=VALUE
  std::string working_dir;
  std::string architecture;  // empty: umoci's default, the host's
};

// A new OCI layout at `layout` (created when missing) with the image `tag`: one layer holding
// what `root` holds (umoci init/new/insert/config).
void build_oci_image(const std::filesystem::path& root, const std::filesystem::path& layout,
                     const std::string& tag, const OciImageSpec& spec);

// `skopeo copy FROM TO`, with its transport syntax ("oci:DIR:TAG", "docker-archive:F:N:T").
void copy_image(const std::string& from, const std::string& to,
                const std::vector<std::string>& options = {});

}  // namespace ember::client
