// Integration: real sandboxes running the programs of tests/testcases/c. Needs root, a
// writable cgroup hierarchy and namespaces; skips with the reason otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kTestcases = fs::path(EMBER_BINARY_DIR) / "tests/testcases/c";

NativeOptions test_options() {
  NativeOptions options;
  options.init_path = fs::path(EMBER_BINARY_DIR) / "ember-sandbox-init";
  options.cgroup_parent = "ember-test";
  return options;
}

struct RunResult {
  std::optional<ExitStatus> status;
  std::string output;
};

class NativeSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto supported = detect_native_support(test_options()); !supported) {
      GTEST_SKIP() << supported.error().message();
    }
    auto backend = make_native_backend(test_options());
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
    output_ = UniqueFd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(output_.valid());
  }

  SandboxSpec spec(std::vector<std::string> args) {
    SandboxSpec spec;
    spec.id = "t" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    spec.code_dir = kTestcases;
    spec.working_dir = kTestcases;  // mapped to /var/task
    args[0] = (backend_->task_root(spec) / args[0]).string();
    spec.argv = std::move(args);
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.output_fd = output_.get();
    return spec;
  }

  std::string output() const {
    std::string text(1 << 16, '\0');
    const ssize_t n = ::pread(output_.get(), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }

  static std::optional<ExitStatus> wait(Sandbox& sandbox, std::chrono::milliseconds timeout) {
    pollfd pfd{sandbox.exit_fd(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    return sandbox.try_reap();
  }

  RunResult run(const SandboxSpec& spec, std::chrono::milliseconds timeout = 30s) {
    auto sandbox = backend_->create(spec);
    EXPECT_TRUE(sandbox) << sandbox.error().message();
    if (!sandbox) return {};
    RunResult result;
    result.status = wait(**sandbox, timeout);
    result.output = output();
    return result;
  }

  RunResult run_args(std::vector<std::string> args) { return run(spec(std::move(args))); }

  std::unique_ptr<SandboxBackend> backend_;
  UniqueFd output_;
  int counter_ = 0;
};

void expect_exit(const RunResult& run, int code) {
  ASSERT_TRUE(run.status) << "did not exit; output:\n" << run.output;
  EXPECT_FALSE(run.status->signaled) << run.status->describe() << "\n" << run.output;
  EXPECT_EQ(run.status->value, code) << run.output;
}

TEST_F(NativeSandbox, WorkerIsPidOnesChildAsTheSandboxUserInTaskRoot) {
  const auto result = run_args({"hello"});
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("uid=993 gid=993 pid=2 ppid=1 cwd=/var/task api=127.0.0.1:9001"),
            std::string::npos)
      << result.output;
}

TEST_F(NativeSandbox, WorkerHasNoCapabilitiesNoNewPrivsAndSeccomp) {
  const auto result = run_args({"status"});
  expect_exit(result, 0);
  for (const char* line :
       {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000",
        "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2", "Groups:\t993"}) {
    EXPECT_NE(result.output.find(line), std::string::npos) << line << "\n" << result.output;
  }
}

TEST_F(NativeSandbox, CannotReadHostFilesOutsideItsMounts) {
  expect_exit(run_args({"read_host_file", std::string(EMBER_SOURCE_DIR) + "/CMakeLists.txt"}), 0);
  expect_exit(run_args({"read_host_file", "/root/.bashrc"}), 0);
}

TEST_F(NativeSandbox, CannotWriteItsCodeOrTheRoot) { expect_exit(run_args({"write_task"}), 0); }

TEST_F(NativeSandbox, SeesOnlyItsOwnProcesses) {
  const auto result = run_args({"list_processes"});
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("pids: 1 2"), std::string::npos) << result.output;
}

TEST_F(NativeSandbox, CannotSignalHostProcessesOrItsInit) {
  expect_exit(run_args({"kill_outside", std::to_string(::getpid())}), 0);
}

TEST_F(NativeSandbox, CannotMountPtraceLoadModulesOrMakeNamespaces) {
  expect_exit(run_args({"mount_it"}), 0);
  expect_exit(run_args({"ptrace_it"}), 0);
  expect_exit(run_args({"load_module"}), 0);
  expect_exit(run_args({"new_namespace"}), 0);
}

// A listening socket on an ephemeral host loopback port.
UniqueFd host_listener(unsigned short& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(fd.get(), 4);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

TEST_F(NativeSandbox, CannotReachHostLoopbackServices) {
  unsigned short port = 0;
  const auto listener = host_listener(port);
  expect_exit(run_args({"connect_port", std::to_string(port)}), 0);
}

TEST_F(NativeSandbox, NetworkHostIsTheDocumentedWeakerMode) {
  unsigned short port = 0;
  const auto listener = host_listener(port);
  auto s = spec({"connect_port", std::to_string(port)});
  s.network_host = true;
  expect_exit(run(s), 1);  // the connect succeeds
}

TEST_F(NativeSandbox, RuntimeApiListenerServesTheWorkerInsideItsNetns) {
  auto sandbox = backend_->create(spec({"runtime_api_next"}));
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  auto listener = (*sandbox)->take_runtime_api_listener();
  pollfd pfd{listener.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10'000), 1) << "no connection; output:\n" << output();
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  char request[512] = {};
  ASSERT_GT(::read(conn.get(), request, sizeof request - 1), 0);
  EXPECT_NE(std::string(request).find("GET /2018-06-01/runtime/invocation/next"),
            std::string::npos);
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(::write(conn.get(), answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
  const auto status = wait(**sandbox, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->value, 0);
  EXPECT_NE(output().find("answer: HTTP/1.1 200 OK"), std::string::npos) << output();
}

TEST_F(NativeSandbox, MemoryOverTheLimitIsOomKilledWithPeakReported) {
  auto s = spec({"eat_memory"});
  s.memory_mb = 64;
  auto sandbox = backend_->create(s);
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  const auto status = wait(**sandbox, 30s);
  ASSERT_TRUE(status) << output();
  EXPECT_TRUE(status->signaled) << status->describe();
  EXPECT_EQ(status->value, SIGKILL);
  EXPECT_TRUE((*sandbox)->oom_killed());
  EXPECT_GT((*sandbox)->peak_memory_bytes(), 56u << 20);
  EXPECT_LE((*sandbox)->peak_memory_bytes(), 64u << 20);
}

TEST_F(NativeSandbox, ForkBombIsContainedByThePidsLimit) {
  auto s = spec({"fork_bomb"});
  s.memory_mb = 1769;  // a full CPU, so a thousand forks take milliseconds, not seconds
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("fork: failed errno=11"), std::string::npos) << result.output;
}

TEST_F(NativeSandbox, FillingTmpPastItsSizeFailsWithEnospc) {
  auto s = spec({"fill_tmp"});
  s.tmp_mb = 16;
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("wrote 16 MB"), std::string::npos) << result.output;
}

TEST_F(NativeSandbox, CpuQuotaFollowsMemory) {
  auto s = spec({"cpu_quota", "1000"});
  s.memory_mb = 128;  // 128/1769 of a CPU: about 7 %
  const auto result = run(s);
  expect_exit(result, 0);
  const auto at = result.output.find("cpu_share=");
  ASSERT_NE(at, std::string::npos) << result.output;
  EXPECT_LT(std::stod(result.output.substr(at + 10)), 0.2) << result.output;
}

// The last figure: the fixture's output file collects every sandbox's.
double cpu_share(const std::string& output) {
  const auto at = output.rfind("cpu_share=");
  return at == std::string::npos ? -1 : std::stod(output.substr(at + 10));
}

// The init burst: no quota until end_init_burst(), then memory_mb's share.
TEST_F(NativeSandbox, InitCpuBurstLiftsTheQuotaUntilInitEnds) {
  auto s = spec({"cpu_quota", "300"});
  s.memory_mb = 128;
  s.init_cpu_burst = true;
  const auto burst = run(s);
  expect_exit(burst, 0);
  // Twice what the 128 MB quota allows (0.072 of a CPU): no quota was applied. Not more, so
  // a machine busy with other tests cannot fail it.
  EXPECT_GT(cpu_share(burst.output), 0.15) << burst.output;

  auto limited = spec({"cpu_quota", "1000"});
  limited.memory_mb = 128;
  limited.init_cpu_burst = true;
  auto sandbox = backend_->create(limited);
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  ASSERT_TRUE((*sandbox)->end_init_burst());
  const auto status = wait(**sandbox, 30s);
  ASSERT_TRUE(status);
  const auto share = cpu_share(output());
  EXPECT_GE(share, 0) << output();
  EXPECT_LT(share, 0.2) << output();
}

TEST_F(NativeSandbox, KillAllEndsTheSandboxAndNothingIsLeftBehind) {
  auto s = spec({"cpu_quota", "60000"});
  const fs::path cgroup = fs::path("/sys/fs/cgroup/pids/ember-test") / s.id;
  {
    auto sandbox = backend_->create(s);
    ASSERT_TRUE(sandbox) << sandbox.error().message();
    (*sandbox)->kill_all();
    const auto status = wait(**sandbox, 5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->describe(), "signal: killed");
  }
  EXPECT_FALSE(fs::exists(cgroup));
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::stringstream text;
  text << mountinfo.rdbuf();
  EXPECT_EQ(text.str().find(test_options().root_mount_point.string()), std::string::npos);
}

// The runtime is exec'd after start() returned; a failed exec ends the sandbox and is
// reported by launch_failure(), naming the step, as the function's fault.
TEST_F(NativeSandbox, AFailedExecIsNamedInTheLaunchFailure) {
  auto sandbox = backend_->create(spec({"no-such-program"}));
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  ASSERT_TRUE(wait(**sandbox, 5s));
  const auto failure = (*sandbox)->launch_failure();
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->message().find("step 'exec runtime': execve /var/task/no-such-program"),
            std::string::npos)
      << failure->message();
  EXPECT_EQ(failure->err, ENOENT);
  EXPECT_TRUE(failure->bad_entrypoint);
}

// Pids in a sandbox's pids cgroup (this host: cgroup v1).
std::vector<pid_t> cgroup_pids(const std::string& id) {
  std::ifstream procs(fs::path("/sys/fs/cgroup/pids/ember-test") / id / "cgroup.procs");
  std::vector<pid_t> pids;
  for (pid_t pid = 0; procs >> pid;) pids.push_back(pid);
  return pids;
}

std::string proc_status(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST_F(NativeSandbox, APreparedSandboxHoldsAnArmedWorkerUntilItsLaunch) {
  auto s = spec({"hello"});
  auto prepared = backend_->prepare(s);
  ASSERT_TRUE(prepared) << prepared.error().message();
  // Init and the worker it forked, which already dropped everything and loaded the filter
  // before anything of the function was known.
  const auto pids = cgroup_pids(s.id);
  ASSERT_EQ(pids.size(), 2U);
  std::size_t armed = 0;
  for (const pid_t pid : pids) {
    const auto status = proc_status(pid);
    if (status.find("Uid:\t993\t993\t993\t993") == std::string::npos) continue;
    ++armed;
    for (const char* line : {"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
                             "NoNewPrivs:\t1", "Seccomp:\t2"}) {
      EXPECT_NE(status.find(line), std::string::npos) << line << "\n" << status;
    }
  }
  EXPECT_EQ(armed, 1U);

  // The launch decides what runs, with which environment.
  auto sandbox = (*prepared)->start(LaunchSpec{{"/var/task/hello"}, {"PATH=/bin"}, kTestcases});
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  const auto status = wait(**sandbox, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->describe(), "exit status 0");
  EXPECT_NE(output().find("uid=993 gid=993 pid=2 ppid=1 cwd=/var/task api=127.0.0.1:9001"),
            std::string::npos)
      << output();
  EXPECT_GE((*sandbox)->timings().exec_done, (*sandbox)->timings().launch_begin);
}

TEST_F(NativeSandbox, AnUnusedPreparedSandboxLeavesNothingBehind) {
  auto s = spec({"hello"});
  const fs::path cgroup = fs::path("/sys/fs/cgroup/pids/ember-test") / s.id;
  std::vector<pid_t> pids;
  {
    auto prepared = backend_->prepare(s);
    ASSERT_TRUE(prepared) << prepared.error().message();
    pids = cgroup_pids(s.id);
    EXPECT_EQ(pids.size(), 2U);
  }
  EXPECT_FALSE(fs::exists(cgroup));
  for (const pid_t pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " still runs";
  EXPECT_EQ(output(), "");  // the worker never ran anything
}

TEST_F(NativeSandbox, InSandboxPathsComeFromTheBackend) {
  SandboxSpec s;
  s.code_dir = "/srv/fn";
  s.runtime_dir = "/srv/runtimes";
  EXPECT_EQ(backend_->task_root(s), "/var/task");
  EXPECT_EQ(backend_->runtime_root(s), "/var/runtime");
  EXPECT_EQ(make_process_backend()->task_root(s), "/srv/fn");
}

// An image function's root: a directory shaped like an unpacked image (busybox-static as its
// only program), not the host's /usr.
class ImageRoot {
 public:
  ImageRoot() {
    std::string pattern = (fs::temp_directory_path() / "ember-image-root-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root_ = pattern;
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    for (const char* dir : {"bin", "proc", "dev", "tmp", "etc"}) fs::create_directory(root_ / dir);
    fs::copy_file("/bin/busybox", root_ / "bin" / "busybox");
    std::ofstream(root_ / "etc" / "marker") << "from the image\n";
  }
  ImageRoot(const ImageRoot&) = delete;
  ImageRoot& operator=(const ImageRoot&) = delete;
  ~ImageRoot() { fs::remove_all(root_); }
  [[nodiscard]] const fs::path& path() const { return root_; }

 private:
  fs::path root_;
};

TEST_F(NativeSandbox, AnImageRootIsTheSandboxsRootReadOnlyWithItsOwnTmpProcAndDev) {
  ASSERT_TRUE(fs::exists("/bin/busybox")) << "needs busybox-static (scripts/setup.sh)";
  const ImageRoot image;
  auto s = spec({"unused"});
  s.image_root = image.path();
  s.working_dir = "/etc";
  s.argv = {"/bin/busybox", "sh", "-c",
            "cat marker; "
            "/bin/busybox touch /new 2>/dev/null && echo wrote-root; "
            "/bin/busybox touch /tmp/x && echo wrote-tmp; "
            "/bin/busybox test -e /usr/bin/python3 || echo no-host-usr; "
            "/bin/busybox test -e /dev/null && echo has-dev-null; "
            "/bin/busybox ls /proc | /bin/busybox grep -c '^[0-9]'"};
  const auto result = run(s);
  expect_exit(result, 0);
  // Init and the shell, with busybox's ls and grep: the sandbox's own processes only.
  EXPECT_EQ(result.output, "from the image\nwrote-tmp\nno-host-usr\nhas-dev-null\n4\n");
  EXPECT_FALSE(fs::exists(image.path() / "new"));
  EXPECT_TRUE(fs::is_empty(image.path() / "tmp")) << "the sandbox's /tmp is its own tmpfs";
}

TEST_F(NativeSandbox, AnImageRootWithoutAMountPointIsNamedInTheFailure) {
  const ImageRoot image;
  fs::remove(image.path() / "proc");
  auto s = spec({"unused"});
  s.image_root = image.path();
  s.argv = {"/bin/busybox", "true"};
  auto sandbox = backend_->create(s);
  ASSERT_FALSE(sandbox);
  EXPECT_NE(sandbox.error().message().find(image.path().string() +
                                           "/proc (the image must have it to mount on)"),
            std::string::npos)
      << sandbox.error().message();
}

}  // namespace
}  // namespace ember::isolation
