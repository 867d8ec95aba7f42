// Node::reconfigure: a reloaded file's functions in place of the old ones, on a node with
// real workers; what is in flight finishes, event sources follow the new functions.
#include <gtest/gtest.h>

#include "node_fixture.hpp"

namespace ember::engine {
namespace {

class Reconfigure : public NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    with_event_queue_ = true;
  }

  ReloadOutcome reload(std::vector<config::FunctionConfig> functions,
                       const std::set<std::string, std::less<>>& code_changed = {}) {
    config::Config next = config_;
    next.functions = std::move(functions);
    return node_->reconfigure(std::move(next), {}, code_changed);
  }

  std::string worker_id(const std::string& function) {
    const auto list = function_status(function).at("workers").as_array();
    return list.empty() ? "" : std::string(list.at(0).at("id").as_string());
  }

  // The function in the node's whole status (its schedules too).
  boost::json::object status_of(const std::string& function) {
    std::optional<boost::json::object> status;
    boost::asio::co_spawn(
        io_, node_->status(),
        [&](const std::exception_ptr&, boost::json::object s) { status = std::move(s); });
    EXPECT_TRUE(run_until([&] { return status.has_value(); }));
    const auto whole = status.value_or(boost::json::object{{"functions", boost::json::array{}}});
    for (const auto& f : whole.at("functions").as_array()) {
      if (f.as_object().at("name").as_string() == function) return f.as_object();
    }
    ADD_FAILURE() << "no function " << function;
    return {};
  }
};

TEST_F(Reconfigure, AddsReplacesAndRemovesWhatChangedAndKeepsTheRest) {
  config_.functions = {python_function("kept", "echo"), python_function("changed", "echo"),
                       python_function("gone", "echo")};
  start();
  ASSERT_EQ(invoke("kept").payload, "{}");
  auto changed = python_function("changed", "echo");
  changed.timeout_s = 9;
  auto kept = python_function("kept", "echo");
  kept.source = "elsewhere:3:5";  // moved in the file: not a change
  const auto outcome = reload({kept, changed, python_function("added", "echo")});
  ASSERT_FALSE(outcome.refused) << *outcome.refused;
  EXPECT_EQ(outcome.added, std::vector<std::string>{"added"});
  EXPECT_EQ(outcome.replaced, std::vector<std::string>{"changed"});
  EXPECT_EQ(outcome.removed, std::vector<std::string>{"gone"});
  EXPECT_EQ(outcome.unchanged, 1U);
  EXPECT_TRUE(outcome.not_applied.empty());
  EXPECT_FALSE(node_->has_function("gone"));
  EXPECT_EQ(invoke("added", R"({"a":1})").payload, R"({"a": 1})");
  // The kept function's warm worker is still the one that serves it.
  const auto warm = worker_id("kept");
  EXPECT_EQ(invoke("kept").payload, "{}");
  EXPECT_EQ(worker_id("kept"), warm);
  EXPECT_EQ(node_->config().functions.size(), 3U);
}

TEST_F(Reconfigure, CodeThatChangedReplacesAFunctionWhoseSettingsDidNot) {
  config_.functions = {python_function("f", "echo")};
  start();
  ASSERT_EQ(invoke("f").payload, "{}");
  const auto before = worker_id("f");
  const auto outcome = reload({python_function("f", "echo")}, {"f"});
  EXPECT_EQ(outcome.replaced, std::vector<std::string>{"f"});
  EXPECT_EQ(invoke("f").payload, "{}");
  EXPECT_NE(worker_id("f"), before) << "a replaced function's next call runs on a new worker";
}

TEST_F(Reconfigure, NodeSettingsAreKeptAndNamed) {
  config_.functions = {python_function("f", "echo")};
  start();
  config::Config next = config_;
  next.node.max_workers = 3;
  next.node.auth.mode = config::AuthMode::kSigV4;
  const auto outcome = node_->reconfigure(std::move(next), {}, {});
  EXPECT_EQ(outcome.not_applied, (std::vector<std::string>{"node.max_workers", "node.auth"}));
  EXPECT_EQ(node_->config().node.max_workers, config_.node.max_workers);
}

TEST_F(Reconfigure, SchedulesFollowTheFunctionsOfTheNewFile) {
  config_.functions = {python_function("f", "echo")};
  start();
  auto scheduled = python_function("ticker", "echo");
  scheduled.schedules = {{.name = "every-minute", .expression = "rate(1 minute)"}};
  ASSERT_FALSE(reload({python_function("f", "echo"), scheduled}).refused);
  const auto rules = status_of("ticker").at("schedules").as_array();
  ASSERT_EQ(rules.size(), 1U);
  EXPECT_EQ(rules.at(0).at("name"), "every-minute");
  // And gone with it: nothing points at the old file's functions any more.
  ASSERT_FALSE(reload({python_function("f", "echo")}).refused);
  EXPECT_FALSE(node_->has_function("ticker"));
  EXPECT_EQ(invoke("f").payload, "{}");
}

TEST_F(Reconfigure, AStoppingNodeRefusesAndChangesNothing) {
  config_.functions = {python_function("f", "echo")};
  start();
  node_->drain();
  const auto outcome = reload({});
  ASSERT_TRUE(outcome.refused);
  EXPECT_TRUE(node_->has_function("f"));
}

}  // namespace
}  // namespace ember::engine
