// A child process started from outside the engine (a test node, the AWS CLI, the bench's
// baselines, skopeo), started with Boost.Process v2 and owned until it is reaped. What the
// engine starts for a sandbox, the OCI runtime (runc, crun) included, is isolation's
// spawn_in_new_session (ember/isolation/spawn_process.hpp): isolation sits below this library
// and cannot link it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ember::client {

struct ChildOptions {
  std::vector<std::string> argv;           // argv[0]: a path, or a program found by find_program
  std::map<std::string, std::string> env;  // added to ours, or all of it when replace_env
  bool replace_env = false;
  std::optional<std::filesystem::path> output;  // stdout, and stderr unless `errors` is set;
                                                // appended to; /dev/null when unset
  std::optional<std::filesystem::path> errors;  // stderr on its own
  int pass_fd = -1;                             // becomes fd 3 in the child when >= 0
  std::optional<std::filesystem::path> cwd;
  // The child leads a process group of its own, and stopping it (stop(), the destructor)
  // signals that whole group: for programs that start helpers of their own (a browser's
  // renderer and GPU processes) that must not outlive it. Nothing else is ever signalled.
  bool own_process_group = false;
};

// stdin is /dev/null and every other descriptor but 1, 2 (and 3, given pass_fd) is closed.
// Waits are Asio waits on the child's pidfd (no polling, no sleeps). Only this object reaps
// the child, so until it does the pid cannot be reused and a signal to it cannot go astray.
// Destruction SIGKILLs the child if it still runs and reaps it.
class ChildProcess {
 public:
  ChildProcess();
  // Throws std::runtime_error naming the program when it cannot be started.
  explicit ChildProcess(const ChildOptions& options);
  // Takes over a child this process started by other means (the bench's timed posix_spawn).
  static ChildProcess adopt(pid_t pid);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  // -1 once reaped, or when there is none.
  [[nodiscard]] pid_t pid() const;
  // Waits up to `limit` for the child to end; its exit status (128+signal when killed), or
  // nullopt while it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  // SIGTERM, `grace` to end, then SIGKILL (to its process group with own_process_group);
  // returns the exit status.
  int stop(std::chrono::milliseconds grace);

 private:
  // SIGKILL and reap, if it still runs; never throws.
  void end() noexcept;

  struct State;
  std::unique_ptr<State> state_;
};

// Starts a program that reports it is ready by writing text to the descriptor it is given as
// fd 3 and closing it (`ember serve --ready-fd 3`), and waits up to `limit` for that text.
// Empty text: the program ended or said nothing in time (it still runs then).
struct ReadyChild {
  ChildProcess child;
  std::string ready_text;
};
ReadyChild start_until_ready(ChildOptions options, std::chrono::milliseconds limit);

// The program on PATH (and the sbin directories, where runc lives), or as given when it holds
// a '/'; nullopt when absent or not executable.
std::optional<std::filesystem::path> find_program(const std::string& name);

}  // namespace ember::client
