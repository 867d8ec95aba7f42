// flock(2) locks on the store's per-image lock files: exclusive while an image is unpacked or
// removed, shared while it is leased. Per open file, so threads of one process exclude each
// other as other processes do.
#pragma once

#include <filesystem>

#include "ember/isolation/unique_fd.hpp"

namespace ember::image {

// Opens (creating) and locks `path` with `operation` (LOCK_EX or LOCK_SH, | LOCK_NB). An
// invalid fd when LOCK_NB and someone else holds it. The lock file may be unlinked by its
// exclusive holder: a lock taken on a file that is no longer at `path` is dropped and taken
// again on the new one. Throws ImageError.
isolation::UniqueFd lock_file(const std::filesystem::path& path, int operation);

}  // namespace ember::image
