// An image function's image as the node runs it: unpacked (or found) in the node's store,
// leased while the node runs, and checked that its first program can start. Shared by
// `ember serve` (the config file's image functions) and the control plane (CreateFunction with
// PackageType Image).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/image/image.hpp"

namespace ember::engine {

// The store of the node's state directory (STATE_DIR/images), with the node's limits.
image::ImageStore node_image_store(const config::NodeConfig& node);

struct LeasedImage {
  image::StoredImage stored;
  image::ImageLease lease;  // `ember image prune` leaves it alone while this lives
};

// Unpacks (or finds) the image `ref` names and leases it. Slow on first use: call it off the
// engine's thread. Throws image::ImageError naming the reference and the problem.
LeasedImage lease_image(image::ImageStore& store, const image::ImageRef& ref);

// Checks that `stored` with `overrides` can start: an entrypoint or a command, and a first
// program the sandbox users of `node` can execute. A bare first program is looked up in the image's
// PATH and replaced by its path where it was found (in `overrides` or in `stored.config`).
// Only looks at a few files of the unpacked root. Throws image::ImageError.
void check_image_launch(image::StoredImage& stored, config::ImageOverrides& overrides,
                        const config::NodeConfig& node);

// The images the control plane's image functions and their versions stored in `state_dir` use
// (STATE_DIR/functions, STATE_DIR/versions), read without a running node: digest
// ("sha256:HEX") -> the functions ("NAME", "NAME:N"). Files that do not read are left out.
std::map<std::string, std::vector<std::string>> control_plane_images(
    const std::filesystem::path& state_dir);

}  // namespace ember::engine
