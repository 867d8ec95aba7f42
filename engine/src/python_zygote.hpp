// The Python zygote (runtimes/python/zygote.py): one pre-initialised interpreter per
// function that forks workers into prepared sandboxes, so a Python cold start skips the
// interpreter's own start (docs/runtimes.md, "The Python zygote"). Its workers arm themselves
// with ember-sandbox-init's own steps, through libember-arm.so (docs/isolation.md).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ember/isolation/sandbox.hpp"
#include "ember/isolation/spawn_process.hpp"

namespace ember::engine {

class PythonZygote {
 public:
  struct Paths {
    std::filesystem::path interpreter;   // the function's, e.g. /usr/bin/python3
    std::filesystem::path runtimes_dir;  // EngineContext::runtimes_dir
    std::filesystem::path arm_library;   // EngineContext::arm_library
  };

  // Starts `interpreter -s -u -B <runtimes_dir>/python/zygote.py <arm_library>` and waits
  // (bounded) for it to say it is ready.
  static isolation::Result<std::unique_ptr<PythonZygote>> start(
      Paths paths, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  PythonZygote(const PythonZygote&) = delete;
  PythonZygote& operator=(const PythonZygote&) = delete;
  PythonZygote(PythonZygote&&) = delete;
  PythonZygote& operator=(PythonZygote&&) = delete;
  // Closes the control socket (the zygote exits on EOF), then kills and reaps it.
  ~PythonZygote();

  // Forks a worker into the prepared sandbox `entry` describes (SandboxSpec::adopter).
  // Returns once the worker is armed: unprivileged, under seccomp, waiting for its Launch,
  // with which it runs the runtime client. Thread-safe: the engine's preparer and its own
  // thread both call it.
  isolation::Result<void> spawn(isolation::SandboxEntry& entry);

  [[nodiscard]] const std::filesystem::path& interpreter() const { return paths_.interpreter; }

 private:
  // The zygote's process and the engine's end of its control socket. Destroying it closes
  // the socket (the zygote exits on EOF), then kills the zygote's group and reaps it.
  struct Process {
    isolation::SpawnedProcess process;
    isolation::UniqueFd control;  // destroyed first
  };

  PythonZygote(Paths paths, Process process)
      : paths_(std::move(paths)), process_(std::move(process)) {}

  static isolation::Result<Process> launch(const Paths& paths, std::chrono::milliseconds timeout);
  // A zygote that died is replaced, so its functions keep their cold starts; mutex_ held.
  isolation::Result<void> restart_locked();

  Paths paths_;
  std::mutex mutex_;                   // one request at a time on the control socket
  std::optional<Process> process_;     // empty once it died, until the next request starts one
  std::uint64_t last_request_id_ = 0;  // answers name their request
};

}  // namespace ember::engine
