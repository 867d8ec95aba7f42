// What the native backend and ember-sandbox-init (pid 1 of a sandbox) tell each other over
// their SOCK_SEQPACKET socket pair: one message per datagram, each a list of tagged records.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::isolation::init {

// The fd numbers the handshake socket and the launch pipe's read end have in
// ember-sandbox-init. The engine writes the Launch straight into the pipe; init hands the read
// end to the worker it forks, which execs once the Launch is in.
inline constexpr int kHandshakeFd = 3;
inline constexpr int kLaunchFd = 4;

// engine -> init: the sandbox, once the init process is in its cgroup (and its netns has the
// listener); init builds the root, forks the worker, and answers Prepared once the worker is
// armed. Then, possibly much later, the engine writes the Launch (argv, env, working_dir) to
// the launch pipe and closes it; the worker execs and init answers Ready or StepFailed.
// A host directory bound at `target` (under /mnt) inside the sandbox.
struct InitMount {
  std::string source;
  std::string target;
  bool read_only = true;
};

struct InitConfig {
  // --- the Launch
  std::vector<std::string> argv;  // argv[0]: absolute path inside the sandbox
  std::vector<std::string> env;
  std::string working_dir;  // inside the sandbox
  // --- the sandbox
  std::string root;      // host directory the new root is mounted on
  std::string code_dir;  // host paths, bound read-only at /var/task, /var/runtime, /opt
  std::string runtime_dir;
  std::vector<std::string> opt_layers;  // merged at /opt, the last one on top
  // An image function's root (host path): the sandbox's root instead of the host's /usr and
  // the directories above; it must hold /proc, /dev and /tmp to mount on.
  std::string image_root;
  std::vector<InitMount> mounts;
  std::uint32_t tmp_mb = 512;
  std::uint32_t uid = 993;
  std::uint32_t gid = 993;
  std::uint32_t group = 993;  // the worker's supplementary group (NativeOptions::ids)
  std::string hostname;
  std::vector<sock_filter> seccomp;
  // No worker of init's own: a process from outside enters the sandbox and forks the worker
  // (pid kAdoptedWorkerPid), which init adopts (SandboxSpec::adopt_worker).
  bool adopt = false;
};

// The adopted worker's pid in the sandbox: init is 1, the entering process 2, its child 3.
inline constexpr int kAdoptedWorkerPid = 3;

struct Launch {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string working_dir;
};

// init -> engine.
struct Prepared {  // the root is built; init waits for the Launch
  std::int64_t mounts_done_ns = 0;
};
struct Ready {  // the runtime's execve succeeded; CLOCK_MONOTONIC nanoseconds
  std::int64_t mounts_done_ns = 0;
  std::int64_t seccomp_loaded_ns = 0;
  std::int64_t exec_done_ns = 0;
};
struct StepFailed {  // a named step failed; the sandbox is gone
  int err = 0;
  std::string step;
  std::string call;
};
struct WorkerExited {  // the runtime ended; init exits right after
  bool signaled = false;
  int value = 0;
};

// The sandbox part of the config; argv, env and working_dir travel in the Launch.
std::string encode(const InitConfig& config);
std::optional<InitConfig> decode_config(std::string_view message);
std::string encode(const Launch& launch);
std::optional<Launch> decode_launch(std::string_view message);

std::string encode(const Prepared& prepared);
std::string encode(const Ready& ready);
std::string encode(const StepFailed& failed);
std::string encode(const WorkerExited& exited);

struct Reply {
  std::optional<Prepared> prepared;
  std::optional<Ready> ready;
  std::optional<StepFailed> failed;
  std::optional<WorkerExited> exited;
};
std::optional<Reply> decode_reply(std::string_view message);

}  // namespace ember::isolation::init
