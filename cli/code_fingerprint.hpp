// Noticing that a function's code changed without reading it: a reload replaces a function
// whose files changed even when its settings did not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "ember/config/config.hpp"
#include "ember/image/image.hpp"

namespace ember::cli {

// A digest of a directory tree's names, types, sizes, modification times (nanoseconds) and
// symlink targets, not of file contents: it changes when a file is added, removed, renamed or
// written. A tree that cannot be read gives what could be read; __pycache__ directories are
// left out.
std::uint64_t tree_fingerprint(const std::filesystem::path& root);

// Of a file alone (size, modification time, inode): an editor that saves by renaming counts.
std::uint64_t file_fingerprint(const std::filesystem::path& file);

// Per function: its code directory's and layers' trees, or its image's digest.
std::map<std::string, std::uint64_t> code_fingerprints(
    const config::Config& config, const std::map<std::string, image::StoredImage>& images);

}  // namespace ember::cli
