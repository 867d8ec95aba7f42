// The OCI backend: each sandbox an OCI container of runc or crun, run in the foreground as
// ember's child. docs/isolation.md ("The OCI backend") explains the choices.
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>

#include "background_queue.hpp"
#include "cgroup.hpp"
#include "cgroup_files.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember_paths.hpp"
#include "netns_listener.hpp"
#include "oci_cgroup_paths.hpp"
#include "oci_config.hpp"
#include "oci_host_root.hpp"
#include "oci_runtime.hpp"
#include "sandbox_identity.hpp"
#include "sandbox_ids.hpp"
#include "sandbox_path.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr unsigned short kRuntimeApiPort = 9001;
// How long a sandbox's clean-up waits for its runtime process to end after SIGKILL reached
// the container, before it kills the runtime and deletes the container itself.
constexpr auto kRuntimeExitWait = std::chrono::seconds(10);

// What every sandbox needs of its backend; shared, since a sandbox may outlive the backend.
struct OciShared {
  OciOptions options;
  OciRuntime runtime;
  fs::path bundles;
  OciHostRoot host_root;
  std::vector<fs::path> hierarchy_roots;
  bool cgroup_namespace = true;
};

// The runtime reports a container killed by signal N as exit status 128+N, as a shell does.
ExitStatus container_status(const ExitStatus& runtime) {
  if (!runtime.signaled && runtime.value > 128 && runtime.value <= 128 + SIGRTMAX) {
    return ExitStatus{true, runtime.value - 128};
  }
  return runtime;
}

bool looks_like_exec_failure(const std::string& message) {
  if (message.find("exec") == std::string::npos) return false;
  constexpr std::string_view kReasons[] = {"no such file", "not found", "ermission denied",
                                           "exec format"};
  return std::ranges::any_of(
      kReasons, [&](std::string_view reason) { return message.find(reason) != std::string::npos; });
}

Result<void> write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return SysError{errno, "write " + file.string(), {}};
  return {};
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Everything of one container ember holds, released in the right order: the runtime's process
// ends (it deletes the container), what it could not delete is deleted, then the cgroups and
// the bundle go. Runs on the caller's thread when that cannot block, else in the background.
struct OciRemains {
  std::shared_ptr<const OciShared> shared;
  std::string container_id;
  fs::path bundle;
  std::string cgroup_path;  // of the sandbox's own cgroup, in each hierarchy
  std::unique_ptr<Cgroup> cgroup;
  std::optional<SpawnedProcess> runtime_process;  // unreaped
  UniqueFd netns;
  SandboxUser user;  // its id goes back once the container and its cgroups are gone

  [[nodiscard]] bool container_state_exists() const {
    return fs::exists(shared->runtime.state_root() / container_id);
  }
  // True when release() would wait for a process or run the runtime.
  [[nodiscard]] bool slow() const {
    return (runtime_process && !runtime_process->reaped()) || container_state_exists();
  }

  void release() {
    if (runtime_process && !runtime_process->reaped()) {
      pollfd exited{runtime_process->pidfd(), POLLIN, 0};
      (void)::poll(&exited, 1,
                   static_cast<int>(std::chrono::milliseconds(kRuntimeExitWait).count()));
      runtime_process.reset();  // SIGKILLs it if it is still there, and reaps it
    }
    if (container_state_exists()) (void)shared->runtime.force_delete(container_id);
    // The container's cgroups first: the sandbox's own cannot be removed while they exist.
    remove_container_cgroups(shared->hierarchy_roots, cgroup_path + "/" + kOciContainerCgroup);
    cgroup.reset();
    if (!cgroup_path.empty()) remove_container_cgroups(shared->hierarchy_roots, cgroup_path);
    netns.reset();
    std::error_code ec;
    fs::remove_all(bundle, ec);
    user.lease = IdLease();
  }
};

// Hands remains to the background queue when releasing them could block.
void release(std::shared_ptr<OciRemains> remains) {
  if (!remains->slow()) {
    remains->release();
    return;
  }
  BackgroundQueue::instance().post([remains = std::move(remains)] { remains->release(); });
}

class OciSandbox final : public Sandbox {
 public:
  OciSandbox(std::shared_ptr<OciRemains> remains, UniqueFd listener, SandboxTimings timings,
             std::uint32_t memory_mb, bool burst)
      : remains_(std::move(remains)),
        listener_(std::move(listener)),
        timings_(timings),
        memory_mb_(memory_mb),
        burst_(burst) {}
  OciSandbox(const OciSandbox&) = delete;
  OciSandbox& operator=(const OciSandbox&) = delete;
  OciSandbox(OciSandbox&&) = delete;
  OciSandbox& operator=(OciSandbox&&) = delete;
  ~OciSandbox() override {
    if (!reaped_) kill_all();
    container_init_.reset();
    release(std::move(remains_));
  }

  [[nodiscard]] pid_t pid() const override { return process().pid(); }
  [[nodiscard]] int exit_fd() const override { return process().pidfd(); }
  [[nodiscard]] const SandboxTimings& timings() const override { return timings_; }
  UniqueFd take_runtime_api_listener() override { return std::move(listener_); }
  [[nodiscard]] Result<UniqueFd> network_socket() const override {
    if (!remains_->netns) return Sandbox::network_socket();  // `network: host`
    return socket_in_netns(remains_->netns.get(),
                           "the network namespace of " + remains_->container_id);
  }

  [[nodiscard]] std::uint64_t peak_memory_bytes() const override {
    return remains_->cgroup->peak_memory_bytes();
  }
  // v2 counts the kill in the sandbox's cgroup too (memory.events is hierarchical); v1 only in
  // the victim's own, the container's, which runc keeps until the clean-up deletes the
  // container (`run --keep`).
  [[nodiscard]] bool oom_killed() const override {
    if (remains_->cgroup->oom_killed()) return true;
    const fs::path container = remains_->cgroup->path() / kOciContainerCgroup;
    return read_keyed_u64(container / "memory.oom_control", "oom_kill") > 0;
  }

  Result<void> end_init_burst() override {
    if (!burst_) return {};
    burst_ = false;
    return remains_->cgroup->limit_cpu(memory_mb_);
  }

  // The sandbox's cgroup is the container's parent: freezing it freezes the container.
  Result<void> freeze() override { return remains_->cgroup->request_freeze(); }
  Result<void> thaw() override { return remains_->cgroup->thaw(); }

  // SIGKILL to the container's pid 1 takes its whole pid namespace down; the runtime then
  // deletes the container and exits with 137. Before the runtime wrote the pid there is no
  // container process to kill yet: killing the runtime's process group ends its start, and the
  // clean-up deletes what it made.
  void kill_all() noexcept override {
    if (reaped_) return;
    if (const int init = container_init(); init >= 0) {
      ::syscall(SYS_pidfd_send_signal, init, SIGKILL, nullptr, 0);
    } else {
      process().kill_group();
    }
    (void)remains_->cgroup->kill_now();
  }

  std::optional<ExitStatus> try_reap() override {
    if (reaped_) return std::nullopt;
    auto status = process().try_reap();
    if (!status) return std::nullopt;
    reaped_ = true;
    const std::string errors = runtime_log_errors(remains_->bundle / "log.json");
    if (!errors.empty()) {
      SysError failure{0,
                       "sandbox " + remains_->container_id + ": " +
                           remains_->shared->runtime.name() + ": " + errors,
                       {}};
      failure.bad_entrypoint = looks_like_exec_failure(errors);
      launch_failure_ = std::move(failure);
      return *status;
    }
    return container_status(*status);
  }

  [[nodiscard]] std::optional<SysError> launch_failure() const override { return launch_failure_; }

 private:
  [[nodiscard]] SpawnedProcess& process() const { return *remains_->runtime_process; }

  // A pidfd of the container's first process, once the runtime wrote its pid; -1 before.
  int container_init() const {
    if (container_init_) return container_init_.get();
    const std::string text = read_text(remains_->bundle / "pid");
    pid_t pid = 0;
    std::from_chars(text.data(), text.data() + text.size(), pid);
    if (pid <= 0) return -1;
    // Still the runtime's child, and a zombie until it reaps it: the pid cannot be reused
    // while the runtime runs, which it does until this sandbox is reaped.
    container_init_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    return container_init_.get();
  }

  std::shared_ptr<OciRemains> remains_;
  UniqueFd listener_;
  SandboxTimings timings_;
  std::uint32_t memory_mb_;
  bool burst_;
  bool reaped_ = false;
  mutable UniqueFd container_init_;
  std::optional<SysError> launch_failure_;
};

// The bundle directory, the sandbox's cgroup and the Runtime API listener in a new network
// namespace exist; the container is created at start(), when its process is known.
class OciPrepared final : public PreparedSandbox {
 public:
  OciPrepared(SandboxSpec spec, std::vector<SeccompRule> seccomp,
              std::shared_ptr<OciRemains> remains, Listener listener, SandboxTimings timings)
      : spec_(std::move(spec)),
        seccomp_(std::move(seccomp)),
        remains_(std::move(remains)),
        listener_(std::move(listener)),
        timings_(timings) {}
  OciPrepared(const OciPrepared&) = delete;
  OciPrepared& operator=(const OciPrepared&) = delete;
  OciPrepared(OciPrepared&&) = delete;
  OciPrepared& operator=(OciPrepared&&) = delete;
  ~OciPrepared() override {
    if (remains_) release(std::move(remains_));
  }

  [[nodiscard]] const std::string& id() const override { return spec_.id; }

  Result<std::unique_ptr<Sandbox>> start(const LaunchSpec& launch) override {
    timings_.launch_begin = Clock::now();
    const OciShared& shared = *remains_->shared;
    OciContainerInput input;
    input.spec = &spec_;
    input.argv = launch.argv;
    input.env = launch.env;
    input.env.push_back("AWS_LAMBDA_RUNTIME_API=" + listener_.address);
    if (spec_.image_root.empty()) {
      input.cwd = sandbox_path(spec_, launch.working_dir);
    } else {
      input.cwd = launch.working_dir.empty() ? "/" : launch.working_dir.string();
    }
    input.seccomp = seccomp_;
    input.host_root = &shared.host_root;
    input.uid = remains_->user.uid;
    input.gid = remains_->user.gid;
    input.group = remains_->user.group;
    if (shared.options.ids && spec_.image_root.empty()) {
      input.passwd_file = remains_->bundle / "passwd";
      input.group_file = remains_->bundle / "group";
      if (auto r = write_text(input.passwd_file, sandbox_passwd(input.uid, input.gid)); !r) {
        return in_context(r.error());
      }
      if (auto r = write_text(input.group_file, sandbox_group(input.gid, input.group)); !r) {
        return in_context(r.error());
      }
    }
    input.pids_max = shared.options.pids_max;
    input.cgroups_path = remains_->cgroup_path + "/" + kOciContainerCgroup;
    input.cgroup_namespace = shared.cgroup_namespace;
    if (remains_->netns) {
      // The runtime opens it by path while it creates the container; ember holds the fd.
      input.netns_path =
          "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(remains_->netns.get());
    }
    const fs::path config = remains_->bundle / "config.json";
    if (auto r = write_text(config, boost::json::serialize(oci_container_config(input))); !r) {
      return in_context(r.error());
    }
    auto process = shared.runtime.run(remains_->container_id, remains_->bundle,
                                      remains_->bundle / "log.json", spec_.output_fd);
    if (!process) return in_context(process.error());
    remains_->runtime_process.emplace(std::move(*process));
    return std::unique_ptr<Sandbox>(
        std::make_unique<OciSandbox>(std::move(remains_), std::move(listener_.fd), timings_,
                                     spec_.memory_mb, spec_.init_cpu_burst));
  }

 private:
  [[nodiscard]] SysError in_context(SysError error) const {
    error.context = "sandbox " + spec_.id + ": " + error.context;
    return error;
  }

  SandboxSpec spec_;
  std::vector<SeccompRule> seccomp_;
  std::shared_ptr<OciRemains> remains_;
  Listener listener_;
  SandboxTimings timings_;
};

class OciBackend final : public SandboxBackend {
 public:
  OciBackend(std::shared_ptr<const OciShared> shared, std::unique_ptr<CgroupManager> cgroups)
      : shared_(std::move(shared)),
        cgroups_(std::move(cgroups)),
        ids_(shared_->options.ids ? std::make_shared<SandboxIds>(*shared_->options.ids) : nullptr) {
  }

  [[nodiscard]] std::string name() const override { return "oci"; }
  [[nodiscard]] const OciRuntime& runtime() const { return shared_->runtime; }

  [[nodiscard]] fs::path task_root(const SandboxSpec& /*spec*/) const override { return kTaskRoot; }
  [[nodiscard]] fs::path runtime_root(const SandboxSpec& /*spec*/) const override {
    return kRuntimeRoot;
  }

  Result<std::unique_ptr<PreparedSandbox>> prepare(const SandboxSpec& spec) override {
    SandboxTimings t;
    t.create_begin = Clock::now();
    const auto context = [&](SysError error) {
      error.context = "sandbox " + spec.id + ": " + error.context;
      return error;
    };
    auto rules = resolve_seccomp_rules(spec.seccomp);
    if (!rules) return context(rules.error());
    if (spec.image_root.empty() && spec.code_dir.empty()) {
      return SysError{EINVAL, "sandbox " + spec.id + ": neither code_dir nor image_root given", {}};
    }

    auto user = sandbox_user(ids_, shared_->options.uid, shared_->options.gid);
    if (!user) return context(user.error());
    auto remains = std::make_shared<OciRemains>();
    remains->shared = shared_;
    remains->user = std::move(*user);
    remains->container_id = std::string(kOciIdPrefix) + spec.id;
    remains->bundle = shared_->bundles / remains->container_id;
    std::error_code ec;
    if (!fs::create_directory(remains->bundle, ec) || ec) {
      return context(SysError{ec ? ec.value() : EEXIST, "mkdir " + remains->bundle.string(),
                              "sandbox ids must be unique"});
    }

    auto cgroup = cgroups_->create(
        remains->container_id,
        CgroupLimits{spec.memory_mb, shared_->options.pids_max, spec.init_cpu_burst});
    if (!cgroup) {
      release(remains);
      return context(cgroup.error());
    }
    auto path = path_in_hierarchy((*cgroup)->path());
    remains->cgroup = std::move(*cgroup);
    if (!path) {
      release(remains);
      return context(path.error());
    }
    remains->cgroup_path = *path;
    // For the clean-up after a crash: which cgroups this bundle's container had.
    if (auto r = write_text(remains->bundle / "cgroup", *path); !r) {
      release(remains);
      return context(r.error());
    }
    t.cgroup_created = Clock::now();

    Result<Listener> listener = SysError{};
    if (spec.network_host) {
      listener = listen_on_loopback(0);
    } else {
      auto netns = new_network_namespace();
      if (!netns) {
        release(remains);
        return context(netns.error());
      }
      remains->netns = std::move(*netns);
      listener = listen_in_netns(remains->netns.get(), kRuntimeApiPort,
                                 "the network namespace of " + remains->container_id);
    }
    if (!listener) {
      release(remains);
      return context(listener.error());
    }
    t.listener_ready = Clock::now();
    return std::unique_ptr<PreparedSandbox>(std::make_unique<OciPrepared>(
        spec, std::move(*rules), std::move(remains), std::move(*listener), t));
  }

 private:
  std::shared_ptr<const OciShared> shared_;
  std::unique_ptr<CgroupManager> cgroups_;
  std::shared_ptr<SandboxIds> ids_;  // null: every sandbox runs as options.uid
};

// Deletes what a node that was killed left: its containers (by the id prefix), their cgroups
// and bundles.
Result<void> remove_leftovers(const OciShared& shared) {
  std::string failed;
  for (const auto& id : shared.runtime.container_ids()) {
    if (!id.starts_with(kOciIdPrefix)) continue;
    if (auto deleted = shared.runtime.force_delete(id); !deleted) {
      failed += (failed.empty() ? "" : "; ") + deleted.error().message();
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(shared.bundles, ec)) {
    const std::string cgroup = read_text(entry.path() / "cgroup");
    if (!cgroup.empty()) {
      remove_container_cgroups(shared.hierarchy_roots, cgroup + "/" + kOciContainerCgroup);
      remove_container_cgroups(shared.hierarchy_roots, cgroup);
    }
    fs::remove_all(entry.path(), ec);
  }
  if (failed.empty()) return {};
  return SysError{0, "delete leftover containers: " + failed,
                  "delete them by hand (" + shared.runtime.name() + " --root " +
                      shared.runtime.state_root().string() + " delete --force ID)"};
}

Result<std::unique_ptr<OciBackend>> open_backend(const OciOptions& options,
                                                 const fs::path& runtime_name) {
  if (::geteuid() != 0) {
    return SysError{EPERM, "the OCI backend needs root (euid " + std::to_string(::geteuid()) + ")",
                    "run `ember serve` as root"};
  }
  auto runtime = OciRuntime::find(runtime_name, options.state_dir);
  if (!runtime) return runtime.error();
  auto shared = std::make_shared<OciShared>(OciShared{options,
                                                      std::move(*runtime),
                                                      options.state_dir / "bundles",
                                                      {},
                                                      cgroup_hierarchy_roots(),
                                                      ::access("/proc/self/ns/cgroup", F_OK) == 0});
  std::error_code ec;
  for (const auto& dir : {shared->bundles, shared->runtime.state_root()}) {
    fs::create_directories(dir, ec);
    if (ec) return SysError{ec.value(), "mkdir -p " + dir.string(), "OciOptions::state_dir"};
  }
  if (auto r = remove_leftovers(*shared); !r) return r.error();
  auto root = build_oci_host_root(options.state_dir / "root", options.uid, options.gid);
  if (!root) return root.error();
  shared->host_root = std::move(*root);
  auto cgroups = detect_cgroup_manager(CgroupOptions{options.cgroup_parent, {}});
  if (!cgroups) return cgroups.error();
  return std::make_unique<OciBackend>(std::move(shared), std::move(*cgroups));
}

// One trivial container, start to end, through the backend itself: what fails here would fail
// every sandbox.
Result<void> probe(OciBackend& backend, const OciOptions& options) {
  const fs::path code = options.state_dir / "probe";
  std::error_code ec;
  fs::create_directories(code, ec);
  UniqueFd output(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!output) return last_error("open an O_TMPFILE in /tmp for the probe's output");
  SandboxSpec spec;
  // Unique per probe: an earlier probe's clean-up may still be running in the background.
  static std::atomic<unsigned> probes{0};
  spec.id = "probe-" + std::to_string(::getpid()) + "-" + std::to_string(probes++);
  spec.argv = {"/bin/sh", "-c", "exit 0"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.code_dir = code;
  spec.output_fd = output.get();
  spec.tmp_mb = 1;
  auto sandbox = backend.create(spec);
  if (!sandbox) return sandbox.error();
  pollfd exited{(*sandbox)->exit_fd(), POLLIN, 0};
  const int ready = ::poll(&exited, 1, static_cast<int>(options.probe_timeout.count()));
  if (ready <= 0) {
    return SysError{ETIMEDOUT,
                    backend.runtime().name() + ": a trivial container did not end within " +
                        std::to_string(options.probe_timeout.count()) + " ms",
                    {}};
  }
  const auto status = (*sandbox)->try_reap();
  if (const auto failure = (*sandbox)->launch_failure()) return *failure;
  if (status && !status->signaled && status->value == 0) return {};
  std::string text(4096, '\0');
  const ssize_t n = ::pread(output.get(), text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return SysError{0,
                  backend.runtime().name() + ": a trivial container ended with " +
                      (status ? status->describe() : "no status") + ": " + text,
                  {}};
}

Result<std::unique_ptr<OciBackend>> open_and_probe(const OciOptions& options,
                                                   const fs::path& runtime) {
  auto backend = open_backend(options, runtime);
  if (!backend) return backend.error();
  if (auto works = probe(**backend, options); !works) return works.error();
  return backend;
}

// The named runtime, or the first of crun, runc that works; the error names each one's failure.
Result<std::unique_ptr<OciBackend>> first_working(const OciOptions& options) {
  if (!options.runtime.empty()) return open_and_probe(options, options.runtime);
  std::string failures;
  for (const char* candidate : {"crun", "runc"}) {
    auto backend = open_and_probe(options, candidate);
    if (backend) return backend;
    failures += (failures.empty() ? "" : "; ") + backend.error().message();
  }
  return SysError{0, "no OCI runtime can start a container here: " + failures,
                  "install runc or crun, or fix the above"};
}

}  // namespace

Result<fs::path> detect_oci_support(const OciOptions& options) {
  auto backend = first_working(options);
  if (!backend) return backend.error();
  return (*backend)->runtime().path();
}

Result<std::unique_ptr<SandboxBackend>> make_oci_backend(const OciOptions& options) {
  auto backend = first_working(options);
  if (!backend) return backend.error();
  return std::unique_ptr<SandboxBackend>(std::move(*backend));
}

}  // namespace ember::isolation
