#include "install_layout.hpp"

#include <cstdlib>
#include <system_error>

namespace ember::cli {

namespace fs = std::filesystem;

namespace {

// The first of the build tree's and the installed path that exists.
fs::path first_existing(const fs::path& bin_dir, const char* in_build_tree, const char* installed) {
  std::error_code ec;
  if (fs::exists(bin_dir / in_build_tree, ec)) return bin_dir / in_build_tree;
  return (bin_dir / installed).lexically_normal();
}

}  // namespace

fs::path self_exe() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("ember") : path;
}

InstallLayout locate_install() {
  const fs::path bin_dir = self_exe().parent_path();
  InstallLayout layout;
  layout.sandbox_init = first_existing(bin_dir, "ember-sandbox-init", EMBER_INIT_FROM_BIN);
  layout.arm_library = layout.sandbox_init.parent_path() / "libember-arm.so";
  if (const char* dir = std::getenv("EMBER_RUNTIMES_DIR")) {  // NOLINT(concurrency-mt-unsafe)
    layout.runtimes_dir = dir;
  } else {
    layout.runtimes_dir = first_existing(bin_dir, "runtimes", EMBER_RUNTIMES_FROM_BIN);
  }
  return layout;
}

}  // namespace ember::cli
