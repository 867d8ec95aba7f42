#include "beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "ember/isolation/unique_fd.hpp"

namespace ember::image {

int open_beneath(int root_fd, const std::string& path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

void make_parents_beneath(int root_fd, std::string_view parent) {
  isolation::UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  while (dir && !parent.empty()) {
    const auto slash = parent.find('/');
    const std::string name(parent.substr(0, slash));
    parent.remove_prefix(slash == std::string_view::npos ? parent.size() : slash + 1);
    // 0755 whatever the umask: what a tar of root makes.
    if (::mkdirat(dir.get(), name.c_str(), 0755) == 0) ::fchmodat(dir.get(), name.c_str(), 0755, 0);
    dir.reset(open_beneath(dir.get(), name, O_PATH | O_DIRECTORY));
  }
}

std::optional<EntryPath> split_path(std::string_view raw, std::string& problem) {
  while (raw.substr(0, 2) == "./") raw.remove_prefix(2);
  if (raw.substr(0, 1) == "/") {
    // umoci names the root "/"; anything below it written that way is refused.
    if (raw.find_first_not_of('/') == std::string_view::npos) return EntryPath{};
    problem = "absolute path";
    return std::nullopt;
  }
  std::vector<std::string_view> parts;
  while (!raw.empty()) {
    const auto slash = raw.find('/');
    const std::string_view part = raw.substr(0, slash);
    raw.remove_prefix(slash == std::string_view::npos ? raw.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      problem = "'..' in the path";
      return std::nullopt;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return EntryPath{};  // the root itself
  EntryPath out;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (i > 0) out.parent += '/';
    out.parent += parts[i];
  }
  out.name = std::string(parts.back());
  out.path = out.parent.empty() ? out.name : out.parent + "/" + out.name;
  return out;
}

}  // namespace ember::image
