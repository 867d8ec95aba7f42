// Workers over their life: cold then warm, timeouts, crashes, init errors, concurrency caps,
// misbehaving runtimes, and shutdown, with real processes.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <future>
#include <set>

#include "../support/eventually.hpp"
#include "../support/fifo_gate.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

std::filesystem::path python_case(const std::string& name) {
  return testcases_dir() / "python" / name;
}
std::filesystem::path provided_case(const std::string& name) {
  return testcases_dir() / "provided" / name;
}

boost::json::object json_object(const std::string& text) {
  return boost::json::parse(text).as_object();
}

// waits_for_gate in a code directory of its own with the gate beside it, which the sandbox
// user reads as /var/task/gate: its invocations run until the test opens the gate.
class GatedFunction {
 public:
  GatedFunction() {
    namespace fs = std::filesystem;
    fs::copy(python_case("waits_for_gate") / "lambda_function.py", code_);
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
  }
  [[nodiscard]] FunctionSpec spec(const std::string& name, int reserved_concurrency) const {
    return {.name = name, .code = code_, .reserved_concurrency = reserved_concurrency};
  }
  static std::string event() { return R"({"gate": "/var/task/gate"})"; }
  [[nodiscard]] const FifoGate& gate() const { return gate_; }

 private:
  TempDir dir_;
  std::filesystem::path code_ = dir_.path();
  FifoGate gate_{code_};
};

// A zombie has ended; only its parent's bookkeeping is left.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

TEST(Workers, FunctionExceptionComesBackWithFunctionErrorAndStackTrace) {
  Node node({{.name = "raises", .code = python_case("raises")}});
  const auto reply = node.invoke("raises", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("errorType"), "ValueError");
  EXPECT_EQ(body.at("errorMessage"), "something broke");
  ASSERT_EQ(body.at("stackTrace").as_array().size(), 2U);
  EXPECT_NE(std::string(body.at("stackTrace").as_array()[1].as_string()).find("in fail"),
            std::string::npos);
  // The worker survives a function error and serves the next call warm.
  EXPECT_EQ(node.invoke("raises", "{}").header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(node.log_stream_count("raises"), 1U);
}

TEST(Workers, TimeoutKillsTheWholeProcessTreeAndReportsSandboxTimedout) {
  Node node({{.name = "sleepy",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("sleeps_with_child"),
              .timeout_s = 1}});
  const auto reply = node.invoke("sleepy", "{}", {"X-Amz-Log-Type: Tail"});
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("errorType"), "Sandbox.Timedout");
  const std::string message(body.at("errorMessage").as_string());
  EXPECT_EQ(message, "RequestId: " + reply.header("x-amzn-requestid") +
                         " Error: Task timed out after 1.00 seconds");
  const auto logs = node.logs("sleepy");
  EXPECT_NE(logs.find(reply.header("x-amzn-requestid") + " Task timed out after 1.00 seconds\n"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("END RequestId: "), std::string::npos);
  EXPECT_NE(logs.find("REPORT RequestId: "), std::string::npos);
  EXPECT_TRUE(node.worker_processes_end()) << "the runtime and its child must be gone";

  // The next invocation gets a fresh worker (a new log stream, a cold start).
  node.invoke("sleepy", "{}");
  EXPECT_EQ(node.log_stream_count("sleepy"), 2U);
}

TEST(Workers, CrashingRuntimeYieldsRuntimeExitErrorWithItsStatus) {
  Node node(
      {{.name = "crash", .runtime = "provided", .handler = "", .code = provided_case("crash")}});
  const auto reply = node.invoke("crash", "{}", {"X-Amz-Log-Type: Tail"});
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("errorType"), "Runtime.ExitError");
  EXPECT_EQ(std::string(body.at("errorMessage").as_string()),
            "RequestId: " + reply.header("x-amzn-requestid") +
                " Error: Runtime exited with error: exit status 42");
  const auto logs = node.logs("crash");
  EXPECT_NE(logs.find("about to crash\n"), std::string::npos);
  EXPECT_LT(logs.find("about to crash"), logs.find("END RequestId"));
  // A crashed worker is replaced on the next call.
  const auto again = node.invoke("crash", "{}");
  EXPECT_EQ(json_object(again.body).at("errorType"), "Runtime.ExitError");
  EXPECT_EQ(node.log_stream_count("crash"), 2U);
}

TEST(Workers, PythonImportFailureIsAnInitErrorForTheCaller) {
  Node node({{.name = "badimport", .code = python_case("badimport")},
             {.name = "nohandler", .code = python_case("nohandler")}});
  auto reply = node.invoke("badimport", "{}", {"X-Amz-Log-Type: Tail"});
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(json_object(reply.body).at("errorType"), "Runtime.ImportModuleError") << reply.body;
  EXPECT_NE(node.logs("badimport").find("INIT_REPORT Init Duration: "), std::string::npos);

  reply = node.invoke("nohandler", "{}");
  EXPECT_EQ(json_object(reply.body).at("errorType"), "Runtime.HandlerNotFound") << reply.body;
  EXPECT_TRUE(node.worker_processes_end());
}

TEST(Workers, BootstrapThatCannotBeExecutedIsAnInvalidEntrypoint) {
  Node node({{.name = "badexec",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("bad_interpreter")}});
  const auto reply = node.invoke("badexec", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("errorType"), "Runtime.InvalidEntrypoint");
  EXPECT_NE(std::string(body.at("errorMessage").as_string()).find("bootstrap"), std::string::npos);
  EXPECT_NE(node.logs("badexec").find("Runtime.InvalidEntrypoint"), std::string::npos);
}

TEST(Workers, RuntimeInitErrorBodyReachesTheCaller) {
  Node node({{.name = "initerr",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("init_error")}});
  const auto reply = node.invoke("initerr", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("errorType"), "Runtime.NoSuchHandler");
  EXPECT_EQ(body.at("errorMessage"), "handler xyz not found");
}

// A provisioned worker whose runtime fails at once is started again after 1 s, 2 s, 4 s ...,
// not on every 50 ms tick (which made 120 starts in 6 s), and the node says so once per step.
TEST(Workers, AProvisionedWorkerThatKeepsFailingIsStartedLessAndLessOften) {
  FunctionSpec failing{
      .name = "failing", .runtime = "provided", .handler = "", .code = provided_case("init_error")};
  failing.provisioned = 1;
  Node node({failing});
  // Starts at 0 s, 1 s and 3 s (then 7 s); without the back-off, about 80 by 4 s.
  ASSERT_TRUE(eventually([&node] { return node.log_stream_count("failing") >= 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_LE(node.log_stream_count("failing"), 4U);

  const auto reply = client::http_request({.url = node.endpoint() + "/ember/v1/functions"});
  ASSERT_EQ(reply.status, 200);
  const auto status = json_object(reply.body);
  const auto& function = status.at("functions").as_array().at(0).as_object();
  EXPECT_GE(function.at("provisioned_failures").to_number<int>(), 3);
  EXPECT_GT(function.at("provisioned_retry_in_s").to_number<double>(), 0.0);
  const auto out = node.stdout_text();
  EXPECT_NE(out.find("[failing] ember: a provisioned worker failed to start (2 times in a row): "
                     "handler xyz not found; the next start is in 2 s"),
            std::string::npos)
      << out;
  // Invocations are still answered, with the start's error.
  const auto answer = node.invoke("failing", "{}");
  EXPECT_EQ(answer.header("x-amz-function-error"), "Unhandled");
}

// The cgroups of a node's workers, FUNCTION-NODEPID-N under each hierarchy's ember/.
std::vector<std::filesystem::path> worker_cgroups(const std::string& function, pid_t node) {
  const std::string prefix = function + "-" + std::to_string(node) + "-";
  std::vector<std::filesystem::path> found;
  for (const char* parent : {"/sys/fs/cgroup/pids/ember", "/sys/fs/cgroup/memory/ember",
                             "/sys/fs/cgroup/freezer/ember", "/sys/fs/cgroup/ember"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      if (entry.path().filename().string().starts_with(prefix)) found.push_back(entry.path());
    }
  }
  return found;
}

// A node killed with SIGKILL leaves its workers' cgroups (and a frozen worker, which cannot
// die while frozen); the next node to start removes them, and never what a live node owns.
TEST(Workers, ANodeRemovesTheSandboxesADeadNodeLeftAndNotALiveOnes) {
  if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
  FunctionSpec warm{.name = "left", .code = python_case("echo")};
  warm.provisioned = 1;
  auto dead = std::make_unique<Node>(std::vector<FunctionSpec>{warm});
  const pid_t dead_pid = dead->pid();
  ASSERT_TRUE(eventually([&] { return !worker_cgroups("left", dead_pid).empty(); }));
  ASSERT_EQ(dead->invoke("left", R"({"k":1})").status, 200);  // then idle (and frozen)
  FunctionSpec live_spec = warm;
  live_spec.name = "kept";
  Node live({live_spec});
  ASSERT_TRUE(eventually([&] { return !worker_cgroups("kept", live.pid()).empty(); }));

  ASSERT_EQ(::kill(dead_pid, SIGKILL), 0);
  (void)dead->stop();  // reaps it
  ASSERT_FALSE(worker_cgroups("left", dead_pid).empty()) << "nothing left to clean up";

  Node next({{.name = "next", .code = python_case("echo")}});
  EXPECT_TRUE(worker_cgroups("left", dead_pid).empty());
  EXPECT_FALSE(worker_cgroups("kept", live.pid()).empty());
  const auto said = next.stdout_text();
  // Every node that starts removes what dead nodes left: under `ctest -j` another test's node
  // may start between the kill and `next` (seen under ASan), and then `next` has nothing to
  // say. Their removal is checked above either way.
  if (said.find("left by nodes that no longer run") != std::string::npos) {
    EXPECT_NE(said.find("sandbox cgroup(s) left by nodes that no longer run: left-" +
                        std::to_string(dead_pid) + "-"),
              std::string::npos)
        << said;
  }
  EXPECT_EQ(said.find("kept-"), std::string::npos) << said;
  EXPECT_EQ(live.invoke("kept", R"({"k":2})").status, 200);
  dead.reset();
}

TEST(Workers, RuntimeAnsweringTwiceOrWithAWrongIdIsRefused) {
  Node node({{.name = "twice",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("answer_twice")}});
  const auto reply = node.invoke("twice", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "\"first\"");
  // The runtime logs what it was told after it answered.
  const auto logs = node.wait_for_log("twice", " init=");
  EXPECT_NE(logs.find("first=202 second={\"errorMessage\":\"State transition is not allowed: " +
                      reply.header("x-amzn-requestid") +
                      "\",\"errorType\":\"InvalidStateTransition\"} 403"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("wrong={\"errorMessage\":\"Invalid request ID: not-a-real-id\","
                      "\"errorType\":\"InvalidRequestID\"} 400"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("\"errorType\":\"InvalidStateTransition\"} 403\n"), std::string::npos);
}

TEST(Workers, RuntimeResponseOver6MBIs413AndFailsTheInvocationAsLambdaDoes) {
  Node node({{.name = "big",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("big_response"),
              .timeout_s = 10}});
  const auto reply = node.invoke("big", "{}");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(json_object(reply.body).at("errorType"), "Function.ResponseSizeTooLarge");
  EXPECT_NE(node.wait_for_log("big", "oversized=").find("oversized=413 small=403"),
            std::string::npos)
      << node.logs("big");
}

TEST(Workers, ConcurrentInvokesAllSucceedWithinTheCap) {
  constexpr int kCap = 3;
  Node node({{.name = "slow", .code = python_case("sleeps"), .reserved_concurrency = kCap}});
  // Warm up the cap's worth of workers with overlapping calls, then run ten concurrent calls
  // in rounds that stay within the cap.
  std::vector<std::future<HttpReply>> calls;
  for (int i = 0; i < 10; ++i) {
    if (i % kCap == 0) {
      for (auto& c : calls) EXPECT_EQ(c.get().body, "\"woke\"");
      calls.clear();
    }
    calls.push_back(
        std::async(std::launch::async, [&] { return node.invoke("slow", R"({"seconds": 0.3})"); }));
  }
  for (auto& c : calls) EXPECT_EQ(c.get().body, "\"woke\"");
  EXPECT_LE(node.log_stream_count("slow"), static_cast<std::size_t>(kCap));
  EXPECT_LE(node.worker_processes().size(), static_cast<std::size_t>(kCap));
}

TEST(Workers, BeyondTheCapIs429WithReasonAndRetryAfter) {
  const GatedFunction gated;
  Node node({gated.spec("slow", 1)});
  auto busy = std::async(std::launch::async, [&] { return node.invoke("slow", gated.event()); });
  // The one allowed worker holds the call (its START line is logged) until the gate opens.
  ASSERT_NE(node.wait_for_log("slow", "START").find("START"), std::string::npos);
  const auto refused = node.invoke("slow", gated.event());
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("x-amzn-errortype"), "TooManyRequestsException");
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(json_object(refused.body).at("Reason"),
            "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_TRUE(gated.gate().open());
  EXPECT_EQ(busy.get().body, "\"opened\"");
}

TEST(Workers, ZeroReservedConcurrencyDisablesTheFunction) {
  Node node({{.name = "off", .code = python_case("echo"), .reserved_concurrency = 0}});
  EXPECT_EQ(node.invoke("off", "{}").status, 429);
}

TEST(Workers, BurstFromManyClientsIsAnsweredWithoutExceedingTheCap) {
  Node node({{.name = "echo", .code = python_case("echo"), .reserved_concurrency = 4}});
  std::vector<std::future<HttpReply>> calls;
  for (int i = 0; i < 8; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return node.invoke("echo", "{\"i\":" + std::to_string(i) + "}");
    }));
  }
  int ok = 0;
  int throttled = 0;
  for (auto& c : calls) {
    const auto reply = c.get();
    if (reply.status == 200) ++ok;
    if (reply.status == 429) ++throttled;
  }
  EXPECT_EQ(ok + throttled, 8) << "every request gets an answer";
  EXPECT_GE(ok, 4);
  EXPECT_LE(node.log_stream_count("echo"), 4U);
}

TEST(Workers, IdleWorkerRetiresAfterItsKeepAlive) {
  Node node({{.name = "echo", .code = python_case("echo"), .keep_alive_s = 1}});
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);
  ASSERT_FALSE(node.worker_processes().empty());
  // Keep-alive is 1 s and the pool checks every second: gone within 5 s.
  EXPECT_TRUE(node.worker_processes_end());
  // The next call starts a fresh worker.
  const auto reply = node.invoke("echo", "{}", {"X-Amz-Log-Type: Tail"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(node.log_stream_count("echo"), 2U);
}

TEST(Workers, StoppingTheNodeLetsRunningInvocationsFinishWithinTheGrace) {
  const GatedFunction gated;
  Node node({gated.spec("slow", 10)}, {.shutdown_grace_s = 30});
  auto running = std::async(std::launch::async, [&] { return node.invoke("slow", gated.event()); });
  ASSERT_NE(node.wait_for_log("slow", "START").find("START"), std::string::npos);
  // The node (this test's child) starts draining while the invocation still runs.
  ASSERT_EQ(::kill(node.pid(), SIGTERM), 0);
  ASSERT_TRUE(eventually([&] { return node.stdout_text().find("draining") != std::string::npos; }))
      << node.stdout_text();
  EXPECT_TRUE(gated.gate().open());
  const auto reply = running.get();
  EXPECT_EQ(reply.status, 200) << "accepted work finishes before the node stops";
  EXPECT_EQ(reply.body, "\"opened\"");
  EXPECT_EQ(node.stop(), 0);
  EXPECT_TRUE(node.worker_processes().empty());
}

TEST(Workers, StoppingTheNodeEndsEveryWorker) {
  Node node({{.name = "echo", .code = python_case("echo")},
             {.name = "sleepy",
              .runtime = "provided",
              .handler = "",
              .code = provided_case("sleeps_with_child"),
              .timeout_s = 30}},
            {.shutdown_grace_s = 1});
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);
  auto pending = std::async(std::launch::async, [&] { return node.invoke("sleepy", "{}"); });
  // The python worker, the bash runtime and its two sleeping children.
  ASSERT_TRUE(eventually([&] { return node.worker_processes().size() >= 4; }))
      << node.worker_processes().size() << " processes";
  const auto workers = node.worker_processes();
  EXPECT_EQ(node.stop(), 0);
  for (const pid_t pid : workers) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    EXPECT_FALSE(alive(pid)) << line;
  }
  EXPECT_TRUE(node.worker_processes_end());
  const auto reply = pending.get();
  EXPECT_EQ(reply.status, 503) << "a caller still waiting is told, not cut off";
  EXPECT_EQ(reply.header("x-amzn-errortype"), "ServiceException");
}

}  // namespace
}  // namespace ember::test
