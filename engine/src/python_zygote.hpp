// The Python zygote (runtimes/python/zygote.py): one pre-initialised interpreter per
// interpreter path that forks workers into prepared sandboxes, so a Python cold start skips
// the interpreter's own start (docs/runtimes.md, "The Python zygote").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ember/isolation/sandbox.hpp"

namespace ember::engine {

class PythonZygote {
 public:
  // Starts `interpreter -s -u -B <runtimes_dir>/python/zygote.py` and waits (bounded) for it
  // to say it is ready.
  static isolation::Result<std::unique_ptr<PythonZygote>> start(
      const std::filesystem::path& interpreter, const std::filesystem::path& runtimes_dir,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

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

  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  PythonZygote(pid_t pid, isolation::UniqueFd control) : pid_(pid), control_(std::move(control)) {}

  pid_t pid_;
  std::mutex mutex_;  // one request at a time on the control socket
  isolation::UniqueFd control_;
};

}  // namespace ember::engine
