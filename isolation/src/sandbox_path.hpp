// Host paths of a function as its worker sees them inside a sandbox (native and OCI).
#pragma once

#include <filesystem>
#include <string>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {

// A host path under spec.code_dir or spec.runtime_dir becomes the same path under /var/task or
// /var/runtime; anything else is taken as a path inside already; empty is /var/task.
std::string sandbox_path(const SandboxSpec& spec, const std::filesystem::path& path);

}  // namespace ember::isolation
