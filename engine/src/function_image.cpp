#include "ember/engine/function_image.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sstream>

#include "ember/isolation/unique_fd.hpp"
#include "function_store.hpp"
#include "function_versions.hpp"

namespace ember::engine {
namespace {

namespace fs = std::filesystem;

// `path` inside the image: its symlinks resolve within the root as the sandbox would see them.
std::optional<struct stat> stat_in_root(const fs::path& rootfs, const std::string& path) {
  const isolation::UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return std::nullopt;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const isolation::UniqueFd file(
      static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  struct stat st {};
  if (!file.valid() || ::fstat(file.get(), &st) != 0) return std::nullopt;
  return st;
}

std::string octal_mode(mode_t mode) {
  std::ostringstream out;
  out << std::oct << (mode & 07777);
  return "0" + out.str();
}

// The image's PATH, or the usual one when it sets none.
std::vector<std::string> search_path(const image::ImageConfig& config) {
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& variable : config.env) {
    if (variable.starts_with("PATH=")) path = variable.substr(5);
  }
  std::vector<std::string> dirs;
  std::stringstream in(path);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (!dir.empty()) dirs.push_back(dir);
  }
  return dirs;
}

// The sandbox user (not root, not the file's owner) may run it.
bool executable_by_others(const struct stat& st) {
  return S_ISREG(st.st_mode) && (st.st_mode & S_IXOTH) != 0 && (st.st_mode & S_IROTH) != 0;
}

// Who runs an image function's programs, for a message.
std::string sandbox_users(const config::NodeConfig& node) {
  return node.sandbox_uid_range ? std::string("the sandboxes' users (node.sandbox_uid_range)")
                                : "the sandbox user " + std::to_string(node.sandbox_uid);
}

// What the image function runs first, as an absolute path inside the image.
std::string resolve_program(const image::StoredImage& stored, const std::string& program,
                            const std::string& sandbox_user) {
  std::string path = program;
  if (program.find('/') == std::string::npos) {
    path.clear();
    for (const std::string& dir : search_path(stored.config)) {
      std::string candidate = std::string(dir).append("/").append(program);
      const auto st = stat_in_root(stored.rootfs, candidate);
      if (st && S_ISREG(st->st_mode)) {
        path = std::move(candidate);
        break;
      }
    }
    if (path.empty()) {
      throw image::ImageError(program + " is not in the image's PATH");
    }
  } else if (!program.starts_with('/')) {
    throw image::ImageError(program +
                            ": the first program must be an absolute path or a name "
                            "found in the image's PATH");
  }
  const auto st = stat_in_root(stored.rootfs, path);
  if (!st) throw image::ImageError(path + " does not exist in the image");
  if (!executable_by_others(*st)) {
    throw image::ImageError(path + " (mode " + octal_mode(st->st_mode) +
                            ") cannot be read and executed by " + sandbox_user +
                            "; make it world-readable and executable");
  }
  return path;
}

}  // namespace

image::ImageStore node_image_store(const config::NodeConfig& node) {
  image::StoreOptions options;
  options.dir = node.state_dir / "images";
  options.max_unpacked_bytes = node.max_image_mb << 20U;
  return image::ImageStore(std::move(options));
}

LeasedImage lease_image(image::ImageStore& store, const image::ImageRef& ref) {
  image::StoredImage stored = store.ensure(ref);
  try {
    auto lease = store.lease(stored.digest);
    return {std::move(stored), std::move(lease)};
  } catch (const image::ImageError&) {
    // `ember image prune` removed it between the two calls: unpack it again.
    stored = store.ensure(ref);
    auto lease = store.lease(stored.digest);
    return {std::move(stored), std::move(lease)};
  }
}

void check_image_launch(image::StoredImage& stored, config::ImageOverrides& overrides,
                        const config::NodeConfig& node) {
  if (overrides.entrypoint.empty() && overrides.command.empty() &&
      stored.config.entrypoint.empty() && stored.config.cmd.empty()) {
    throw image::ImageError(
        "the image has no entrypoint and no command; set image_config.entrypoint or "
        "image_config.command");
  }
  // The first program: the entrypoint's, or the command's when there is no entrypoint.
  auto& first = !overrides.entrypoint.empty()       ? overrides.entrypoint
                : !stored.config.entrypoint.empty() ? stored.config.entrypoint
                : !overrides.command.empty()        ? overrides.command
                                                    : stored.config.cmd;
  first.front() = resolve_program(stored, first.front(), sandbox_users(node));
}

std::map<std::string, std::vector<std::string>> control_plane_images(
    const std::filesystem::path& state_dir) {
  std::map<std::string, std::vector<std::string>> out;
  const FunctionStore store(state_dir);
  std::vector<std::string> problems;
  for (const auto& f : store.load(problems)) {
    if (f.is_image()) out["sha256:" + f.code_sha256_hex].push_back(f.name);
    std::string problem;
    const auto json = store.load_versions(f.name, problem);
    if (!json) continue;
    try {
      for (const auto& [n, v] : function_versions_from_json(*json).versions) {
        if (v.is_image()) {
          out["sha256:" + v.code_sha256_hex].push_back(f.name + ":" + std::to_string(n));
        }
      }
    } catch (const std::exception&) {
      // The node reports it when it loads the function.
    }
  }
  return out;
}

}  // namespace ember::engine
