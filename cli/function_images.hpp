// The images of a configuration's image functions, unpacked and checked before the node
// starts, and kept in use (leased) while it runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/engine/function_image.hpp"
#include "ember/image/image.hpp"

namespace ember::cli {

struct FunctionImages {
  std::map<std::string, image::StoredImage> by_function;  // NodeOptions::images
  std::vector<image::ImageLease> leases;                  // prune leaves these alone
};

// Unpacks (or finds) every image function's image and checks it can run: an entrypoint or a
// command, and a first program the sandbox user can execute (a bare name is looked up in the
// image's PATH and replaced by its path). On a problem, prints "ember serve: FILE:LINE:COL:
// function NAME: image REF: problem" and returns nullopt.
std::optional<FunctionImages> prepare_function_images(config::Config& config);
// Same, without printing: the problem as "FILE:LINE:COL: function NAME: image REF: problem".
std::variant<FunctionImages, std::string> load_function_images(config::Config& config);

}  // namespace ember::cli
