// A function's `layers`: host directories merged read-only at /opt, as Lambda layers.
#pragma once

#include <filesystem>
#include <optional>

#include "ember/config/config.hpp"
#include "walker.hpp"

namespace ember::config::detail {

// Lambda's limit on layers per function.
inline constexpr std::size_t kMaxLayers = 5;

// A list of existing directories, each absolute once read; none is `/`, holds a mount point
// below it, or has a `:` or `,` in its path (overlayfs separates its lower directories with
// them).
void read_layers(const Walker& walker, const Entry& entry, FunctionConfig& function);

// A mount point strictly below `dir` (absolute, canonical), if the host has one. Code
// directories and layers are bound without their submounts, so the function would see a
// different tree than the host, or a writable one: both refuse such directories.
std::optional<std::filesystem::path> mount_below(const std::filesystem::path& dir);
std::string default_layers();

}  // namespace ember::config::detail
