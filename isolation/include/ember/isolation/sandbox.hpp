// A sandbox: the isolated process tree that runs one worker, and the backends that make them.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/isolation/sys_error.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// Changes to the default seccomp policy (docs/isolation.md has the table). Each name must be a
// syscall the C library knows; `allow` names must be entries of the default deny list.
struct SeccompPolicy {
  std::vector<std::string> extra_deny;  // also fail these with EPERM
  std::vector<std::string> allow;       // weakens the sandbox: lift these default denials

  friend bool operator==(const SeccompPolicy&, const SeccompPolicy&) = default;
};

// What a privileged process outside needs to put a process of its own into a sandbox made
// with SandboxSpec::adopter: join the cgroup (write "0" to each procs file), then, with
// pid_for_children set to the sandbox's pid namespace (setns(init_pidfd, CLONE_NEWPID)), fork
// a child that enters the rest (setns(init_pidfd, mount|net|ipc|uts|cgroup)) and forks the
// worker: pid init::kAdoptedWorkerPid, which init reaps. The worker arms itself with uid, gid
// and `seccomp` through libember-arm.so (default_arm_library_path(): init's own arming code),
// and reads its Launch (the init protocol's encoding) from launch_fd to EOF.
struct SandboxEntry {
  UniqueFd init_pidfd;
  UniqueFd launch_fd;  // read end; the engine writes the Launch at start()
  int output_fd = -1;  // borrowed: the worker's stdout and stderr
  std::vector<std::filesystem::path> cgroup_procs;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t group = 0;  // a supplementary group (the shared one of IdRange); gid when none
  std::string seccomp;      // the compiled filter: struct sock_filter[], raw bytes
};

// User and group ids of the node's own, one pair per sandbox: uid = gid = first + k. The
// kernel counts some limits per user (inotify instances and watches, pending signals, pipe
// buffer pages, POSIX message queue bytes): with a uid of its own a sandbox reaches only its
// own. Ids must belong to no user or group of the host (config checks /etc/passwd, /etc/group,
// /etc/subuid and /etc/subgid).
struct IdRange {
  std::uint32_t first = 0;
  std::uint32_t count = 0;

  friend bool operator==(const IdRange&, const IdRange&) = default;
};

// A host directory bound into the sandbox (a function's `mounts`, as Lambda's file system
// mounts). Native and OCI backends; the process backend has no sandbox to mount into.
struct BindMount {
  std::filesystem::path source;  // host directory
  std::string target;            // absolute, under /mnt
  bool read_only = true;         // ro, nosuid, nodev; writable ones are still nosuid, nodev

  friend bool operator==(const BindMount&, const BindMount&) = default;
};

// What to run and with which resources. Built by the engine from a function's config.
// With the native backend argv, env and working_dir are paths inside the sandbox: build them
// from SandboxBackend::task_root() and runtime_root(), not from the host paths below.
struct SandboxSpec {
  // Unique per sandbox; names its resources. Ids that end in "-PID-N", PID the creating node's,
  // let a later node tell what a dead node left (NativeOptions::leftovers).
  std::string id;
  std::vector<std::string> argv;      // argv[0] is the executable's absolute path
  std::vector<std::string> env;       // "KEY=VALUE"; the backend adds AWS_LAMBDA_RUNTIME_API
  std::filesystem::path working_dir;  // where the process starts
  std::filesystem::path code_dir;     // the function's code, read-only for the function
  int output_fd = -1;                 // becomes the worker's stdout and stderr
  std::uint32_t memory_mb = 128;      // memory limit

  // Image functions: the unpacked image's root file system (host path), the sandbox's root,
  // read-only. code_dir, runtime_dir and opt_layers are then unused. Native and OCI backends.
  std::filesystem::path image_root;

  // --- native backend (the process backend ignores these)
  std::filesystem::path runtime_dir;  // host dir of ember's runtimes: read-only at /var/runtime
  // Lambda layers (host dirs), merged read-only at /opt in this order, a later one's files
  // hiding an earlier one's: one is bound, several are one overlayfs mount. Empty: no /opt.
  // Native and OCI backends.
  std::vector<std::filesystem::path> opt_layers;
  std::uint32_t tmp_mb = 512;  // size of the writable /tmp (ephemeral storage)
  bool network_host = false;   // `network: host`: share the host's network (weaker, opt-in)
  // No CPU quota until Sandbox::end_init_burst(): the init phase runs at full speed, as on
  // Lambda; afterwards memory_mb buys its share (1769 MB = one CPU).
  bool init_cpu_burst = false;
  // No worker of the sandbox's own: prepare() hands the sandbox's entry to this (the Python
  // zygote), which puts a worker in; it returns once that worker waits for its Launch.
  // Native only.
  std::function<Result<void>(SandboxEntry&)> adopter;
  SeccompPolicy seccomp;  // default policy plus the function's changes
  // Directories bound at /mnt/... (native and OCI; an image root needs a /mnt to mount on).
  std::vector<BindMount> mounts;
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
  std::chrono::steady_clock::time_point create_begin;  // backend.prepare() entered
  std::chrono::steady_clock::time_point launch_begin;  // PreparedSandbox::start() entered
  std::chrono::steady_clock::time_point spawned;       // the runtime process exists

  // Native backend steps, in order; left at the epoch by backends that have no such step.
  std::chrono::steady_clock::time_point cgroup_created;      // directories made, limits set
  std::chrono::steady_clock::time_point namespaces_created;  // clone returned, init running
  std::chrono::steady_clock::time_point cgroup_attached;     // init is in the cgroup
  std::chrono::steady_clock::time_point listener_ready;      // Runtime API socket listens
  std::chrono::steady_clock::time_point mounts_done;         // new root pivoted, read-only
  std::chrono::steady_clock::time_point seccomp_loaded;      // worker: filter on, next is exec
  std::chrono::steady_clock::time_point exec_done;           // the runtime's execve succeeded
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
  // What is known so far; never waits (a step not reported yet is left at the epoch).
  [[nodiscard]] virtual const SandboxTimings& timings() const = 0;

  // --- the Runtime API endpoint
  // The listening socket the engine serves this sandbox's Runtime API on; the worker was
  // told its address in AWS_LAMBDA_RUNTIME_API. Can be taken once.
  virtual UniqueFd take_runtime_api_listener() = 0;

  // --- reaching the sandbox's processes
  // A new TCP socket (IPv4, unconnected, close-on-exec) in the sandbox's network: connected to
  // 127.0.0.1:PORT it reaches what a process of the sandbox listens on there (the Telemetry
  // API's destinations). The default, for sandboxes on the host's network, is a plain socket.
  [[nodiscard]] virtual Result<UniqueFd> network_socket() const;

  // --- resources
  // Highest memory use of the sandbox so far, in bytes; 0 when it cannot be read.
  [[nodiscard]] virtual std::uint64_t peak_memory_bytes() const = 0;
  // True once the kernel killed a process of the sandbox for memory (Runtime.OutOfMemory).
  [[nodiscard]] virtual bool oom_killed() const { return false; }
  // How many processes the sandbox holds now (its init included); nullopt when the backend
  // cannot tell. Native: its cgroup's cgroup.procs.
  [[nodiscard]] virtual std::optional<std::size_t> process_count() const { return std::nullopt; }

  // The runtime finished its init: the CPU quota of its memory size applies from now on
  // (SandboxSpec::init_cpu_burst). Idempotent.
  virtual Result<void> end_init_burst() { return {}; }

  // --- freezer: a parked worker costs no CPU
  // Stops every process of the sandbox until thaw(). kill_all() works on a frozen sandbox.
  virtual Result<void> freeze() = 0;
  virtual Result<void> thaw() = 0;

  // --- ending
  // SIGKILL to every process of the sandbox. Idempotent.
  virtual void kill_all() noexcept = 0;
  // Collects the main process's status once exit_fd() is readable; nullopt while it runs.
  virtual std::optional<ExitStatus> try_reap() = 0;
  // After try_reap(): why the runtime never ran, when the sandbox could not exec it (the
  // native backend learns that after start() returned). bad_entrypoint says whose fault.
  [[nodiscard]] virtual std::optional<SysError> launch_failure() const { return std::nullopt; }
};

// What runs in a sandbox: decided when a worker starts, which may be long after its sandbox
// was prepared. Paths are as the worker sees them (see SandboxSpec).
struct LaunchSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::filesystem::path working_dir;
};

// A sandbox made ahead of time: its namespaces, cgroup, root file system and Runtime API
// listener exist, and nothing of the function has run in it yet. Keeping a few per function
// takes their creation off the cold-start path (docs/isolation.md, "Prepared sandboxes").
// Destroying one unused releases everything, as ~Sandbox does.
class PreparedSandbox {
 public:
  PreparedSandbox() = default;
  PreparedSandbox(const PreparedSandbox&) = delete;
  PreparedSandbox& operator=(const PreparedSandbox&) = delete;
  PreparedSandbox(PreparedSandbox&&) = delete;
  PreparedSandbox& operator=(PreparedSandbox&&) = delete;
  virtual ~PreparedSandbox() = default;

  [[nodiscard]] virtual const std::string& id() const = 0;
  // Starts the runtime in it. The prepared sandbox is used up either way: on success its
  // resources belong to the returned Sandbox, on failure they are released.
  virtual Result<std::unique_ptr<Sandbox>> start(const LaunchSpec& launch) = 0;
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
  // Makes everything of a sandbox but its process. spec.argv, env and working_dir are not
  // used: they come with start(). Safe to call from another thread than create() and start().
  virtual Result<std::unique_ptr<PreparedSandbox>> prepare(const SandboxSpec& spec) = 0;
  // Starts the worker's process in a new sandbox: prepare(), then start() at once.
  Result<std::unique_ptr<Sandbox>> create(const SandboxSpec& spec) {
    auto prepared = prepare(spec);
    if (!prepared) return prepared.error();
    return (*prepared)->start(LaunchSpec{spec.argv, spec.env, spec.working_dir});
  }

  // Where the worker sees spec.code_dir and spec.runtime_dir: LAMBDA_TASK_ROOT,
  // LAMBDA_RUNTIME_DIR, argv and working_dir must be built from these. The process backend
  // answers the host paths; the native backend "/var/task" and "/var/runtime".
  [[nodiscard]] virtual std::filesystem::path task_root(const SandboxSpec& spec) const {
    return spec.code_dir;
  }
  [[nodiscard]] virtual std::filesystem::path runtime_root(const SandboxSpec& spec) const {
    return spec.runtime_dir;
  }
};

// Checks a function's seccomp changes (names exist, allows lift real denials) and compiles the
// result once, so a bad policy stops the node at start rather than a cold start later.
Result<void> validate_seccomp_policy(const SeccompPolicy& policy);

// A plain child process in its own session, no isolation: the foundation's backend and the
// explicit `isolation: none` opt-out. Its Runtime API listens on an ephemeral loopback port.
std::unique_ptr<SandboxBackend> make_process_backend();

// Node-wide settings of the native backend. Defaults suit a host where ember runs as root.
struct NativeOptions {
  // The helper that runs as pid 1 inside each sandbox; empty = "ember-sandbox-init" in the
  // directory of the running executable (`ember serve` passes the one it found).
  std::filesystem::path init_path;
  // The worker's user and group inside the sandbox (Lambda's sbx_user1051) when ids is unset.
  // With ids, each sandbox runs as a user and group of its own from that range, and gid stays
  // a supplementary group of every worker, so code readable by that group stays readable.
  uid_t uid = 993;
  gid_t gid = 993;
  std::optional<IdRange> ids;
  std::uint32_t pids_max = 1024;        // per sandbox, contains fork bombs
  std::string cgroup_parent = "ember";  // cgroups are "<hierarchy>/<parent>/<spec.id>"
  // An empty host directory each sandbox mounts its new root on, inside its own mount
  // namespace (the host sees it stay empty). Created when missing.
  std::filesystem::path root_mount_point = "/run/ember/root";
  std::chrono::milliseconds setup_timeout{10'000};  // create() fails after this
  // At start, cgroups under cgroup_parent whose id says a node that no longer runs made them
  // (see SandboxSpec::id) are thawed, emptied and removed; each removal and failure is told
  // here. Unset: nothing is removed.
  std::function<void(const std::string& notice)> leftovers;
};

// Whether the sandbox id `id` ("...-PID-N") was made by a node that no longer runs: no
// process PID, or one that is not an `ember` (the pid was reused). Ids of another shape are
// never anyone's leftovers.
bool made_by_a_dead_node(std::string_view id);

// libember-arm.so, the worker's arming behind a C ABI for an adopter's worker (the Python
// zygote's; docs/isolation.md): beside the default ember-sandbox-init, wherever that is.
std::filesystem::path default_arm_library_path();

// Namespaces, cgroups, a read-only root, dropped privileges and seccomp around each worker
// (docs/isolation.md). Fails when the host cannot provide that (see detect_native_support).
Result<std::unique_ptr<SandboxBackend>> make_native_backend(NativeOptions options = {});

// Checks everything the native backend needs (root, a writable cgroup hierarchy with memory,
// cpu, pids and freezer, namespaces, seccomp, the init helper). The error names every missing
// piece and how to get it, so `ember serve` can refuse to start with that message.
Result<void> detect_native_support(const NativeOptions& options = {});

// Node-wide settings of the OCI backend (docs/isolation.md, "The OCI backend").
struct OciOptions {
  // "crun", "runc" (looked up in PATH) or a path; empty = the first of crun, runc that can
  // start a container on this host.
  std::filesystem::path runtime;
  // Bundles, the runtime's state root (--root, STATE_DIR/<runtime>) and the shared root of code
  // functions. One node per directory: a new backend deletes every ember container it finds.
  std::filesystem::path state_dir = "/run/ember/oci";
  // The container process's user and group (Lambda's sbx_user1051); with ids, as
  // NativeOptions::ids: a user and group of its own per sandbox, gid supplementary.
  uid_t uid = 993;
  gid_t gid = 993;
  std::optional<IdRange> ids;
  std::uint32_t pids_max = 1024;                    // per sandbox, contains fork bombs
  std::string cgroup_parent = "ember-oci";          // sandbox cgroups: "<parent>/ember-<id>"
  std::chrono::milliseconds probe_timeout{10'000};  // the trivial container of detection
};

// Starts and ends one trivial container with the runtime (or each candidate when none is
// named) and answers the runtime that worked. Fails with the runtime's own message, e.g. crun's
// "cgroups in hybrid mode not supported, drop all controllers from cgroupv2".
Result<std::filesystem::path> detect_oci_support(const OciOptions& options = {});

// Sandboxes as OCI containers of runc or crun: the same guarantees as the native backend
// (namespaces, cgroup limits, read-only root, no privileges, the same seccomp policy).
// Deletes leftover ember containers of its state root, then checks the runtime as
// detect_oci_support does.
Result<std::unique_ptr<SandboxBackend>> make_oci_backend(const OciOptions& options = {});

}  // namespace ember::isolation
