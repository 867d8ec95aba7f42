#include "sandbox_path.hpp"

#include <utility>

#include "ember_paths.hpp"

namespace ember::isolation {

std::string sandbox_path(const SandboxSpec& spec, const std::filesystem::path& path) {
  if (path.empty()) return kTaskRoot;
  for (const auto& [host, inside] :
       {std::pair{spec.code_dir, kTaskRoot}, std::pair{spec.runtime_dir, kRuntimeRoot}}) {
    if (host.empty()) continue;
    const std::filesystem::path rel = path.lexically_relative(host);
    if (rel.empty() || *rel.begin() == "..") continue;
    return rel == "." ? std::string(inside) : (std::filesystem::path(inside) / rel).string();
  }
  return path.string();
}

}  // namespace ember::isolation
