// Steps both cgroup backends share: directories, pid lists, waiting for a group to empty.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup.hpp"

namespace ember::isolation {

// mkdir that tolerates an existing directory when existing_ok (the shared parent).
Result<void> make_cgroup_dir(const std::filesystem::path& dir, bool existing_ok,
                             const CgroupFsHooks& hooks);
// rmdir, retried briefly on EBUSY: the last killed task may still be leaving.
Result<void> remove_cgroup_dir(const std::filesystem::path& dir, const CgroupFsHooks& hooks);
// SIGKILL to every pid listed in procs_file; returns how many were signalled.
int kill_listed_pids(const std::filesystem::path& procs_file);
// Polls procs_file until it lists no pid. There is no v1 notification for "empty" that works
// without a release agent, so this polls every millisecond, for at most timeout.
Result<void> wait_until_empty(const std::filesystem::path& procs_file,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Thaws, kills and removes one leftover cgroup: `dirs` are its directories (one per v1
// hierarchy, or v2's one), `thaw` writes what thaws it. False after adding why to `failures`.
bool end_leftover_cgroup(const std::vector<std::filesystem::path>& dirs,
                         const std::function<void()>& thaw, const CgroupFsHooks& hooks,
                         std::string& failures);
// Polls a file until its text contains want, for at most timeout (freezer state changes).
Result<void> wait_for_text(const std::filesystem::path& file, std::string_view want,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace ember::isolation
