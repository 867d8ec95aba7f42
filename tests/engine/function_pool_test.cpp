// The warm-pool scheduler with real worker processes and a hand-moved clock, so keep-alive,
// pre-warming and eviction are tested without sleeping for them.
#include <gtest/gtest.h>

#include <csignal>
#include <future>

#include "node_fixture.hpp"

namespace ember::engine {
namespace {

using std::chrono::minutes;

class Scheduler : public NodeFixture {};

TEST_F(Scheduler, ProvisionedWorkersAreReadyBeforeTheFirstInvokeAndReportNoInit) {
  auto f = python_function("ctx", "context");
  f.provisioned = 2;
  config_.functions = {f};
  start();
  ASSERT_TRUE(run_until([&] { return idle_workers("ctx") == 2; }));
  const auto result = invoke("ctx");
  EXPECT_NE(result.payload.find("\"AWS_LAMBDA_INITIALIZATION_TYPE\": \"provisioned-concurrency\""),
            std::string::npos)
      << result.payload;
  EXPECT_EQ(logs("ctx").find("Init Duration"), std::string::npos) << logs("ctx");
  EXPECT_EQ(function_status("ctx").at("cold_starts"), 0);
}

TEST_F(Scheduler, ProvisionedWorkersAreReplacedAndNeverExpire) {
  auto f = python_function("echo", "echo");
  f.provisioned = 1;
  f.keep_alive = std::chrono::seconds(60);
  config_.functions = {f};
  start();
  ASSERT_TRUE(run_until([&] { return idle_workers("echo") == 1; }));
  advance(std::chrono::hours(5));
  io_.restart();  // the loop may have run out of work: let whatever the tick started run
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(idle_workers("echo"), 1U) << "keep-alive does not apply to provisioned workers";

  // A provisioned worker that dies is replaced at the next tick, before any call needs it.
  const auto worker = function_status("echo").at("workers").as_array().at(0).as_object();
  const auto pid = static_cast<pid_t>(worker.at("pid").to_number<std::int64_t>());
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // the worker this test's node started
  ASSERT_TRUE(run_until([&] { return workers("echo") == 0; }));
  advance(std::chrono::seconds(1));
  ASSERT_TRUE(run_until([&] { return idle_workers("echo") == 1; }))
      << boost::json::serialize(function_status("echo"));
  const auto replacement = function_status("echo").at("workers").as_array().at(0).as_object();
  EXPECT_NE(replacement.at("pid").to_number<std::int64_t>(), pid);
  EXPECT_EQ(replacement.at("kind"), "provisioned");
  EXPECT_EQ(function_status("echo").at("cold_starts"), 0);
}

TEST_F(Scheduler, FixedKeepAliveEndsAnIdleWorkerOnlyAfterItsTtl) {
  auto f = python_function("echo", "echo");
  f.keep_alive = std::chrono::seconds(600);
  config_.functions = {f};
  start();
  ASSERT_EQ(invoke("echo").payload, "{}");
  ASSERT_TRUE(run_until([&] { return idle_workers("echo") == 1; }));
  advance(std::chrono::seconds(599));
  EXPECT_EQ(workers("echo"), 1U);
  advance(std::chrono::seconds(2));
  EXPECT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
  // The next call is a cold start again.
  invoke("echo");
  EXPECT_EQ(function_status("echo").at("cold_starts"), 2);
}

TEST_F(Scheduler, LruEvictionPicksTheLeastRecentlyUsedIdleWorkerOfAnotherFunction) {
  config_.node.memory_budget_mb = 256;  // room for two 128 MB workers
  config_.functions = {python_function("a", "echo"), python_function("b", "echo"),
                       python_function("c", "echo")};
  start();
  invoke("a");
  ASSERT_TRUE(run_until([&] { return idle_workers("a") == 1; }));
  advance(minutes(1));
  invoke("b");
  ASSERT_TRUE(run_until([&] { return idle_workers("b") == 1; }));
  advance(minutes(1));
  ASSERT_EQ(invoke("c").payload, "{}");
  EXPECT_EQ(workers("a"), 0U) << "a was idle longest";
  EXPECT_EQ(workers("b"), 1U);
  EXPECT_EQ(workers("c"), 1U);
}

TEST_F(Scheduler, EvictsNothingWhenEvictingCouldNotMakeRoom) {
  config_.node.memory_budget_mb = 256;
  auto big = python_function("big", "echo");
  big.memory_mb = 512;
  config_.functions = {python_function("a", "echo"), python_function("b", "echo"), big};
  start();
  invoke("a");
  invoke("b");
  ASSERT_TRUE(run_until([&] { return idle_workers("a") == 1 && idle_workers("b") == 1; }));
  const auto refused = invoke("big");
  EXPECT_EQ(refused.reason, "ConcurrentInvocationLimitExceeded");
  EXPECT_EQ(workers("a"), 1U) << "nothing is evicted for a start that cannot fit anyway";
  EXPECT_EQ(workers("b"), 1U);
}

TEST_F(Scheduler, BudgetWithNothingToEvictIs429ConcurrentInvocationLimitExceeded) {
  config_.node.memory_budget_mb = 128;
  config_.functions = {python_function("gated", "waits_for_gate"), python_function("b", "echo")};
  start();
  const test::FifoGate gate(dir_);
  auto busy = start_invoke("gated", gate_event(gate));  // held until the gate opens
  ASSERT_TRUE(run_until([&] { return workers("gated") == 1; }));
  const auto refused = invoke("b");
  ASSERT_TRUE(refused.service_error.has_value());
  EXPECT_EQ(*refused.service_error, runtime_api::ServiceError::kTooManyRequests);
  EXPECT_EQ(refused.reason, "ConcurrentInvocationLimitExceeded");
  EXPECT_EQ(refused.retry_after_seconds, 1);
  EXPECT_FALSE(busy->has_value());
  auto opened = std::async(std::launch::async, [&] { return gate.open(); });
  ASSERT_TRUE(run_until([&] { return busy->has_value(); }));
  EXPECT_TRUE(opened.get());
  EXPECT_EQ(busy->value().payload, "\"opened\"");
}

TEST_F(Scheduler, ReservedCapIs429WithItsReason) {
  auto f = python_function("gated", "waits_for_gate");
  f.reserved_concurrency = 1;
  config_.functions = {f};
  start();
  const test::FifoGate gate(dir_);
  auto busy = start_invoke("gated", gate_event(gate));  // held until the gate opens
  ASSERT_TRUE(run_until([&] { return workers("gated") == 1; }));
  const auto refused = invoke("gated", gate_event(gate));
  EXPECT_EQ(refused.reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_FALSE(busy->has_value());
  auto opened = std::async(std::launch::async, [&] { return gate.open(); });
  ASSERT_TRUE(run_until([&] { return busy->has_value(); }));
  EXPECT_TRUE(opened.get());
  EXPECT_EQ(busy->value().payload, "\"opened\"");
}

TEST_F(Scheduler, AdaptivePolicyPrewarmsBeforeAPeriodicFunctionsNextCall) {
  auto f = python_function("cron", "echo");
  f.keep_alive_policy = config::KeepAlivePolicy::kAdaptive;
  config_.functions = {f};
  start();
  // A call every 5 minutes: after enough of them the policy has seen the pattern.
  for (int i = 0; i < 12; ++i) {
    invoke("cron");
    advance(minutes(5));
  }
  invoke("cron");
  const auto cold_before = function_status("cron").at("cold_starts").to_number<std::int64_t>();
  // Nothing is kept between calls now...
  EXPECT_TRUE(run_until([&] { return workers("cron") == 0; }));
  // ...and a worker is started at 4.5 minutes, ready before the call at 5.
  advance(std::chrono::seconds(280));
  EXPECT_TRUE(run_until([&] { return idle_workers("cron") == 1; }));
  advance(std::chrono::seconds(20));
  invoke("cron");
  EXPECT_EQ(function_status("cron").at("cold_starts").to_number<std::int64_t>(), cold_before)
      << "the pre-warmed worker served the call";
}

TEST_F(Scheduler, AdaptivePolicyKeepsNoWorkerForARareFunction) {
  auto f = python_function("rare", "echo");
  f.keep_alive_policy = config::KeepAlivePolicy::kAdaptive;
  config_.functions = {f};
  start();
  for (int i = 0; i < 12; ++i) {
    invoke("rare");
    advance(std::chrono::hours(6));
  }
  invoke("rare");
  EXPECT_TRUE(run_until([&] { return workers("rare") == 0; }));
  advance(std::chrono::hours(1));
  EXPECT_EQ(workers("rare"), 0U);
}

TEST_F(Scheduler, FrozenWorkersAreThawedAndAnswer) {
  config_.node.freeze_idle = true;
  config_.node.freeze_idle_after = std::chrono::milliseconds(0);
  config_.functions = {python_function("echo", "echo")};
  start();
  invoke("echo");
  ASSERT_TRUE(run_until([&] {
    return function_status("echo").at("workers").as_array().at(0).at("state") == "frozen";
  }));
  const auto worker = function_status("echo").at("workers").as_array().at(0).as_object();
  std::ifstream stat("/proc/" + std::to_string(worker.at("pid").to_number<std::int64_t>()) +
                     "/stat");
  std::string line;
  std::getline(stat, line);
  EXPECT_EQ(line.at(line.rfind(')') + 2), 'T') << "a frozen worker is stopped: " << line;
  EXPECT_EQ(invoke("echo", R"({"x": 1})").payload, R"({"x": 1})");
}

TEST_F(Scheduler, BurstBelowTheCapIsServedByAWorkerThatFreesUpBeforeAColdStartCompletes) {
  config::FunctionConfig f;
  f.name = "gatedinit";
  f.runtime = "provided";
  f.code_dir = testcase("provided", "gated_init");
  f.isolation = config::Isolation::kNone;
  f.reserved_concurrency = 4;
  f.environment = {{"INIT_GATE", (dir_ / "gate").string()}};
  config_.functions = {f};
  start();
  invoke("gatedinit");  // one warm worker: there is no gate yet
  // Every worker started from now on stays in init until the gate opens, which it never
  // does here: the burst can only be answered by the warm worker.
  const test::FifoGate gate(dir_);
  std::vector<std::shared_ptr<std::optional<InvokeResult>>> burst;
  for (int i = 0; i < 4; ++i) burst.push_back(start_invoke("gatedinit"));
  ASSERT_TRUE(run_until([&] {
    return std::all_of(burst.begin(), burst.end(), [](auto& r) { return r->has_value(); });
  }));
  for (auto& r : burst) EXPECT_EQ(r->value().payload, "{}");
  EXPECT_EQ(function_status("gatedinit").at("cold_starts"), 1)
      << "the warm worker answered the burst before any new worker was ready";
  EXPECT_GT(workers("gatedinit"), 1U) << "cold starts were begun for the burst";
  EXPECT_LE(workers("gatedinit"), 4U);
}

TEST_F(Scheduler, MaxReuseRetiresAWorkerAfterNInvocations) {
  auto f = python_function("echo", "echo");
  f.max_reuse = 2;
  config_.functions = {f};
  start();
  for (int i = 0; i < 3; ++i) invoke("echo");
  EXPECT_EQ(function_status("echo").at("cold_starts"), 2);
}

TEST_F(Scheduler, ShutdownLeavesNoProcess) {
  config_.functions = {python_function("echo", "echo")};
  start();
  invoke("echo");
  const auto pid = function_status("echo").at("workers").as_array().at(0).as_object().at("pid");
  const auto environ_path = "/proc/" + std::to_string(pid.to_number<std::int64_t>()) + "/environ";
  node_->shutdown();
  ASSERT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
  // Gone, or at most a zombie (whose environment reads empty) until its parent reaps it.
  std::ifstream env(environ_path);
  EXPECT_TRUE(!env || env.peek() == EOF) << environ_path;
}

}  // namespace
}  // namespace ember::engine

namespace ember::engine {
namespace {

// Timeouts and freezing run on the node's deadline clock: moved by hand here, so a 10 s init
// timeout is tested without waiting 10 s.
class SchedulerDeadlines : public Scheduler {
 protected:
  void SetUp() override {
    Scheduler::SetUp();
    manual_deadlines_ = true;
  }
};

TEST_F(SchedulerDeadlines, InitLongerThanTheInitTimeoutFailsWithSandboxTimedout) {
  config_.functions = {script_function("stuck", "sleep 600\n")};
  start();
  auto result = start_invoke("stuck");
  ASSERT_TRUE(run_until([&] { return worker_state("stuck") == "initialising"; }));
  advance_deadlines(std::chrono::seconds(9));  // the init timeout is 10 s
  EXPECT_FALSE(result->has_value()) << "answered before the init timeout";
  advance_deadlines(std::chrono::seconds(1));
  ASSERT_TRUE(run_until([&] { return result->has_value(); }));
  EXPECT_EQ(result->value().function_error, "Unhandled");
  EXPECT_NE(result->value().payload.find("Sandbox.Timedout"), std::string::npos)
      << result->value().payload;
  EXPECT_NE(result->value().payload.find("Init phase timed out after 10.00 seconds"),
            std::string::npos)
      << result->value().payload;
  EXPECT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
  EXPECT_NE(logs("stuck").find("INIT_REPORT Init Duration"), std::string::npos) << logs("stuck");
}

TEST_F(SchedulerDeadlines, InvocationLongerThanItsTimeoutFailsWithSandboxTimedout) {
  auto f = python_function("sleeps", "sleeps");
  f.timeout_s = 3;
  config_.functions = {f};
  start();
  auto result = start_invoke("sleeps", R"({"seconds": 600})");
  ASSERT_TRUE(run_until([&] { return worker_state("sleeps") == "busy"; }));
  advance_deadlines(std::chrono::seconds(2));
  EXPECT_FALSE(result->has_value()) << "answered before the timeout";
  advance_deadlines(std::chrono::seconds(1));
  ASSERT_TRUE(run_until([&] { return result->has_value(); }));
  EXPECT_NE(result->value().payload.find("Task timed out after 3.00 seconds"), std::string::npos)
      << result->value().payload;
  EXPECT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
}

TEST_F(SchedulerDeadlines, AWorkerThatAnswersButNeverCallsNextAgainIsEnded) {
  auto f = script_function("once", R"(api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
headers=$(mktemp)
curl -sS -D "$headers" -o /dev/null "$api/invocation/next" || exit 1
id=$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | cut -d' ' -f2 | tr -d '\r')
curl -sS -o /dev/null -X POST -d '"done"' "$api/invocation/$id/response"
sleep 600
)");
  f.timeout_s = 5;
  config_.functions = {f};
  start();
  EXPECT_EQ(invoke("once").payload, R"("done")");
  ASSERT_TRUE(run_until([&] { return worker_state("once") == "answered"; }));
  advance_deadlines(std::chrono::seconds(4));
  EXPECT_EQ(worker_state("once"), "answered");
  advance_deadlines(std::chrono::seconds(1));
  EXPECT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
  EXPECT_NE(logs("once").find("did not call next within 5 s"), std::string::npos) << logs("once");
}

TEST_F(SchedulerDeadlines, AnIdleWorkerFreezesOnlyAfterFreezeIdleAfter) {
  config_.node.freeze_idle = true;
  config_.node.freeze_idle_after = std::chrono::seconds(5);
  config_.functions = {python_function("echo", "echo")};
  start();
  invoke("echo");
  ASSERT_TRUE(run_until([&] { return worker_state("echo") == "idle"; }));
  advance_deadlines(std::chrono::seconds(4));
  EXPECT_EQ(worker_state("echo"), "idle");
  advance_deadlines(std::chrono::seconds(1));
  EXPECT_EQ(worker_state("echo"), "frozen");
  EXPECT_EQ(invoke("echo", R"({"x": 1})").payload, R"({"x": 1})");
  ASSERT_TRUE(run_until([&] { return worker_state("echo") == "idle"; }));
  advance_deadlines(std::chrono::seconds(4));
  EXPECT_EQ(worker_state("echo"), "idle") << "parked again: the wait starts over";
}

TEST_F(Scheduler, ShutdownSignalsWhenTheLastWorkerIsReaped) {
  config_.functions = {python_function("echo", "echo")};
  start();
  invoke("echo");
  bool none_left = false;
  node_->when_no_live_workers([&] { none_left = true; });
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(none_left) << "a worker is still alive";
  node_->shutdown();
  ASSERT_TRUE(run_until([&] { return none_left; }));
  EXPECT_EQ(node_->live_workers(), 0U);
}

}  // namespace
}  // namespace ember::engine
