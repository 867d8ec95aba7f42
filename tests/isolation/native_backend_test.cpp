// Integration: real sandboxes running the programs of tests/testcases/c, each test against
// the native backend and the OCI backend (runc) where the guarantee is the same. Needs root, a
// writable cgroup hierarchy and namespaces; skips with the reason otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "../support/eventually.hpp"
#include "background_queue.hpp"
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

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<pid_t> cgroup_pids(const fs::path& dir) {
  std::ifstream procs(dir / "cgroup.procs");
  std::vector<pid_t> pids;
  for (pid_t pid = 0; procs >> pid;) pids.push_back(pid);
  return pids;
}

// Pids of a cgroup and of every cgroup below it (an OCI container's is its sandbox's child).
std::vector<pid_t> all_pids_below(const fs::path& dir) {
  std::vector<pid_t> pids = cgroup_pids(dir);
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    const auto more = cgroup_pids(entry.path());
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

// The command names of the processes in a cgroup and below.
std::string commands_below(const fs::path& dir) {
  std::string names;
  for (const pid_t pid : all_pids_below(dir)) {
    names += read_file(fs::path("/proc") / std::to_string(pid) / "comm");
  }
  return names;
}

template <class Done>
bool eventually_true(Done done) {
  return test::eventually(done, std::chrono::seconds(10));
}

OciOptions oci_test_options() {
  OciOptions options;
  options.runtime = "runc";
  // One state directory per test process: ctest runs tests in parallel, and a new backend
  // deletes every ember container of its state directory.
  options.state_dir = "/run/ember/oci-test-" + std::to_string(::getpid());
  options.cgroup_parent = "ember-test-oci";
  return options;
}

enum class Kind { kNative, kOci };

std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kNative ? "Native" : "Oci";
}

struct RunResult {
  std::optional<ExitStatus> status;
  std::string output;
};

class Sandboxes : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (auto supported = detect_native_support(test_options()); !supported) {
      GTEST_SKIP() << supported.error().message();
    }
    auto backend =
        oci() ? make_oci_backend(oci_test_options()) : make_native_backend(test_options());
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
    output_ = UniqueFd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(output_.valid());
  }

  void TearDown() override {
    backend_.reset();
    wait_for_cleanup();
    if (oci()) fs::remove_all(oci_test_options().state_dir);
  }

  [[nodiscard]] static bool oci() { return GetParam() == Kind::kOci; }

  // A backend whose sandboxes each run as a user of their own from `count` ids. Each test
  // process takes ids of its own: ctest runs several at once, and two backends handing out
  // the same ids would make their sandboxes share users.
  void use_own_ids(std::uint32_t count) { use_backend(IdRange{first_test_id(), count}, 993); }

  // A backend whose sandboxes all run as one user, as without node.sandbox_uid_range, but one
  // of this test process's own rather than 993, which other tests' sandboxes use meanwhile.
  void use_one_user() { use_backend(std::nullopt, first_test_id() + 15); }

  void use_backend(std::optional<IdRange> ids, uid_t uid) {
    backend_.reset();
    wait_for_cleanup();
    auto backend = oci() ? make_oci_backend(with_user(oci_test_options(), ids, uid))
                         : make_native_backend(with_user(test_options(), ids, uid));
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
    wait_for_cleanup();  // OCI: the runtime's probe container, which held an id of the range
  }

  template <class Options>
  static Options with_user(Options options, std::optional<IdRange> ids, uid_t uid) {
    options.ids = ids;
    options.uid = uid;
    options.gid = uid;
    return options;
  }

  static std::uint32_t first_test_id() {
    return 0x70100000U + static_cast<std::uint32_t>(::getpid() % 4096) * 16U;
  }

  // The sandbox's cgroup in one v1 hierarchy (this host: cgroup v1).
  [[nodiscard]] static fs::path cgroup_dir(const std::string& controller, const std::string& id) {
    return oci() ? fs::path("/sys/fs/cgroup") / controller / "ember-test-oci" / ("ember-" + id)
                 : fs::path("/sys/fs/cgroup") / controller / "ember-test" / id;
  }

  // The OCI backend hands the clean-up of a sandbox that still ran to a background thread.
  static void wait_for_cleanup() { BackgroundQueue::instance().drain(); }

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

// What only the native backend does: a worker armed ahead of its launch.
class NativeOnly : public Sandboxes {};

void expect_exit(const RunResult& run, int code) {
  ASSERT_TRUE(run.status) << "did not exit; output:\n" << run.output;
  EXPECT_FALSE(run.status->signaled) << run.status->describe() << "\n" << run.output;
  EXPECT_EQ(run.status->value, code) << run.output;
}

// Which sandbox ids a starting node may remove: those of nodes that no longer run.
TEST(Leftovers, OnlyIdsOfNodesThatNoLongerRunAreLeftovers) {
  std::ifstream pid_max_file("/proc/sys/kernel/pid_max");
  long pid_max = 0;
  pid_max_file >> pid_max;
  ASSERT_GT(pid_max, 0);
  // pid_max itself is never a process's pid: a node that no longer runs.
  EXPECT_TRUE(made_by_a_dead_node("hello-" + std::to_string(pid_max) + "-3"));
  EXPECT_TRUE(made_by_a_dead_node("with-dashes-in-it-" + std::to_string(pid_max) + "-12"));
  // A live process that is not an ember node (this test's parent): the pid was reused.
  EXPECT_TRUE(made_by_a_dead_node("hello-" + std::to_string(::getppid()) + "-1"));
  // This process's own ids, and ids of another shape, are never leftovers.
  EXPECT_FALSE(made_by_a_dead_node("hello-" + std::to_string(::getpid()) + "-1"));
  EXPECT_FALSE(made_by_a_dead_node("engine"));
  EXPECT_FALSE(made_by_a_dead_node("hello-1x-2"));
  EXPECT_FALSE(made_by_a_dead_node("hello-12-"));
  EXPECT_FALSE(made_by_a_dead_node("-0-1"));
}

// Native: the runtime is the child of ember's init. OCI: the container's first process.
TEST_P(Sandboxes, WorkerRunsAsTheSandboxUserInTaskRoot) {
  const auto result = run_args({"hello"});
  expect_exit(result, 0);
  const std::string pids = oci() ? "pid=1 ppid=0" : "pid=2 ppid=1";
  EXPECT_NE(result.output.find("uid=993 gid=993 " + pids + " cwd=/var/task api=127.0.0.1:9001"),
            std::string::npos)
      << result.output;
}

TEST_P(Sandboxes, WorkerHasNoCapabilitiesNoNewPrivsAndSeccomp) {
  const auto result = run_args({"status"});
  expect_exit(result, 0);
  for (const char* line :
       {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000",
        "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2", "Groups:\t993"}) {
    EXPECT_NE(result.output.find(line), std::string::npos) << line << "\n" << result.output;
  }
}

// The first of /proc/PID/status's "Uid:" or "Gid:" ids in `text`, or 0.
std::uint32_t id_in(const std::string& text, const std::string& field) {
  const auto at = text.find(field + ":\t");
  if (at == std::string::npos) return 0;
  return static_cast<std::uint32_t>(std::stoul(text.substr(at + field.size() + 2)));
}

TEST_P(Sandboxes, WithAnIdRangeEachSandboxRunsAsAUserOfItsOwnInTheSharedGroup) {
  use_own_ids(4);
  const auto first = run_args({"status"});
  expect_exit(first, 0);
  const auto first_uid = id_in(first.output, "Uid");
  ASSERT_GE(first_uid, first_test_id()) << first.output;
  ASSERT_LT(first_uid, first_test_id() + 4) << first.output;
  EXPECT_EQ(id_in(first.output, "Gid"), first_uid) << first.output;
  // Its own group and the shared one (options.gid), which keeps group-readable code readable.
  const std::string own = std::to_string(first_uid);
  EXPECT_NE(first.output.find("Groups:\t993 " + own), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("Uid:\t" + own + "\t" + own + "\t" + own + "\t" + own),
            std::string::npos)
      << first.output;
  ::ftruncate(output_.get(), 0);
  ::lseek(output_.get(), 0, SEEK_SET);
  const auto second = run_args({"status"});
  expect_exit(second, 0);
  const auto second_uid = id_in(second.output, "Uid");
  EXPECT_NE(second_uid, first_uid) << second.output;
  EXPECT_GE(second_uid, first_test_id()) << second.output;
  EXPECT_LT(second_uid, first_test_id() + 4) << second.output;
}

// The kernel counts inotify instances, pipe buffer pages and pending signals per user: one
// sandbox holding all a user may have of each leaves another sandbox nothing when they share a
// user, and takes nothing from it when each has its own.
TEST_P(Sandboxes, APerUserLimitExhaustedInOneSandboxIsUntouchedInAnotherWithAnIdRange) {
  use_own_ids(4);
  auto holder = backend_->create(spec({"per_user", "hold"}));
  ASSERT_TRUE(holder) << holder.error().message();
  ASSERT_TRUE(eventually_true([&] { return output().find("held ") != std::string::npos; }))
      << output();
  // It took every inotify instance and went past the pipe pages' soft limit, or the probe
  // below would prove nothing.
  EXPECT_EQ(output().find("held inotify=0 "), std::string::npos) << output();
  const auto probe = run_args({"per_user", "probe"});
  expect_exit(probe, 0);
  EXPECT_NE(probe.output.find("probe inotify=ok pipe=65536 sigqueue=ok"), std::string::npos)
      << probe.output;
}

TEST_P(Sandboxes, SandboxesThatShareAUserShareItsPerUserLimits) {
  // Without a range every sandbox runs as options.uid: what the range is for.
  use_one_user();
  auto holder = backend_->create(spec({"per_user", "hold"}));
  ASSERT_TRUE(holder) << holder.error().message();
  ASSERT_TRUE(eventually_true([&] { return output().find("held ") != std::string::npos; }))
      << output();
  const auto probe = run_args({"per_user", "probe"});
  expect_exit(probe, 1);
  EXPECT_NE(probe.output.find("probe inotify=Too many open files pipe=8192 sigqueue=Resource "
                              "temporarily unavailable"),
            std::string::npos)
      << probe.output;
}

TEST_P(Sandboxes, ASandboxsIdIsFreeAgainOnlyOnceTheSandboxIsGone) {
  use_own_ids(1);
  auto first = backend_->create(spec({"per_user", "hold"}));
  ASSERT_TRUE(first) << first.error().message();
  auto refused = backend_->prepare(spec({"hello"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().err, ENOSPC);
  EXPECT_NE(refused.error().message().find("every id of the sandbox id range"), std::string::npos)
      << refused.error().message();
  (*first)->kill_all();
  ASSERT_TRUE(wait(**first, 10s));
  first->reset();
  wait_for_cleanup();
  const auto next = run_args({"status"});
  expect_exit(next, 0);
  EXPECT_EQ(id_in(next.output, "Uid"), first_test_id()) << next.output;
}

TEST_P(Sandboxes, CannotReadHostFilesOutsideItsMounts) {
  expect_exit(run_args({"read_host_file", std::string(EMBER_SOURCE_DIR) + "/CMakeLists.txt"}), 0);
  expect_exit(run_args({"read_host_file", "/root/.bashrc"}), 0);
}

// A fresh proc shows host facts; the sandbox hides them (runc's masked paths plus the
// kernel command line, the host's disks and its boot id) and freezes the kernel's knobs.
TEST_P(Sandboxes, ProcHidesHostFactsAndItsKnobsAreReadOnly) {
  expect_exit(run_args({"proc_view", "hidden", "/proc/kcore", "/proc/keys", "/proc/timer_list",
                        "/proc/sched_debug", "/proc/cmdline", "/proc/diskstats", "/proc/partitions",
                        "/proc/sys/kernel/random/boot_id", "/proc/acpi", "/proc/scsi",
                        "/proc/latency_stats"}),
              0);
  expect_exit(run_args({"proc_view", "read-only", "/proc/sys", "/proc/sys/kernel", "/proc/irq",
                        "/proc/bus", "/proc/fs", "/proc/sysrq-trigger"}),
              0);
  // What runtimes read stays: their own status, the CPU and memory figures.
  expect_exit(run_args({"read_host_file", "/proc/self/status"}), 1);
  expect_exit(run_args({"read_host_file", "/proc/meminfo"}), 1);
}

TEST_P(Sandboxes, CannotWriteItsCodeOrTheRoot) { expect_exit(run_args({"write_task"}), 0); }

TEST_P(Sandboxes, SeesOnlyItsOwnProcesses) {
  const auto result = run_args({"list_processes"});
  expect_exit(result, 0);
  EXPECT_NE(result.output.find(oci() ? "pids: 1\n" : "pids: 1 2\n"), std::string::npos)
      << result.output;
}

// In an OCI container the runtime is pid 1 itself: there is no init of another uid to reach.
TEST_P(Sandboxes, CannotSignalHostProcessesOrItsInit) {
  const auto result = run_args({"kill_outside", std::to_string(::getpid())});
  if (oci()) {
    EXPECT_NE(result.output.find("kill host pid: failed errno=3"), std::string::npos)
        << result.output;
  } else {
    expect_exit(result, 0);
  }
}

TEST_P(Sandboxes, CannotMountPtraceLoadModulesOrMakeNamespaces) {
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

TEST_P(Sandboxes, CannotReachHostLoopbackServices) {
  unsigned short port = 0;
  const auto listener = host_listener(port);
  expect_exit(run_args({"connect_port", std::to_string(port)}), 0);
}

TEST_P(Sandboxes, NetworkHostIsTheDocumentedWeakerMode) {
  unsigned short port = 0;
  const auto listener = host_listener(port);
  auto s = spec({"connect_port", std::to_string(port)});
  s.network_host = true;
  expect_exit(run(s), 1);  // the connect succeeds
}

TEST_P(Sandboxes, RuntimeApiListenerServesTheWorkerInsideItsNetns) {
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

// What the engine reaches a server of the sandbox with (a Telemetry API destination): a socket
// made in the sandbox's network, where 127.0.0.1 is the sandbox's own loopback.
TEST_P(Sandboxes, NetworkSocketReachesAServerOnTheSandboxsLoopback) {
  auto s = spec({"hello"});
  s.argv = {"/usr/bin/python3", "-c",
            "import socket, sys\n"
            "try:\n"
            "    print('resolves', socket.gethostbyname('sandbox.localdomain'), flush=True)\n"
            "except OSError as e:\n"
            "    print('resolves not', e, flush=True)\n"
            "server = socket.socket()\n"
            "server.bind(('127.0.0.1', 4243))\n"
            "server.listen()\n"
            "print('listening', flush=True)\n"
            "conn, _ = server.accept()\n"
            "conn.sendall(b'hello from inside')\n"
            "conn.close()\n"};
  auto sandbox = backend_->create(s);
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  ASSERT_TRUE(
      ember::test::eventually([&] { return output().find("listening") != std::string::npos; }, 10s))
      << output();
  if (!oci()) {
    // The native root's /etc/hosts names the sandbox's loopback (the OCI one is the host's).
    EXPECT_NE(output().find("resolves 127.0.0.1"), std::string::npos) << output();
  }
  auto socket = (*sandbox)->network_socket();
  ASSERT_TRUE(socket) << socket.error().message();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(4243);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(socket->get(), reinterpret_cast<const sockaddr*>(&address), sizeof address),
            0)
      << std::strerror(errno);
  char answer[64] = {};
  ASSERT_GT(::read(socket->get(), answer, sizeof answer - 1), 0);
  EXPECT_STREQ(answer, "hello from inside");
  const auto status = wait(**sandbox, 10s);
  ASSERT_TRUE(status) << output();
  EXPECT_EQ(status->value, 0) << output();
}

TEST_P(Sandboxes, MemoryOverTheLimitIsOomKilledWithPeakReported) {
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

TEST_P(Sandboxes, ForkBombIsContainedByThePidsLimit) {
  auto s = spec({"fork_bomb"});
  s.memory_mb = 1769;  // a full CPU, so a thousand forks take milliseconds, not seconds
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("fork: failed errno=11"), std::string::npos) << result.output;
}

TEST_P(Sandboxes, FillingTmpPastItsSizeFailsWithEnospc) {
  auto s = spec({"fill_tmp"});
  s.tmp_mb = 16;
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_NE(result.output.find("wrote 16 MB"), std::string::npos) << result.output;
}

TEST_P(Sandboxes, CpuQuotaFollowsMemory) {
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
TEST_P(Sandboxes, InitCpuBurstLiftsTheQuotaUntilInitEnds) {
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

TEST_P(Sandboxes, KillAllEndsTheSandboxAndNothingIsLeftBehind) {
  auto s = spec({"cpu_quota", "60000"});
  const fs::path cgroup = cgroup_dir("pids", s.id);
  {
    auto sandbox = backend_->create(s);
    ASSERT_TRUE(sandbox) << sandbox.error().message();
    // The runtime runs: its process is in the cgroup (in the OCI container's, below it).
    ASSERT_TRUE(eventually_true([&] {
      return commands_below(cgroup).find("cpu_quota\n") != std::string::npos;
    })) << commands_below(cgroup);
    (*sandbox)->kill_all();
    const auto status = wait(**sandbox, 5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->describe(), "signal: killed");
  }
  wait_for_cleanup();
  for (const char* controller : {"pids", "memory", "cpu", "freezer", "devices", "blkio"}) {
    EXPECT_FALSE(fs::exists(cgroup_dir(controller, s.id))) << controller;
  }
  EXPECT_FALSE(fs::exists(fs::path(oci_test_options().state_dir) / "runc" / ("ember-" + s.id)));
  EXPECT_FALSE(fs::exists(fs::path(oci_test_options().state_dir) / "bundles" / ("ember-" + s.id)));
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::stringstream text;
  text << mountinfo.rdbuf();
  EXPECT_EQ(text.str().find(test_options().root_mount_point.string()), std::string::npos);
}

// Dropping a sandbox whose runtime still runs (the engine's shutdown) kills and removes it.
TEST_P(Sandboxes, DestroyingARunningSandboxLeavesNoProcessAndNoCgroup) {
  auto s = spec({"cpu_quota", "60000"});
  const fs::path cgroup = cgroup_dir("pids", s.id);
  std::vector<pid_t> pids;
  {
    auto sandbox = backend_->create(s);
    ASSERT_TRUE(sandbox) << sandbox.error().message();
    ASSERT_TRUE(eventually_true([&] {
      return commands_below(cgroup).find("cpu_quota\n") != std::string::npos;
    })) << commands_below(cgroup);
    pids = all_pids_below(cgroup);
  }
  wait_for_cleanup();
  EXPECT_FALSE(fs::exists(cgroup));
  // An OCI container's first process may outlive runc by a moment as a zombie of the host's
  // pid 1, which reaps it.
  for (const pid_t pid : pids) {
    EXPECT_TRUE(eventually_true([&] { return ::kill(pid, 0) != 0; }))
        << "pid " << pid
        << " still runs: " << read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  }
}

TEST_P(Sandboxes, FreezeStopsEveryProcessUntilThaw) {
  auto s = spec({"cpu_quota", "1500"});
  s.memory_mb = 1769;
  auto sandbox = backend_->create(s);
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  const fs::path freezer = cgroup_dir("freezer", s.id);
  ASSERT_TRUE(eventually_true([&] { return !all_pids_below(freezer).empty(); }));
  ASSERT_TRUE((*sandbox)->freeze());
  ASSERT_TRUE(eventually_true([&] { return read_file(freezer / "freezer.state") == "FROZEN\n"; }))
      << read_file(freezer / "freezer.state");
  for (const pid_t pid : all_pids_below(freezer)) {
    EXPECT_NE(read_file(fs::path("/proc") / std::to_string(pid) / "cgroup").find("freezer:"),
              std::string::npos);
  }
  // Frozen, it cannot end on its own, however long its 1.5 s take.
  pollfd pfd{(*sandbox)->exit_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 2000), 0) << "exited while frozen";
  ASSERT_TRUE((*sandbox)->thaw());
  const auto status = wait(**sandbox, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->describe(), "exit status 0") << output();
}

// The runtime is exec'd after start() returned; a failed exec ends the sandbox and is
// reported by launch_failure(), naming the step, as the function's fault.
TEST_P(Sandboxes, AFailedExecIsNamedInTheLaunchFailure) {
  auto sandbox = backend_->create(spec({"no-such-program"}));
  ASSERT_TRUE(sandbox) << sandbox.error().message();
  ASSERT_TRUE(wait(**sandbox, 5s));
  const auto failure = (*sandbox)->launch_failure();
  ASSERT_TRUE(failure);
  if (oci()) {  // runc's own words
    EXPECT_NE(failure->message().find("runc: runc run failed: unable to start container process: "
                                      "exec: \"/var/task/no-such-program\": stat "
                                      "/var/task/no-such-program: no such file or directory"),
              std::string::npos)
        << failure->message();
  } else {
    EXPECT_NE(failure->message().find("step 'exec runtime': execve /var/task/no-such-program"),
              std::string::npos)
        << failure->message();
    EXPECT_EQ(failure->err, ENOENT);
  }
  EXPECT_TRUE(failure->bad_entrypoint);
}

TEST_P(NativeOnly, APreparedSandboxHoldsAnArmedWorkerUntilItsLaunch) {
  auto s = spec({"hello"});
  auto prepared = backend_->prepare(s);
  ASSERT_TRUE(prepared) << prepared.error().message();
  // Init and the worker it forked, which already dropped everything and loaded the filter
  // before anything of the function was known.
  const auto pids = cgroup_pids(cgroup_dir("pids", s.id));
  ASSERT_EQ(pids.size(), 2U);
  std::size_t armed = 0;
  for (const pid_t pid : pids) {
    const auto status = read_file(fs::path("/proc") / std::to_string(pid) / "status");
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

// Native: init and its armed worker wait in it. OCI: only the bundle, cgroup and netns exist.
TEST_P(Sandboxes, AnUnusedPreparedSandboxLeavesNothingBehind) {
  auto s = spec({"hello"});
  const fs::path cgroup = cgroup_dir("pids", s.id);
  const fs::path bundle = fs::path(oci_test_options().state_dir) / "bundles" / ("ember-" + s.id);
  std::vector<pid_t> pids;
  {
    auto prepared = backend_->prepare(s);
    ASSERT_TRUE(prepared) << prepared.error().message();
    EXPECT_TRUE(fs::exists(cgroup));
    pids = cgroup_pids(cgroup);
    EXPECT_EQ(pids.size(), oci() ? 0U : 2U);
    if (oci()) {
      EXPECT_TRUE(fs::exists(bundle));
    }
  }
  wait_for_cleanup();
  EXPECT_FALSE(fs::exists(cgroup));
  EXPECT_FALSE(fs::exists(bundle));
  for (const pid_t pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " still runs";
  EXPECT_EQ(output(), "");  // the worker never ran anything
}

TEST_P(Sandboxes, InSandboxPathsComeFromTheBackend) {
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

TEST_P(NativeOnly, AnImageRootIsTheSandboxsRootReadOnlyWithItsOwnTmpProcAndDev) {
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
            "/bin/busybox ls /proc >/tmp/proc; /bin/busybox grep -c '^[0-9]' /tmp/proc"};
  const auto result = run(s);
  expect_exit(result, 0);
  // Init, the shell and its ls: the sandbox's own processes only.
  EXPECT_EQ(result.output, "from the image\nwrote-tmp\nno-host-usr\nhas-dev-null\n3\n");
  EXPECT_FALSE(fs::exists(image.path() / "new"));
  EXPECT_TRUE(fs::is_empty(image.path() / "tmp")) << "the sandbox's /tmp is its own tmpfs";
}

TEST_P(NativeOnly, AnImageRootWithoutAMountPointIsNamedInTheFailure) {
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

// Two host directories for `mounts`: one with a file, read by the sandbox user; one owned by it.
class MountSources {
 public:
  MountSources() {
    std::string pattern = (fs::temp_directory_path() / "ember-mounts-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root_ = pattern;
    const auto readable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec;
    fs::permissions(root_, readable);
    fs::create_directory(in());
    fs::permissions(in(), readable);
    std::ofstream(in() / "object.txt") << "from the host\n";
    fs::create_directory(out());
    if (::chown(out().c_str(), 993, 993) != 0) throw std::runtime_error("chown");
  }
  MountSources(const MountSources&) = delete;
  MountSources& operator=(const MountSources&) = delete;
  ~MountSources() { fs::remove_all(root_); }
  [[nodiscard]] fs::path in() const { return root_ / "in"; }
  [[nodiscard]] fs::path out() const { return root_ / "out"; }

 private:
  fs::path root_;
};

// The mount options of `target` as the sandbox's /proc/self/mounts shows them, one per line.
constexpr const char* kShowOptions =
    "/bin/sh -c 'while read -r dev dir type opts rest; do "
    "[ \"$dir\" = \"$0\" ] && echo \"$opts\" | tr , \"\\n\" | grep -E \"^(ro|rw|nosuid|nodev)$\" "
    "| sort | tr \"\\n\" \" \"; done < /proc/self/mounts; echo' ";

TEST_P(Sandboxes, MountsShowHostDirectoriesReadOnlyOrWritableAtTheirTargets) {
  const MountSources dirs;
  auto s = spec({"unused"});
  s.mounts = {{dirs.in(), "/mnt/in", true}, {dirs.out(), "/mnt/out/deep", false}};
  s.argv = {"/bin/sh", "-c",
            std::string("cat /mnt/in/object.txt; "
                        "touch /mnt/in/new 2>/dev/null && echo wrote-read-only; "
                        "echo made > /mnt/out/deep/new && echo wrote-writable; ") +
                kShowOptions + "/mnt/in; " + kShowOptions + "/mnt/out/deep"};
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_EQ(result.output, "from the host\nwrote-writable\nnodev nosuid ro \nnodev nosuid rw \n");
  EXPECT_FALSE(fs::exists(dirs.in() / "new"));
  EXPECT_EQ(read_file(dirs.out() / "new"), "made\n");
}

TEST_P(NativeOnly, AMountSourceThatIsNotADirectoryIsNamedInTheFailure) {
  const MountSources dirs;
  auto s = spec({"unused"});
  s.mounts = {{dirs.in() / "object.txt", "/mnt/in", true}};
  s.argv = {"/bin/true"};
  auto sandbox = backend_->create(s);
  ASSERT_FALSE(sandbox);
  EXPECT_NE(sandbox.error().message().find((dirs.in() / "object.txt").string() +
                                           " (a mount's source must be a directory)"),
            std::string::npos)
      << sandbox.error().message();
}

TEST_P(NativeOnly, AnImageRootGetsItsMountsOnATmpfsOverItsMnt) {
  ASSERT_TRUE(fs::exists("/bin/busybox")) << "needs busybox-static (scripts/setup.sh)";
  const ImageRoot image;
  fs::create_directory(image.path() / "mnt");
  const MountSources dirs;
  auto s = spec({"unused"});
  s.image_root = image.path();
  s.working_dir = "/";
  s.mounts = {{dirs.in(), "/mnt/in", true}};
  s.argv = {"/bin/busybox", "sh", "-c",
            "/bin/busybox cat /mnt/in/object.txt; "
            "/bin/busybox touch /mnt/in/new 2>/dev/null && echo wrote-read-only; "
            "/bin/busybox mkdir /mnt/other 2>/dev/null && echo made-in-mnt; echo done"};
  const auto result = run(s);
  expect_exit(result, 0);
  EXPECT_EQ(result.output, "from the host\ndone\n");
  EXPECT_TRUE(fs::is_empty(image.path() / "mnt")) << "the image's own /mnt is left alone";
}

INSTANTIATE_TEST_SUITE_P(Backends, Sandboxes, ::testing::Values(Kind::kNative, Kind::kOci),
                         kind_name);
INSTANTIATE_TEST_SUITE_P(Backends, NativeOnly, ::testing::Values(Kind::kNative), kind_name);

}  // namespace
}  // namespace ember::isolation
