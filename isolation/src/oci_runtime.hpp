// An OCI runtime's command line (runc, crun): which binary, its state root, its commands.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "ember/isolation/spawn_process.hpp"
#include "ember/isolation/sys_error.hpp"

namespace ember::isolation {

// Containers ember starts are named "<kOciIdPrefix><SandboxSpec::id>"; a new backend deletes
// every container of its state root with this prefix (left by a node that was killed).
inline constexpr std::string_view kOciIdPrefix = "ember-";

class OciRuntime {
 public:
  // name_or_path: "crun", "runc" (looked up in PATH) or a path. Its --root is
  // state_dir/<its file name>: runtimes do not share state roots.
  static Result<OciRuntime> find(const std::filesystem::path& name_or_path,
                                 const std::filesystem::path& state_dir);

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string name() const { return path_.filename().string(); }
  [[nodiscard]] const std::filesystem::path& state_root() const { return state_root_; }

  // `RUNTIME --root STATE --log LOG --log-format json run --bundle B --pid-file P ID`: the
  // container in the foreground, as the caller's child, with its stdout and stderr on output_fd.
  // Its exit status is the container's (128+N for signal N). runc keeps the ended container
  // (--keep) for its cgroup's figures; crun deletes it. Errors of the runtime itself go to log
  // (JSON lines) too.
  [[nodiscard]] Result<SpawnedProcess> run(const std::string& id,
                                           const std::filesystem::path& bundle,
                                           const std::filesystem::path& log, int output_fd) const;

  // `RUNTIME --root STATE ARGS...` to its end, within timeout; its stdout and stderr as an
  // error's text when it fails.
  [[nodiscard]] Result<void> command(const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout) const;
  // `delete --force ID`: kills what runs and removes the container and its cgroup.
  [[nodiscard]] Result<void> force_delete(const std::string& id) const;
  // Ids of the containers in the state root (its directory entries).
  [[nodiscard]] std::vector<std::string> container_ids() const;

 private:
  OciRuntime(std::filesystem::path path, std::filesystem::path state_root)
      : path_(std::move(path)), state_root_(std::move(state_root)) {}
  [[nodiscard]] std::vector<std::string> base_argv() const;

  std::filesystem::path path_;
  std::filesystem::path state_root_;
};

// The error lines ("level":"error") of a runtime's JSON log, "; "-joined; empty when none.
std::string runtime_log_errors(const std::filesystem::path& log);

}  // namespace ember::isolation
