// Paths inside an unpacked tree's root, shared by the layer and zip unpackers: archive entry
// names that cannot leave the root, and opening without following any symlink out of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ember::image {

// Inside the root only: no symlink followed (RESOLVE_NO_SYMLINKS), no '..' or absolute path
// leaving it (RESOLVE_BENEATH), no other mount. Returns the fd or -1 with errno.
int open_beneath(int root_fd, const std::string& path, std::uint64_t flags);

// Makes the directories of `parent` ("a/b") that are missing, as a tar would (0755, each opened
// beneath the last, so no symlink is followed). Stops quietly at the first that cannot be made;
// the caller's open of `parent` reports why.
void make_parents_beneath(int root_fd, std::string_view parent);

// An archive entry's path as components, refusing what could leave the root.
struct EntryPath {
  std::string path;    // "a/b/c", no leading "./"
  std::string parent;  // "a/b", or "" for the root
  std::string name;    // "c"
};

// Nullopt with `problem` set ("absolute path", "'..' in the path") when the path could leave
// the root; an empty EntryPath for the root itself.
std::optional<EntryPath> split_path(std::string_view raw, std::string& problem);

}  // namespace ember::image
