// The sandbox's file system: a read-only tmpfs root assembled from host pieces, then pivoted.
#pragma once

#include <span>

#include "step.hpp"

namespace ember::isolation::init {

// Ordered steps; run as pid 1 of the new pid namespace, inside the new mount namespace.
std::span<const Step> rootfs_steps(const InitConfig& config);

}  // namespace ember::isolation::init
