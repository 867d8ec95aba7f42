// The process backend: posix_spawn into a new session, no isolation.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>

#include "ember/isolation/sandbox.hpp"
#include "ember/isolation/spawn_process.hpp"
#include "loopback_listener.hpp"
#include "proc_memory.hpp"

namespace ember::isolation {
namespace {

class ProcessSandbox final : public Sandbox {
 public:
  ProcessSandbox(SpawnedProcess process, UniqueFd listener, SandboxTimings timings)
      : process_(std::move(process)), listener_(std::move(listener)), timings_(timings) {}
  ProcessSandbox(const ProcessSandbox&) = delete;
  ProcessSandbox& operator=(const ProcessSandbox&) = delete;
  ProcessSandbox(ProcessSandbox&&) = delete;
  ProcessSandbox& operator=(ProcessSandbox&&) = delete;
  ~ProcessSandbox() override = default;  // SpawnedProcess kills and reaps

  [[nodiscard]] pid_t pid() const override { return process_.pid(); }
  [[nodiscard]] int exit_fd() const override { return process_.pidfd(); }
  [[nodiscard]] const SandboxTimings& timings() const override { return timings_; }
  UniqueFd take_runtime_api_listener() override { return std::move(listener_); }

  [[nodiscard]] std::uint64_t peak_memory_bytes() const override {
    // After reaping, the pid may belong to someone else: only the kernel's final figure counts.
    if (!process_.reaped()) {
      last_peak_ = std::max(last_peak_, process_peak_rss_bytes(process_.pid()));
    }
    return std::max(last_peak_, process_.peak_rss_at_exit());
  }
  // Without a freezer cgroup, SIGSTOP/SIGCONT of the process group does the same job.
  Result<void> freeze() override { return signal_group(SIGSTOP, "SIGSTOP"); }
  Result<void> thaw() override { return signal_group(SIGCONT, "SIGCONT"); }
  void kill_all() noexcept override { process_.kill_group(); }
  std::optional<ExitStatus> try_reap() override { return process_.try_reap(); }

 private:
  Result<void> signal_group(int signal, const char* name) {
    if (process_.reaped()) return {};
    if (::kill(-process_.pid(), signal) < 0) {
      return last_error(std::string("kill -") + name + " -" + std::to_string(process_.pid()));
    }
    return {};
  }

  SpawnedProcess process_;
  mutable std::uint64_t last_peak_ = 0;
  UniqueFd listener_;
  SandboxTimings timings_;
};

// A plain process needs nothing ahead of time but its listener; the spec is kept for start().
class ProcessPrepared final : public PreparedSandbox {
 public:
  ProcessPrepared(SandboxSpec spec, Listener listener, SandboxTimings timings)
      : spec_(std::move(spec)), listener_(std::move(listener)), timings_(timings) {}

  [[nodiscard]] const std::string& id() const override { return spec_.id; }

  Result<std::unique_ptr<Sandbox>> start(const LaunchSpec& launch) override {
    timings_.launch_begin = std::chrono::steady_clock::now();
    std::vector<std::string> env = launch.env;
    env.push_back("AWS_LAMBDA_RUNTIME_API=" + listener_.address);
    auto process = spawn_in_new_session({launch.argv, env, launch.working_dir, spec_.output_fd});
    if (!process) return process.error();
    timings_.spawned = std::chrono::steady_clock::now();
    return std::make_unique<ProcessSandbox>(std::move(*process), std::move(listener_.fd), timings_);
  }

 private:
  SandboxSpec spec_;
  Listener listener_;
  SandboxTimings timings_;
};

class ProcessBackend final : public SandboxBackend {
 public:
  [[nodiscard]] std::string name() const override { return "process"; }

  Result<std::unique_ptr<PreparedSandbox>> prepare(const SandboxSpec& spec) override {
    SandboxTimings timings;
    timings.create_begin = std::chrono::steady_clock::now();
    auto listener = listen_on_loopback();
    if (!listener) return listener.error();
    return std::make_unique<ProcessPrepared>(spec, std::move(*listener), timings);
  }
};

}  // namespace

std::unique_ptr<SandboxBackend> make_process_backend() {
  return std::make_unique<ProcessBackend>();
}

}  // namespace ember::isolation
