// A node with real worker processes (plain processes: no root needed) and hand-moved clocks,
// for the engine's tests: the scheduler's and the asynchronous invocations'.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>

#include "../support/fifo_gate.hpp"
#include "ember/engine/clock.hpp"
#include "ember/engine/node.hpp"
#include "ember/queue/event_queue.hpp"

namespace ember::engine {

namespace fs = std::filesystem;
using runtime_api::InvokeResult;  // NOLINT(google-global-names-in-headers): tests' shorthand

inline fs::path testcase(const std::string& kind, const std::string& name) {
  return fs::path(EMBER_SOURCE_DIR) / "tests" / "testcases" / kind / name;
}

// The event for waits_for_gate: its invocation runs until `gate` opens.
inline std::string gate_event(const ::ember::test::FifoGate& gate) {
  return R"({"gate": ")" + gate.path().string() + R"("})";
}

inline config::FunctionConfig python_function(const std::string& name, const std::string& code) {
  config::FunctionConfig f;
  f.name = name;
  f.runtime = "python3";
  f.runtime_kind = config::RuntimeKind::kPython;
  f.interpreter = "/usr/bin/python3";
  f.handler = "lambda_function.lambda_handler";
  f.code_dir = testcase("python", code);
  // Plain processes: these tests are about scheduling, and run without root.
  f.isolation = config::Isolation::kNone;
  return f;
}

class NodeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ember-sched-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    config_.node.state_dir = dir_;
    config_.node.freeze_idle = false;
  }
  void TearDown() override {
    if (node_) {
      node_->shutdown();
      run_until([&] { return node_->live_workers() == 0; });
      node_.reset();
    }
    fs::remove_all(dir_);
  }

  Node& start() {
    Backends backends;
    backends.process = isolation::make_process_backend();
    NodeOptions options;
    options.runtimes_dir = fs::path(EMBER_SOURCE_DIR) / "runtimes";
    options.clock = &clock_;
    if (manual_deadlines_) options.deadline_clock = &deadlines_;
    options.tick_interval = std::chrono::milliseconds(0);  // ticks come from the test
    options.machine_memory_mb = 16384;
    if (with_event_queue_) {
      options.event_queue = queue::open_sqlite_queue(dir_ / "async" / "events.db");
    }
    node_ = std::make_unique<Node>(io_.get_executor(), config_, std::move(backends),
                                   std::move(options));
    node_->start();
    return *node_;
  }

  // Runs the event loop until `done` holds (at most 20 s of wall time).
  template <class Predicate>
  bool run_until(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      // An io_context that ran out of work stops and runs nothing more until restarted; a
      // tick from the test may have given it new work since.
      if (io_.stopped()) io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // Opens the gate while the node's loop runs: a worker shown busy may still need the loop
  // to write the event to its runtime before the handler reaches the gate.
  bool open_gate(const ::ember::test::FifoGate& gate) {
    auto opened = std::async(std::launch::async, [&gate] { return gate.open(); });
    run_until(
        [&] { return opened.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
    return opened.get();
  }

  // Starts an invocation; its result shows up in the returned slot. Request ids are unique
  // across nodes (an event queue outlives a node's restart).
  std::shared_ptr<std::optional<InvokeResult>> start_invoke(
      const std::string& function, std::string payload = "{}",
      runtime_api::InvocationType type = runtime_api::InvocationType::kRequestResponse,
      std::string* request_id = nullptr) {
    runtime_api::InvokeRequest request;
    request.request_id = runtime_api::new_request_id();
    if (request_id != nullptr) *request_id = request.request_id;
    request.function.name = function;
    request.type = type;
    request.payload = std::move(payload);
    auto slot = std::make_shared<std::optional<InvokeResult>>();
    boost::asio::co_spawn(
        io_, node_->invoke(std::move(request)),
        [slot](const std::exception_ptr&, InvokeResult result) { *slot = std::move(result); });
    return slot;
  }

  InvokeResult invoke(const std::string& function, std::string payload = "{}") {
    auto slot = start_invoke(function, std::move(payload));
    EXPECT_TRUE(run_until([&] { return slot->has_value(); })) << "no answer from " << function;
    return slot->value_or(InvokeResult{});
  }

  boost::json::object function_status(const std::string& name) {
    const auto status = node_->snapshot();
    for (const auto& f : status.at("functions").as_array()) {
      if (f.as_object().at("name").as_string() == name) return f.as_object();
    }
    ADD_FAILURE() << "no function " << name;
    return {};
  }

  std::size_t idle_workers(const std::string& name) {
    std::size_t n = 0;
    const auto status = function_status(name);
    for (const auto& w : status.at("workers").as_array()) {
      const auto& state = w.as_object().at("state").as_string();
      if (state == "idle" || state == "frozen") ++n;
    }
    return n;
  }

  std::size_t workers(const std::string& name) {
    return function_status(name).at("workers").as_array().size();
  }

  std::string logs(const std::string& function) {
    std::string all;
    const auto path = dir_ / "logs" / function;
    if (!fs::exists(path)) return all;
    for (const auto& entry : fs::directory_iterator(path)) {
      std::ifstream in(entry.path());
      std::ostringstream text;
      text << in.rdbuf();
      all += text.str();
    }
    return all;
  }

  void advance(Clock::Duration d) {
    clock_.advance(d);
    node_->tick();
  }

  // Moves the deadline clock (timeouts, freezing) and lets the node act on it.
  void advance_deadlines(Clock::Duration d) {
    deadlines_.advance(d);
    node_->tick();
    io_.run_for(std::chrono::milliseconds(5));
  }

  std::string worker_state(const std::string& function) {
    const auto list = function_status(function).at("workers").as_array();
    return list.empty() ? "" : std::string(list.at(0).at("state").as_string());
  }

  // A provided function whose bootstrap is `script` (bash), made in the test's directory.
  config::FunctionConfig script_function(const std::string& name, const std::string& script) {
    const auto code = dir_ / ("code-" + name);
    fs::create_directories(code);
    {
      std::ofstream bootstrap(code / "bootstrap");
      bootstrap << "#!/bin/bash\n" << script;
    }
    fs::permissions(code / "bootstrap", fs::perms::owner_all, fs::perm_options::add);
    config::FunctionConfig f;
    f.name = name;
    f.runtime = "provided";
    f.code_dir = code;
    f.isolation = config::Isolation::kNone;
    return f;
  }

  boost::asio::io_context io_;
  ManualClock clock_;
  ManualClock deadlines_;  // the node's deadline clock when manual_deadlines_
  bool manual_deadlines_ = false;
  bool with_event_queue_ = false;  // the node gets a queue for Event invocations
  config::Config config_;
  fs::path dir_;
  std::unique_ptr<Node> node_;
};

}  // namespace ember::engine
