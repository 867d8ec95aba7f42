// Functions in native sandboxes, end to end: each escape or abuse runs as a real function
// behind `ember serve` and must fail for the right reason while the node keeps serving.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <set>

#include "../support/eventually.hpp"
#include "ember/config/config.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;

// A uid of node.sandbox_uid_range's default, the node's own ids.
bool in_default_uid_range(const boost::json::value& uid) {
  return uid.is_int64() && uid.as_int64() >= config::kDefaultSandboxUids.first &&
         uid.as_int64() <= config::kDefaultSandboxUids.last();
}

boost::json::object json_object(const std::string& text) {
  return boost::json::parse(text).as_object();
}

// Every test runs twice: workers started by exec'ing the runtime, and Python workers forked
// from the zygote (`zygote: true`), which must be held by the same sandbox.
class Sandboxed : public ::testing::TestWithParam<bool> {
 protected:
  [[nodiscard]] static bool zygote() { return GetParam(); }

  // A Python function, forked from the zygote in the second run.
  static FunctionSpec python(FunctionSpec spec) {
    spec.zygote = zygote();
    return spec;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
    if (!fs::exists("/sys/fs/cgroup/memory") && !fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
      GTEST_SKIP() << "no cgroup hierarchy";
    }
    // The probe's code: its handler plus the testcase programs, readable by the sandbox user.
    code_ = code_dir_.path() / "probe";
    fs::create_directories(code_);
    fs::copy(testcases_dir() / "python" / "probe" / "lambda_function.py", code_);
    for (const auto& entry :
         fs::directory_iterator(fs::path(EMBER_BINARY_DIR) / "tests" / "testcases" / "c")) {
      fs::copy(entry.path(), code_ / entry.path().filename());
    }
    fs::permissions(code_dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                          fs::perms::group_exec | fs::perms::others_read |
                                          fs::perms::others_exec);
  }

  // Runs one testcase program as the function's handler; returns {exit, out}.
  static boost::json::object probe(Node& node, const std::string& program,
                                   const std::vector<std::string>& args = {}) {
    boost::json::object event;
    event["probe"] = program;
    boost::json::array a;
    for (const auto& arg : args) a.emplace_back(arg);
    event["args"] = a;
    const auto reply = node.invoke("probe", boost::json::serialize(event));
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.header("x-amz-function-error"), "") << reply.body;
    return json_object(reply.body);
  }

  static void expect_held(const boost::json::object& result) {
    EXPECT_EQ(result.at("exit"), 0) << result.at("out").as_string();
  }

  FunctionSpec probe_function() const {
    return python({.name = "probe", .code = code_, .timeout_s = 30, .memory_mb = 256});
  }

  TempDir code_dir_;
  fs::path code_;
};

TEST_P(Sandboxed, FunctionCannotReadHostFilesOrWriteItsCode) {
  Node node({probe_function()});
  expect_held(probe(node, "read_host_file", {(source_dir() / "CMakeLists.txt").string()}));
  expect_held(probe(node, "read_host_file", {"/root/.bashrc"}));
  expect_held(probe(node, "write_task"));
}

TEST_P(Sandboxed, FunctionSeesOnlyItsOwnProcessesAndCannotSignalTheHost) {
  Node node({probe_function()});
  // init, the Python runtime and the probe itself. A zygote's worker is pid 3: pid 2 was the
  // zygote's child that entered the sandbox and left.
  const auto result = probe(node, "list_processes", {"3"});
  expect_held(result);
  EXPECT_NE(std::string(result.at("out").as_string()).find(zygote() ? "pids: 1 3 " : "pids: 1 2 "),
            std::string::npos)
      << result.at("out").as_string();
  expect_held(probe(node, "kill_outside", {std::to_string(node.pid())}));
}

TEST_P(Sandboxed, WorkerRunsUnprivilegedUnderSeccomp) {
  Node node({probe_function()});
  const auto result = probe(node, "status");
  expect_held(result);
  const std::string out(result.at("out").as_string());
  // A user and group of its own from node.sandbox_uid_range, and the shared group 993.
  const auto uid_at = out.find("Uid:\t");
  ASSERT_NE(uid_at, std::string::npos) << out;
  const auto uid = std::stoll(out.substr(uid_at + 5));
  EXPECT_TRUE(in_default_uid_range(boost::json::value(uid))) << out;
  const std::string own = std::to_string(uid);
  for (const std::string& line :
       {"Uid:\t" + own + "\t" + own + "\t" + own + "\t" + own,
        "Gid:\t" + own + "\t" + own + "\t" + own + "\t" + own, "Groups:\t993 " + own + " ",
        std::string("CapEff:\t0000000000000000"), std::string("CapPrm:\t0000000000000000"),
        std::string("CapBnd:\t0000000000000000"), std::string("NoNewPrivs:\t1"),
        std::string("Seccomp:\t2")}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
}

TEST_P(Sandboxed, BlockedSystemCallsReturnEperm) {
  Node node({probe_function()});
  for (const char* program : {"mount_it", "ptrace_it", "load_module", "new_namespace"}) {
    SCOPED_TRACE(program);
    expect_held(probe(node, program));
  }
}

TEST_P(Sandboxed, FunctionCannotReachTheInvokeApiOrHostLoopback) {
  Node node({probe_function()});
  const auto port = node.endpoint().substr(node.endpoint().rfind(':') + 1);
  const auto result = probe(node, "connect_port", {port});
  expect_held(result);
  EXPECT_NE(std::string(result.at("out").as_string()).find("Connection refused"),
            std::string::npos);
}

TEST_P(Sandboxed, ForkBombIsContainedAndTheNodeKeepsServing) {
  auto bomb = probe_function();
  bomb.memory_mb = 1769;  // a full CPU, so a thousand forks take milliseconds
  Node node({bomb, python({.name = "echo", .code = testcases_dir() / "python" / "echo"})});
  expect_held(probe(node, "fork_bomb"));
  EXPECT_EQ(node.invoke("echo", R"({"still":"here"})").body, R"({"still": "here"})");
}

TEST_P(Sandboxed, FillingTmpPastItsSizeFailsClearly) {
  // /tmp is a tmpfs charged to the memory cgroup (docs/isolation.md): with less memory than
  // /tmp the memory limit would end the function first.
  auto fill = probe_function();
  fill.memory_mb = 1024;
  fill.ephemeral_storage_mb = 512;
  Node node({fill});
  const auto result = probe(node, "fill_tmp");
  expect_held(result);
  EXPECT_NE(std::string(result.at("out").as_string()).find("wrote 512 MB"), std::string::npos)
      << result.at("out").as_string();
}

TEST_P(Sandboxed, CpuQuotaIsProportionalToMemory) {
  Node node({probe_function()});
  const auto result = probe(node, "cpu_quota");
  expect_held(result);
}

TEST_P(Sandboxed, MemoryOverTheLimitIsRuntimeOutOfMemoryWithThePeakReported) {
  Node node({python({.name = "hog", .code = testcases_dir() / "python" / "eats_memory"})});
  const auto reply = node.invoke("hog", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(json_object(reply.body).at("errorType"), "Runtime.OutOfMemory") << reply.body;
  const auto logs = node.logs("hog");
  // The peak is the cgroup's real high-water mark, at the 128 MB limit, not a copy of it.
  const auto at = logs.find("Max Memory Used: ");
  ASSERT_NE(at, std::string::npos) << logs;
  const int peak = std::stoi(logs.substr(at + 17));
  EXPECT_GE(peak, 100);
  EXPECT_LE(peak, 129);
  // The sandbox is replaced: the next call is a fresh cold start.
  EXPECT_EQ(json_object(node.invoke("hog", "{}").body).at("errorType"), "Runtime.OutOfMemory");
  EXPECT_EQ(node.log_stream_count("hog"), 2U);
}

TEST_P(Sandboxed, TimeoutLeavesNoProcessAndNoCgroup) {
  if (zygote()) GTEST_SKIP() << "a provided runtime: no zygote";
  Node node({{.name = "sleepy",
              .runtime = "provided",
              .handler = "",
              .code = testcases_dir() / "provided" / "sleeps_with_child",
              .timeout_s = 1}});
  const auto reply = node.invoke("sleepy", "{}");
  EXPECT_EQ(json_object(reply.body).at("errorType"), "Sandbox.Timedout");
  EXPECT_TRUE(node.worker_processes_end());
  // Worker cgroups are named FUNCTION-NODEPID-N under <hierarchy>/ember. The node removes
  // them once it has reaped the sandbox, which may come a moment after the answer.
  const std::string prefix = "sleepy-" + std::to_string(node.pid()) + "-";
  auto leftovers = [&] {
    std::vector<fs::path> found;
    for (const char* hierarchy :
         {"/sys/fs/cgroup/pids/ember", "/sys/fs/cgroup/memory/ember", "/sys/fs/cgroup/ember"}) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(hierarchy, ec)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
      }
    }
    return found;
  };
  // While the node runs, only its prepared sandbox (prepared_sandboxes: 1) may remain: one
  // cgroup per hierarchy.
  EXPECT_TRUE(eventually([&] { return leftovers().size() <= 2; })) << leftovers().size();
  // Stopping the node removes the prepared sandbox too.
  EXPECT_EQ(node.stop(), 0);
  for (const auto& path : leftovers()) ADD_FAILURE() << "cgroup left behind: " << path;
}

// The socket inodes a process holds open.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const auto target = fs::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:", 0) == 0) inodes.insert(target);
  }
  return inodes;
}

pid_t parent_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) return std::stoi(line.substr(5));
  }
  return 0;
}

TEST_P(Sandboxed, NoSandboxProcessHoldsAnyOfTheNodesSockets) {
  // Workers are found by the marker in their environment, which a zygote's worker only has
  // in os.environ; the zygote closes what it inherited at its start instead.
  if (zygote()) GTEST_SKIP() << "zygote workers are not found by their environment";
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}});
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);
  const auto node_sockets = socket_inodes(node.pid());
  ASSERT_FALSE(node_sockets.empty());
  const auto workers = node.worker_processes();
  ASSERT_FALSE(workers.empty());
  for (const pid_t worker : workers) {
    for (const pid_t pid : {worker, parent_of(worker)}) {  // the runtime and its sandbox init
      for (const auto& inode : socket_inodes(pid)) {
        EXPECT_EQ(node_sockets.count(inode), 0U) << "pid " << pid << " holds " << inode;
      }
    }
  }
}

// The node's Python zygote: the child of the node running zygote.py; 0 when there is none.
pid_t zygote_of(pid_t node) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (parent_of(pid) != node) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (text.find("zygote.py") != std::string::npos) return pid;
  }
  return 0;
}

FunctionSpec zygote_echo() {
  return {
      .name = "echo", .code = testcases_dir() / "python" / "echo", .max_reuse = 1, .zygote = true};
}

TEST(PythonZygote, HoldsNoneOfTheNodesSockets) {
  if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
  Node node({zygote_echo()});
  ASSERT_EQ(node.invoke("echo", R"({"a":1})").status, 200);
  const pid_t zygote = zygote_of(node.pid());
  ASSERT_NE(zygote, 0);
  const auto node_sockets = socket_inodes(node.pid());
  ASSERT_FALSE(node_sockets.empty());
  for (const auto& inode : socket_inodes(zygote)) {
    EXPECT_EQ(node_sockets.count(inode), 0U) << "the zygote holds the node's " << inode;
  }
}

TEST(PythonZygote, AZygoteThatDiedIsReplacedAndColdStartsGoOn) {
  if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
  Node node({zygote_echo()});
  ASSERT_EQ(node.invoke("echo", R"({"n":0})").body, R"({"n": 0})");
  const pid_t first = zygote_of(node.pid());
  ASSERT_NE(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);  // the node's child, started by this test's node
  // Every call is a cold start (max_reuse: 1): the sandbox prepared before the kill, then
  // ones the replacement zygote forks into.
  for (int i = 1; i <= 3; ++i) {
    const auto reply = node.invoke("echo", R"({"n":)" + std::to_string(i) + "}");
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body, R"({"n": )" + std::to_string(i) + "}");
  }
  const pid_t second = zygote_of(node.pid());
  EXPECT_NE(second, 0);
  EXPECT_NE(second, first);
}

// Both kinds of worker are armed by the same code (isolation/src/init/arm.cpp, the zygote's
// through libember-arm.so); this checks the outcome: what the kernel shows of a Python worker
// exec'd by the sandbox's init and of one forked from the zygote must not differ.
TEST(PythonZygote, ArmsItsWorkersExactlyAsInitArmsAnExecdWorker) {
  if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
  const auto code = testcases_dir() / "python" / "armed";
  Node node({{.name = "exec", .code = code}, {.name = "zygote", .code = code, .zygote = true}});
  const auto exec_reply = node.invoke("exec", "{}");
  const auto zygote_reply = node.invoke("zygote", "{}");
  ASSERT_EQ(exec_reply.status, 200) << exec_reply.body;
  ASSERT_EQ(zygote_reply.status, 200) << zygote_reply.body;
  const auto exec = json_object(exec_reply.body);
  const auto zygote = json_object(zygote_reply.body);
  // Each ran as the kind it should (a zygote that failed to start would fall back to exec):
  // pid 2 is init's child, pid 3 the zygote's grandchild.
  ASSERT_EQ(exec.at("pid"), 2) << exec_reply.body;
  ASSERT_EQ(zygote.at("pid"), 3) << zygote_reply.body;
  // And armed at all, so that equal cannot mean equally unarmed.
  const auto& exec_status = exec.at("status").as_object();
  // Each its own user of node.sandbox_uid_range, in its own group and the shared one.
  EXPECT_EQ(exec_status.at("Uid"), "own own own own");
  EXPECT_EQ(exec_status.at("Gid"), "own own own own");
  EXPECT_EQ(exec_status.at("Groups"), "993 own");
  EXPECT_TRUE(in_default_uid_range(exec.at("uid")));
  EXPECT_TRUE(in_default_uid_range(zygote.at("uid")));
  EXPECT_NE(exec.at("uid"), zygote.at("uid"));
  EXPECT_EQ(exec_status.at("CapBnd"), "0000000000000000");
  EXPECT_EQ(exec_status.at("NoNewPrivs"), "1");
  EXPECT_EQ(exec_status.at("Seccomp"), "2");
  EXPECT_EQ(exec_status.at("Seccomp_filters"), "1");
  ASSERT_EQ(exec.size(), zygote.size());
  for (const auto& [key, value] : exec) {
    if (key == "pid" || key == "uid") continue;
    if (key == "status") {
      const auto& zygote_status = zygote.at("status").as_object();
      EXPECT_EQ(zygote_status.size(), exec_status.size());
      for (const auto& [field, exec_value] : exec_status) {
        EXPECT_EQ(zygote_status.contains(field) ? zygote_status.at(field) : nullptr, exec_value)
            << "/proc/self/status " << field;
      }
      continue;
    }
    EXPECT_EQ(zygote.at(key), value) << key;
  }
}

TEST_P(Sandboxed, WorkerSeesTheLambdaLayout) {
  Node node({python({.name = "context", .code = testcases_dir() / "python" / "context"})});
  const auto body = json_object(node.invoke("context", "{}").body);
  const auto& env = body.at("env").as_object();
  EXPECT_EQ(env.at("LAMBDA_TASK_ROOT"), "/var/task");
  EXPECT_EQ(env.at("_HANDLER"), "lambda_function.lambda_handler");
}

INSTANTIATE_TEST_SUITE_P(ExecAndZygote, Sandboxed, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "Zygote" : "Exec";
                         });

}  // namespace
}  // namespace ember::test
