// Where ember's other pieces are, relative to the running `ember`: the build tree's layout
// (ember-sandbox-init and runtimes/ next to it) or the installed one (bin/ember,
// libexec/ember/ember-sandbox-init, share/ember/runtimes), so neither path is baked in.
#pragma once

#include <filesystem>

namespace ember::cli {

struct InstallLayout {
  std::filesystem::path sandbox_init;  // pid 1 of every native sandbox
  std::filesystem::path arm_library;   // libember-arm.so, beside sandbox_init: the zygote's arming
  std::filesystem::path runtimes_dir;  // ember's runtime clients, with their bytecode
};

// EMBER_RUNTIMES_DIR overrides the runtimes; a piece found in neither layout gets the
// installed layout's path, so the error that follows names where it was expected.
InstallLayout locate_install();

// The running executable (/proc/self/exe); "ember" (looked up in PATH) if that cannot be read.
std::filesystem::path self_exe();

}  // namespace ember::cli
