// The native backend: each worker in its own namespaces, cgroup, root file system, without
// privileges and under seccomp. The parent's half of the setup is here; the child's half is
// ember-sandbox-init (init/). docs/isolation.md walks through both.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/algorithm/string/join.hpp>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "cgroup.hpp"
#include "clone_init.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember_paths.hpp"
#include "init_protocol.hpp"
#include "loopback_listener.hpp"
#include "netns_listener.hpp"
#include "sandbox_ids.hpp"
#include "sandbox_path.hpp"
#include "seccomp_policy.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr unsigned short kRuntimeApiPort = 9001;

Clock::time_point from_monotonic_ns(std::int64_t ns) {
  // libstdc++'s steady_clock is CLOCK_MONOTONIC, the clock init reads.
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

ExitStatus exit_status_of(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return ExitStatus{false, info.si_status};
  return ExitStatus{true, info.si_status};
}

// One datagram from init within timeout; nullopt on EOF, timeout or garbage.
Result<init::Reply> receive_reply(int fd, std::chrono::milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) return last_error("poll sandbox handshake");
  if (ready == 0) {
    return SysError{ETIMEDOUT, "wait for the sandbox to start",
                    "init did not report within NativeOptions::setup_timeout"};
  }
  std::string buffer(4096, '\0');
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
  if (n < 0) return last_error("recv sandbox handshake");
  if (n == 0) {
    return SysError{EPIPE, "sandbox init exited before reporting",
                    "see the function's log for init's own messages"};
  }
  buffer.resize(static_cast<std::size_t>(n));
  auto reply = init::decode_reply(buffer);
  if (!reply) return SysError{EPROTO, "malformed message from sandbox init", {}};
  return *reply;
}

// Who must be able to read the code and run the runtime: the sandbox's user, which with
// NativeOptions::ids differs per sandbox and shares only the group options.gid.
std::string sandbox_users(const NativeOptions& options) {
  return options.ids ? "group " + std::to_string(options.gid) + " or others"
                     : "uid " + std::to_string(options.uid);
}

std::string hint_for(const init::StepFailed& failed, const NativeOptions& options) {
  if (failed.step == "working directory" && failed.err == EACCES) {
    return "the code directory must be readable by " + sandbox_users(options) +
           (options.ids ? " (chmod g+rx or o+rx)" : " (chmod o+rx)");
  }
  if (failed.step == "exec runtime" && failed.err == ENOENT) {
    return "the program, or the interpreter its '#!' line names, does not exist inside the "
           "sandbox (the code is at /var/task; /usr, /bin and /lib come from the host)";
  }
  if (failed.step == "exec runtime" && failed.err == EACCES) {
    return "the runtime must be executable by " + sandbox_users(options);
  }
  return {};
}

SysError launch_step_failed(const std::string& id, const init::StepFailed& failed,
                            const NativeOptions& options) {
  const bool exec_failed =
      failed.step == "exec runtime" && (failed.err == ENOENT || failed.err == EACCES ||
                                        failed.err == ENOEXEC || failed.err == ENOTDIR);
  return SysError{failed.err, "sandbox " + id + ": step '" + failed.step + "': " + failed.call,
                  hint_for(failed, options), exec_failed};
}

// A launched sandbox. The runtime's execve completes while the engine goes on: init's Ready
// (with the exec's time) or StepFailed is read when asked for, or when init has exited.
class NativeSandbox final : public Sandbox {
 public:
  NativeSandbox(const SandboxSpec& spec, NativeOptions options, IdLease user,
                std::unique_ptr<Cgroup> cgroup, InitProcess init, UniqueFd handshake,
                UniqueFd listener, SandboxTimings timings)
      : id_(spec.id),
        memory_mb_(spec.memory_mb),
        burst_(spec.init_cpu_burst),
        own_network_(!spec.network_host),
        adopted_(static_cast<bool>(spec.adopter)),
        options_(std::move(options)),
        user_(std::move(user)),
        cgroup_(std::move(cgroup)),
        init_(std::move(init)),
        handshake_(std::move(handshake)),
        listener_(std::move(listener)),
        timings_(timings) {}
  NativeSandbox(const NativeSandbox&) = delete;
  NativeSandbox& operator=(const NativeSandbox&) = delete;
  NativeSandbox(NativeSandbox&&) = delete;
  NativeSandbox& operator=(NativeSandbox&&) = delete;
  // Members end in reverse order: listener, handshake, init (SIGKILL and reap, which takes
  // the whole pid namespace down), the cgroup (kill stragglers, rmdir), then the user's id,
  // free again once no process of it is left.
  ~NativeSandbox() override = default;

  [[nodiscard]] pid_t pid() const override { return init_.pid(); }
  [[nodiscard]] int exit_fd() const override { return init_.pidfd(); }
  // What init reported so far, without waiting: it reports the exec right after it happens,
  // so by the time the runtime has answered an invocation the report is almost always here.
  // When it is not, `spawned` stays unset and the caller bounds it by the runtime's first call.
  [[nodiscard]] const SandboxTimings& timings() const override {
    if (!launch_settled()) read_messages(std::chrono::milliseconds(0));
    return timings_;
  }
  UniqueFd take_runtime_api_listener() override { return std::move(listener_); }
  [[nodiscard]] Result<UniqueFd> network_socket() const override {
    return own_network_ ? socket_in_netns(init_.pid()) : Sandbox::network_socket();
  }

  [[nodiscard]] std::uint64_t peak_memory_bytes() const override {
    return cgroup_->peak_memory_bytes();
  }
  [[nodiscard]] bool oom_killed() const override { return cgroup_->oom_killed(); }
  [[nodiscard]] std::optional<std::size_t> process_count() const override {
    const auto files = cgroup_->procs_files();
    if (files.empty()) return std::nullopt;
    std::ifstream procs(files.front());
    if (!procs) return std::nullopt;
    std::size_t count = 0;
    for (std::string line; std::getline(procs, line);) ++count;
    return count;
  }

  Result<void> end_init_burst() override {
    if (!burst_) return {};
    burst_ = false;
    return cgroup_->limit_cpu(memory_mb_);
  }

  // Parking an idle worker must not stall the engine's thread until the freeze completes.
  Result<void> freeze() override { return cgroup_->request_freeze(); }
  Result<void> thaw() override { return cgroup_->thaw(); }

  // Killing init takes the whole pid namespace down; the cgroup kill catches anything else
  // without waiting, so the engine's thread is not held up. The destructor waits until the
  // cgroup is empty before removing it.
  void kill_all() noexcept override {
    init_.kill();
    (void)cgroup_->kill_now();
  }

  std::optional<ExitStatus> try_reap() override {
    auto info = init_.try_reap();
    if (!info) return std::nullopt;
    // Everything init sent is queued by now. It exits right after telling how the worker
    // ended; without that message (init itself was killed, or the launch failed) its own
    // status is the answer.
    read_messages(std::chrono::milliseconds(0));
    (void)cgroup_->kill_all();
    return worker_exit_.value_or(exit_status_of(*info));
  }

  [[nodiscard]] std::optional<SysError> launch_failure() const override { return launch_failure_; }

 private:
  // An adopted worker was not exec'd by init: no Ready comes.
  [[nodiscard]] bool launch_settled() const {
    return adopted_ || timings_.exec_done != Clock::time_point{} || launch_failure_.has_value() ||
           worker_exit_.has_value();
  }

  // Takes init's messages: the first within `wait`, then whatever else is queued.
  void read_messages(std::chrono::milliseconds wait) const {
    std::string buffer(256, '\0');
    for (bool first = true;; first = false) {
      if (first && wait.count() > 0) {
        pollfd pfd{handshake_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return;
      }
      const ssize_t n = ::recv(handshake_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n <= 0) return;
      auto reply = init::decode_reply(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      if (!reply) continue;
      if (reply->ready) {
        timings_.seccomp_loaded = from_monotonic_ns(reply->ready->seccomp_loaded_ns);
        timings_.exec_done = from_monotonic_ns(reply->ready->exec_done_ns);
        timings_.spawned = timings_.exec_done;
      }
      if (reply->failed) launch_failure_ = launch_step_failed(id_, *reply->failed, options_);
      if (reply->exited) worker_exit_ = ExitStatus{reply->exited->signaled, reply->exited->value};
    }
  }

  std::string id_;
  std::uint32_t memory_mb_;
  bool burst_;        // no CPU quota yet
  bool own_network_;  // its own network namespace (not `network: host`)
  bool adopted_;
  NativeOptions options_;
  IdLease user_;  // before cgroup_: returned after the cgroup is empty and gone
  std::unique_ptr<Cgroup> cgroup_;
  InitProcess init_;
  UniqueFd handshake_;
  UniqueFd listener_;
  // What init reported so far; read lazily, hence mutable.
  mutable SandboxTimings timings_;
  mutable std::optional<SysError> launch_failure_;
  mutable std::optional<ExitStatus> worker_exit_;
};

// Init has built the root and waits for its Launch.
class NativePrepared final : public PreparedSandbox {
 public:
  NativePrepared(SandboxSpec spec, NativeOptions options,
                 std::shared_ptr<const SeccompProgram> seccomp, SandboxUser user,
                 std::unique_ptr<Cgroup> cgroup, InitProcess init, UniqueFd handshake,
                 UniqueFd launch_read, UniqueFd launch, Listener listener, SandboxTimings timings)
      : spec_(std::move(spec)),
        seccomp_(std::move(seccomp)),
        options_(std::move(options)),
        user_(std::move(user)),
        cgroup_(std::move(cgroup)),
        init_(std::move(init)),
        handshake_(std::move(handshake)),
        launch_read_(std::move(launch_read)),
        launch_(std::move(launch)),
        listener_(std::move(listener)),
        timings_(timings) {}

  [[nodiscard]] const std::string& id() const override { return spec_.id; }

  // For SandboxSpec::adopter: the way in, with the launch pipe's read end (once).
  Result<SandboxEntry> entry() {
    SandboxEntry out;
    out.init_pidfd = UniqueFd(::fcntl(init_.pidfd(), F_DUPFD_CLOEXEC, 0));
    if (!out.init_pidfd) return in_context(last_error("dup init's pidfd"));
    out.launch_fd = std::move(launch_read_);
    out.output_fd = spec_.output_fd;
    out.cgroup_procs = cgroup_->procs_files();
    out.uid = user_.uid;
    out.gid = user_.gid;
    out.group = user_.group;
    out.seccomp.assign(reinterpret_cast<const char*>(seccomp_->instructions.data()),
                       seccomp_->instructions.size() * sizeof(sock_filter));
    return out;
  }

  // Writes the Launch into the armed worker's pipe and closes it; the worker execs while the
  // engine goes on. Failing to exec shows as init's StepFailed and exit (launch_failure()).
  Result<std::unique_ptr<Sandbox>> start(const LaunchSpec& launch) override {
    timings_.launch_begin = Clock::now();
    init::Launch message_data{launch.argv, launch.env, sandbox_path(spec_, launch.working_dir)};
    message_data.env.push_back("AWS_LAMBDA_RUNTIME_API=" + listener_.address);
    const std::string message = init::encode(message_data);
    std::size_t sent = 0;
    while (sent < message.size()) {
      // The pipe holds 64 KiB and the worker is reading: this does not block for long.
      const ssize_t n = ::write(launch_.get(), message.data() + sent, message.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return in_context(last_error("write the launch"));
      sent += static_cast<std::size_t>(n);
    }
    launch_.reset();
    return std::unique_ptr<Sandbox>(std::make_unique<NativeSandbox>(
        spec_, options_, std::move(user_.lease), std::move(cgroup_), std::move(init_),
        std::move(handshake_), std::move(listener_.fd), timings_));
  }

  // Waits for init's Prepared, or the reason it failed.
  Result<void> wait_until_prepared() {
    auto reply = receive_reply(handshake_.get(), options_.setup_timeout);
    if (!reply) return in_context(reply.error());
    if (reply->failed) return step_failed(*reply->failed);
    if (!reply->prepared) return SysError{EPROTO, "sandbox " + spec_.id + ": unexpected reply", {}};
    timings_.mounts_done = from_monotonic_ns(reply->prepared->mounts_done_ns);
    return {};
  }

 private:
  [[nodiscard]] SysError in_context(SysError error) const {
    error.context = "sandbox " + spec_.id + ": " + error.context;
    return error;
  }

  [[nodiscard]] SysError step_failed(const init::StepFailed& failed) const {
    return launch_step_failed(spec_.id, failed, options_);
  }

  SandboxSpec spec_;  // for its id and host paths
  std::shared_ptr<const SeccompProgram> seccomp_;
  NativeOptions options_;  // a copy: a prepared sandbox may outlive its backend
  SandboxUser user_;       // before cgroup_, as NativeSandbox's
  std::unique_ptr<Cgroup> cgroup_;
  InitProcess init_;
  UniqueFd handshake_;
  UniqueFd launch_read_;  // kept for an adopter's worker only
  UniqueFd launch_;  // write end of the worker's launch pipe; closing it unused ends the worker
  Listener listener_;
  SandboxTimings timings_;
};

class NativeBackend final : public SandboxBackend {
 public:
  NativeBackend(NativeOptions options, std::unique_ptr<CgroupManager> cgroups)
      : options_(std::move(options)),
        cgroups_(std::move(cgroups)),
        ids_(options_.ids ? std::make_shared<SandboxIds>(*options_.ids) : nullptr) {}

  [[nodiscard]] std::string name() const override { return "native"; }

  [[nodiscard]] fs::path task_root(const SandboxSpec& /*spec*/) const override { return kTaskRoot; }
  [[nodiscard]] fs::path runtime_root(const SandboxSpec& /*spec*/) const override {
    return kRuntimeRoot;
  }

  Result<std::unique_ptr<PreparedSandbox>> prepare(const SandboxSpec& spec) override {
    SandboxTimings t;
    t.create_begin = Clock::now();
    auto program = seccomp_.get(spec.seccomp);  // compiled on first use of a policy only
    if (!program) return program.error();
    auto user = sandbox_user(ids_, options_.uid, options_.gid);
    if (!user) return user.error();

    auto cgroup = cgroups_->create(
        spec.id, CgroupLimits{spec.memory_mb, options_.pids_max, spec.init_cpu_burst});
    if (!cgroup) return cgroup.error();
    t.cgroup_created = Clock::now();

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
      return last_error("socketpair for the sandbox handshake");
    }
    UniqueFd handshake(pair[0]);
    UniqueFd child_end(pair[1]);
    int launch_pipe[2];
    if (::pipe2(launch_pipe, O_CLOEXEC) < 0) return last_error("pipe2 for the sandbox launch");
    UniqueFd launch_read(launch_pipe[0]);
    UniqueFd launch_write(launch_pipe[1]);
    auto init = clone_init(CloneRequest{options_.init_path, child_end.get(), launch_read.get(),
                                        spec.output_fd, !spec.network_host});
    if (!init) return init.error();
    child_end.reset();  // init holds its copy; EOF on ours now means init is gone
    if (!spec.adopter) launch_read.reset();  // else it goes to the adopted worker
    t.namespaces_created = Clock::now();

    if (auto attached = (*cgroup)->attach(init->pid()); !attached) return attached.error();
    t.cgroup_attached = Clock::now();

    auto listener =
        spec.network_host ? listen_on_loopback(0) : listen_in_netns(init->pid(), kRuntimeApiPort);
    if (!listener) return listener.error();
    t.listener_ready = Clock::now();

    init::InitConfig config;
    config.root = options_.root_mount_point.string();
    config.code_dir = spec.code_dir.string();
    config.runtime_dir = spec.runtime_dir.string();
    for (const auto& layer : spec.opt_layers) config.opt_layers.push_back(layer.string());
    config.image_root = spec.image_root.string();
    for (const auto& mount : spec.mounts) {
      config.mounts.push_back({mount.source.string(), mount.target, mount.read_only});
    }
    config.tmp_mb = spec.tmp_mb;
    config.uid = user->uid;
    config.gid = user->gid;
    config.group = user->group;
    config.hostname = "sandbox";
    config.seccomp = (*program)->instructions;
    config.adopt = static_cast<bool>(spec.adopter);
    const std::string message = init::encode(config);
    if (::send(handshake.get(), message.data(), message.size(), MSG_NOSIGNAL) < 0) {
      return last_error("send the sandbox its configuration");
    }
    auto prepared = std::make_unique<NativePrepared>(
        spec, options_, *program, std::move(*user), std::move(*cgroup), std::move(*init),
        std::move(handshake), std::move(launch_read), std::move(launch_write), std::move(*listener),
        t);
    if (auto ready = prepared->wait_until_prepared(); !ready) return ready.error();
    if (spec.adopter) {
      auto entry = prepared->entry();
      if (!entry) return entry.error();
      if (auto adopted = spec.adopter(*entry); !adopted) {
        auto error = adopted.error();
        error.context = "sandbox " + spec.id + ": " + error.context;
        return error;
      }
    }
    return std::unique_ptr<PreparedSandbox>(std::move(prepared));
  }

 private:
  NativeOptions options_;
  std::unique_ptr<CgroupManager> cgroups_;
  std::shared_ptr<SandboxIds> ids_;  // null: every sandbox runs as options_.uid
  SeccompProgramCache seccomp_;
};

fs::path default_init_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("ember-sandbox-init") : self.parent_path() / "ember-sandbox-init";
}

}  // namespace

fs::path default_arm_library_path() {
  return default_init_path().parent_path() / "libember-arm.so";
}

Result<void> detect_native_support(const NativeOptions& options) {
  std::string missing;
  const auto add = [&](const std::string& what) {
    missing += missing.empty() ? "" : "; ";
    missing += what;
  };
  if (::geteuid() != 0) {
    add("not root (euid " + std::to_string(::geteuid()) +
        "): namespaces, mounts and cgroups need it; run `ember serve` as root");
  }
  if (auto cgroups = detect_cgroup_manager(CgroupOptions{options.cgroup_parent, {}}); !cgroups) {
    add(cgroups.error().message());
  }
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    if (::access(("/proc/self/ns/" + std::string(ns)).c_str(), F_OK) < 0) {
      add(std::string("no ") + ns + " namespaces (kernel built without them)");
    }
  }
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
    add("no seccomp (kernel without CONFIG_SECCOMP_FILTER)");
  }
  const fs::path init_path = options.init_path.empty() ? default_init_path() : options.init_path;
  if (::access(init_path.c_str(), X_OK) < 0) {
    add("no executable " + init_path.string() +
        " (ember-sandbox-init is built and installed with ember)");
  }
  if (missing.empty()) return {};
  return SysError{0, "the native sandbox is not available here: " + missing,
                  "fix the above, or opt out per function or node with `isolation: none` "
                  "(no isolation)"};
}

bool made_by_a_dead_node(std::string_view id) {
  const auto last = id.rfind('-');
  if (last == std::string_view::npos || last == 0) return false;
  const auto before = id.rfind('-', last - 1);
  if (before == std::string_view::npos) return false;
  const auto pid_text = id.substr(before + 1, last - before - 1);
  const auto number_text = id.substr(last + 1);
  pid_t pid = 0;
  unsigned number = 0;
  const auto parsed = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  const auto counted =
      std::from_chars(number_text.data(), number_text.data() + number_text.size(), number);
  if (parsed.ec != std::errc{} || parsed.ptr != pid_text.data() + pid_text.size() ||
      counted.ec != std::errc{} || counted.ptr != number_text.data() + number_text.size() ||
      pid <= 0) {
    return false;
  }
  if (pid == ::getpid()) return false;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!std::getline(comm, name)) return true;  // no such process
  return name != "ember";
}

Result<std::unique_ptr<SandboxBackend>> make_native_backend(NativeOptions options) {
  if (options.init_path.empty()) options.init_path = default_init_path();
  if (auto supported = detect_native_support(options); !supported) return supported.error();
  auto cgroups = detect_cgroup_manager(CgroupOptions{options.cgroup_parent, {}});
  if (!cgroups) return cgroups.error();
  if (options.leftovers) {
    std::string failures;
    const auto removed = (*cgroups)->remove_orphans(made_by_a_dead_node, failures);
    if (!removed.empty()) {
      options.leftovers("removed " + std::to_string(removed.size()) +
                        " sandbox cgroup(s) left by nodes that no longer run: " +
                        boost::algorithm::join(removed, ", "));
    }
    if (!failures.empty()) options.leftovers("could not remove a leftover cgroup: " + failures);
  }
  std::error_code ec;
  fs::create_directories(options.root_mount_point, ec);
  if (ec) {
    return SysError{ec.value(), "mkdir -p " + options.root_mount_point.string(),
                    "NativeOptions::root_mount_point must be creatable by root"};
  }
  return std::unique_ptr<SandboxBackend>(
      std::make_unique<NativeBackend>(std::move(options), std::move(*cgroups)));
}

}  // namespace ember::isolation
