#include "cgroup_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <thread>

#include "cgroup_files.hpp"

namespace ember::isolation {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(1);

}  // namespace

Result<void> make_cgroup_dir(const std::filesystem::path& dir, bool existing_ok,
                             const CgroupFsHooks& hooks) {
  if (::mkdir(dir.c_str(), 0755) < 0) {
    if (errno == EEXIST && existing_ok) return {};
    if (errno == EEXIST) {
      return last_error("mkdir " + dir.string(),
                        "a cgroup of that name exists: a leftover of a crashed engine? rmdir it");
    }
    return last_error("mkdir " + dir.string(),
                      "ember needs root and a writable cgroup hierarchy (not mounted read-only)");
  }
  if (hooks.after_mkdir) hooks.after_mkdir(dir);
  return {};
}

Result<void> remove_cgroup_dir(const std::filesystem::path& dir, const CgroupFsHooks& hooks) {
  if (hooks.before_rmdir) hooks.before_rmdir(dir);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt >= 1000) {
      return last_error("rmdir " + dir.string(), "processes still in it? see its cgroup.procs");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

int kill_listed_pids(const std::filesystem::path& procs_file) {
  auto text = read_control(procs_file);
  if (!text) return 0;
  int count = 0;
  const char* p = text->data();
  const char* end = p + text->size();
  while (p < end) {
    int pid = 0;
    const auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc{} && pid > 0) {
      ::kill(pid, SIGKILL);
      ++count;
    }
    p = next + 1;
  }
  return count;
}

Result<void> wait_until_empty(const std::filesystem::path& procs_file,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto text = read_control(procs_file);
    if (!text) return text.error();
    if (text->find_first_of("0123456789") == std::string::npos) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return SysError{EBUSY, "wait until " + procs_file.string() + " is empty",
                      "a process survived SIGKILL (stuck in uninterruptible sleep?)"};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::vector<std::string> cgroup_ids_under(const std::vector<std::filesystem::path>& parents) {
  std::vector<std::string> ids;
  for (const auto& parent : parents) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      std::error_code type_ec;
      if (!entry.is_directory(type_ec)) continue;
      auto id = entry.path().filename().string();
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    }
  }
  return ids;
}

bool end_leftover_cgroup(const std::vector<std::filesystem::path>& dirs,
                         const std::function<void()>& thaw, const CgroupFsHooks& hooks,
                         std::string& failures) {
  // A frozen process takes SIGKILL only once thawed: idle workers of a killed node are frozen.
  thaw();
  for (const auto& dir : dirs) {
    for (int pass = 0; pass < 100 && kill_listed_pids(dir / "cgroup.procs") > 0; ++pass) {
    }
  }
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) continue;
    auto emptied = wait_until_empty(dir / "cgroup.procs", std::chrono::seconds(2));
    auto removed = emptied ? remove_cgroup_dir(dir, hooks) : emptied;
    if (!removed) {
      failures += (failures.empty() ? "" : "; ") + removed.error().message();
      return false;
    }
  }
  return true;
}

Result<void> wait_for_text(const std::filesystem::path& file, std::string_view want,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto text = read_control(file);
    if (!text) return text.error();
    if (text->find(want) != std::string::npos) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return SysError{ETIMEDOUT, "wait for '" + std::string(want) + "' in " + file.string(), {}};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace ember::isolation
