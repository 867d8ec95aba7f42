// Functions added, replaced and removed while the node runs (what the control plane does):
// invocations in flight finish on the code they started with, new ones get the new code.
#include <gtest/gtest.h>

#include <future>

#include "node_fixture.hpp"

namespace ember::engine {
namespace {

class FunctionRegistryTest : public NodeFixture {
 protected:
  // Opens the gate on another thread while the node's loop runs until `slot` is answered.
  InvokeResult finish_at_gate(const ::ember::test::FifoGate& gate,
                              const std::shared_ptr<std::optional<InvokeResult>>& slot) {
    auto opened = std::async(std::launch::async, [&gate] { return gate.open(); });
    EXPECT_TRUE(run_until([&] { return slot->has_value(); }));
    EXPECT_TRUE(opened.get()) << "the gated invocation never reached its gate";
    return slot->value_or(InvokeResult{});
  }
};

TEST_F(FunctionRegistryTest, AFunctionAddedWhileRunningIsInvoked) {
  config_.functions = {python_function("first", "echo")};
  start();
  EXPECT_FALSE(node_->has_function("added"));
  EXPECT_EQ(invoke("added").service_error, runtime_api::ServiceError::kResourceNotFound);
  node_->put_function(python_function("added", "echo"));
  const auto result = invoke("added", R"({"n":1})");
  EXPECT_FALSE(result.service_error) << result.message;
  EXPECT_EQ(result.payload, R"({"n": 1})");
}

TEST_F(FunctionRegistryTest, ReplacedFunctionsBusyWorkerFinishesOnTheOldCodeAndNewCallsGetTheNew) {
  config_.functions = {python_function("f", "waits_for_gate")};
  start();
  const ::ember::test::FifoGate gate(dir_);
  auto in_flight = start_invoke("f", gate_event(gate));
  ASSERT_TRUE(run_until([&] { return worker_state("f") == "busy"; }));

  node_->put_function(python_function("f", "echo"));
  EXPECT_EQ(node_->retired_pools(), 1U) << "the old pool stays while its worker is busy";
  const auto fresh = invoke("f", R"({"new":true})");
  EXPECT_FALSE(fresh.service_error) << fresh.message;
  EXPECT_EQ(fresh.payload, R"({"new": true})") << "a new invocation runs the new code";
  EXPECT_FALSE(in_flight->has_value()) << "the old invocation is still running";

  const auto old = finish_at_gate(gate, in_flight);
  EXPECT_FALSE(old.service_error) << old.message;
  EXPECT_EQ(old.payload, "\"opened\"") << "the busy worker finished on the old code";
  // Its worker ends instead of going idle, and the retired pool is forgotten.
  ASSERT_TRUE(run_until([&] {
    node_->tick();
    return node_->retired_pools() == 0;
  }));
  EXPECT_EQ(workers("f"), 1U) << "only the new code's worker is left";
}

TEST_F(FunctionRegistryTest, IdleWorkersOfAReplacedFunctionEndAtOnce) {
  config_.functions = {python_function("f", "echo")};
  start();
  ASSERT_FALSE(invoke("f").service_error);
  // The answer may reach the caller before its worker is back in the idle list.
  ASSERT_TRUE(run_until([&] { return idle_workers("f") == 1U; }));
  node_->put_function(python_function("f", "echo"));
  EXPECT_EQ(workers("f"), 0U) << "the new pool starts empty";
  ASSERT_TRUE(run_until([&] {
    node_->tick();
    return node_->retired_pools() == 0 && node_->live_workers() == 0;
  }));
}

TEST_F(FunctionRegistryTest, RemovedFunctionFinishesItsInvocationAndThenIsNotFound) {
  config_.functions = {python_function("f", "waits_for_gate")};
  start();
  const ::ember::test::FifoGate gate(dir_);
  auto in_flight = start_invoke("f", gate_event(gate));
  ASSERT_TRUE(run_until([&] { return worker_state("f") == "busy"; }));
  EXPECT_TRUE(node_->remove_function("f"));
  EXPECT_FALSE(node_->remove_function("f")) << "already gone";
  const auto after = invoke("f");
  EXPECT_EQ(after.service_error, runtime_api::ServiceError::kResourceNotFound);
  const auto old = finish_at_gate(gate, in_flight);
  EXPECT_FALSE(old.service_error) << old.message;
  EXPECT_EQ(old.payload, "\"opened\"");
  ASSERT_TRUE(run_until([&] {
    node_->tick();
    return node_->retired_pools() == 0 && node_->live_workers() == 0;
  }));
}

}  // namespace
}  // namespace ember::engine
