// A sandbox: the isolated process tree that runs one worker, and the backends that make them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/isolation/sys_error.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// What to run and with which resources. Built by the engine from a function's config.
struct SandboxSpec {
  std::string id;                     // unique per sandbox; names its resources
  std::vector<std::string> argv;      // argv[0] is the executable's absolute path
  std::vector<std::string> env;       // "KEY=VALUE"; the backend adds AWS_LAMBDA_RUNTIME_API
  std::filesystem::path working_dir;  // where the process starts
  std::filesystem::path code_dir;     // the function's code, read-only for the function
  int output_fd = -1;                 // becomes the worker's stdout and stderr
  std::uint32_t memory_mb = 128;      // memory limit
};

// How the worker's main process ended.
struct ExitStatus {
  bool signaled = false;
  int value = 0;  // exit code, or the signal number when signaled

  // Go-style wording that Lambda uses: "exit status 42", "signal: killed".
  [[nodiscard]] std::string describe() const;
};

// Timestamps of sandbox creation, for Init Duration and the benchmark's phase split.
struct SandboxTimings {
  std::chrono::steady_clock::time_point create_begin;  // backend.create() entered
  std::chrono::steady_clock::time_point spawned;       // the runtime process exists
};

class Sandbox {
 public:
  Sandbox() = default;
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  Sandbox(Sandbox&&) = delete;
  Sandbox& operator=(Sandbox&&) = delete;
  // Kills whatever still runs in the sandbox and releases everything it holds.
  virtual ~Sandbox() = default;

  // --- identity
  [[nodiscard]] virtual pid_t pid() const = 0;
  // Becomes readable when the main process exits (a pidfd).
  [[nodiscard]] virtual int exit_fd() const = 0;
  [[nodiscard]] virtual const SandboxTimings& timings() const = 0;

  // --- the Runtime API endpoint
  // The listening socket the engine serves this sandbox's Runtime API on; the worker was
  // told its address in AWS_LAMBDA_RUNTIME_API. Can be taken once.
  virtual UniqueFd take_runtime_api_listener() = 0;

  // --- resources
  // Highest memory use of the sandbox so far, in bytes; 0 when it cannot be read.
  [[nodiscard]] virtual std::uint64_t peak_memory_bytes() const = 0;

  // --- ending
  // SIGKILL to every process of the sandbox. Idempotent.
  virtual void kill_all() noexcept = 0;
  // Collects the main process's status once exit_fd() is readable; nullopt while it runs.
  virtual std::optional<ExitStatus> try_reap() = 0;
};

class SandboxBackend {
 public:
  SandboxBackend() = default;
  SandboxBackend(const SandboxBackend&) = delete;
  SandboxBackend& operator=(const SandboxBackend&) = delete;
  SandboxBackend(SandboxBackend&&) = delete;
  SandboxBackend& operator=(SandboxBackend&&) = delete;
  virtual ~SandboxBackend() = default;

  // Short name for logs: "process", "native", ...
  [[nodiscard]] virtual std::string name() const = 0;
  // Starts the worker's process in a new sandbox.
  virtual Result<std::unique_ptr<Sandbox>> create(const SandboxSpec& spec) = 0;
};

// A plain child process in its own session, no isolation: the foundation's backend and the
// explicit `isolation: none` opt-out. Its Runtime API listens on an ephemeral loopback port.
std::unique_ptr<SandboxBackend> make_process_backend();

}  // namespace ember::isolation
