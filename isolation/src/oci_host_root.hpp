// The root directory of a code function's OCI container: mount points only, shared.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "oci_config.hpp"

namespace ember::isolation {

// Makes dir afresh: the native root's layout (host_root_paths.hpp) as empty mount points, the
// host's /bin /lib* symlinks copied, a generated /etc/passwd, /etc/group and /etc/hostname.
// The runtime mounts the host pieces onto it read-only inside each container; the host never
// sees those mounts, and the directory itself is the container's read-only root.
Result<OciHostRoot> build_oci_host_root(const std::filesystem::path& dir, uid_t uid, gid_t gid);

}  // namespace ember::isolation
