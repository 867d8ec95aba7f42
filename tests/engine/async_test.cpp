// Asynchronous invocations end to end inside the engine: a real node with real worker
// processes, the real SQLite queue in a temporary directory, and a hand-moved deadline clock
// (wall time in the queue moves with it), so retry delays and event ages are tested without
// waiting for them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "node_fixture.hpp"

namespace ember::engine {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

class AsyncEvents : public NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    with_event_queue_ = true;
    manual_deadlines_ = true;
  }

  // Sends an Event invocation; its answer (202 or a refusal) shows up in the returned slot.
  std::shared_ptr<std::optional<InvokeResult>> send_event(const std::string& function,
                                                          std::string payload,
                                                          std::string* request_id = nullptr) {
    return start_invoke(function, std::move(payload), runtime_api::InvocationType::kEvent,
                        request_id);
  }

  // Sends it and waits for the 202.
  std::string accept_event(const std::string& function, std::string payload = "{}") {
    std::string id;
    auto slot = send_event(function, std::move(payload), &id);
    EXPECT_TRUE(run_until([&] { return slot->has_value(); }));
    EXPECT_TRUE(slot->has_value() && slot->value().accepted)
        << (slot->has_value() ? slot->value().message : "no answer");
    return id;
  }

  // The function's "async" object of GET /ember/v1/functions.
  json::object async_status(const std::string& function) {
    std::optional<json::object> status;
    boost::asio::co_spawn(io_, node_->status(), [&](const std::exception_ptr&, json::object s) {
      status = std::move(s);
    });
    EXPECT_TRUE(run_until([&] { return status.has_value(); }));
    for (const auto& f : status->at("functions").as_array()) {
      if (f.at("name").as_string() == function) return f.at("async").as_object();
    }
    ADD_FAILURE() << "no function " << function;
    return {};
  }

  std::uint64_t counter(const std::string& function, const std::string& name) {
    return async_status(function).at(name).to_number<std::uint64_t>();
  }

  // The JSON files in `dir`, once there are `n` of them.
  std::vector<json::object> records(const fs::path& dir, std::size_t n) {
    std::vector<json::object> out;
    const auto count = [&] {
      std::size_t files = 0;
      if (fs::exists(dir)) {
        for (const auto& entry : fs::directory_iterator(dir)) {
          if (entry.path().extension() == ".json" && entry.path().filename().string()[0] != '.') {
            ++files;
          }
        }
      }
      return files;
    };
    EXPECT_TRUE(run_until([&] { return count() >= n; })) << "records in " << dir;
    std::set<fs::path> sorted;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") sorted.insert(entry.path());
    }
    for (const auto& path : sorted) {
      std::ifstream in(path);
      std::ostringstream text;
      text << in.rdbuf();
      out.push_back(json::parse(text.str()).as_object());
    }
    return out;
  }

  // Lets the loop run a moment, for checks that something does NOT happen.
  void settle() {
    for (int i = 0; i < 20; ++i) io_.run_for(std::chrono::milliseconds(10));
  }

  config::FunctionConfig raising(const fs::path& on_failure, const fs::path& dead_letter) {
    auto f = python_function("raises", "raises");
    f.async.on_failure = {.kind = config::Destination::Kind::kDirectory, .directory = on_failure};
    f.async.dead_letter = {.kind = config::Destination::Kind::kDirectory, .directory = dead_letter};
    return f;
  }
};

config::Destination directory(const fs::path& path) {
  return {.kind = config::Destination::Kind::kDirectory, .directory = path};
}

TEST_F(AsyncEvents, AnAcceptedEventRunsOnceAndItsSuccessRecordHasLambdasShape) {
  auto f = python_function("echo", "echo");
  f.async.on_success = directory(dir_ / "ok");
  config_.functions = {f};
  start();
  const auto id = accept_event("echo", R"({"key1":"value1"})");
  const auto found = records(dir_ / "ok", 1);
  ASSERT_EQ(found.size(), 1U);
  const auto& record = found[0];
  EXPECT_EQ(record.at("version"), "1.0");
  EXPECT_TRUE(record.at("timestamp").as_string().ends_with("Z"));
  const auto& context = record.at("requestContext").as_object();
  EXPECT_EQ(context.at("requestId"), json::value(id));
  EXPECT_EQ(context.at("functionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST");
  EXPECT_EQ(context.at("condition"), "Success");
  EXPECT_EQ(context.at("approximateInvokeCount"), 1);
  EXPECT_EQ(record.at("requestPayload"), json::parse(R"({"key1":"value1"})"));
  EXPECT_EQ(record.at("responseContext"),
            json::parse(R"({"statusCode":200,"executedVersion":"$LATEST"})"));
  EXPECT_EQ(record.at("responsePayload"), json::parse(R"({"key1":"value1"})"));
  EXPECT_TRUE(run_until([&] { return counter("echo", "succeeded") == 1; }));
  const auto status = async_status("echo");
  EXPECT_EQ(status.at("accepted"), 1);
  EXPECT_EQ(status.at("queued"), 0);
  EXPECT_EQ(status.at("destinations").at("on_success"), 1);
  // The worker's log shows the attempt under the caller's request id.
  EXPECT_NE(logs("echo").find("START RequestId: " + id), std::string::npos);
}

TEST_F(AsyncEvents, FailuresAreRetriedAfterTheirDelaysThenGoToOnFailureAndTheDeadLetter) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.async.retry_delays = {seconds(60), seconds(120)};
  config_.functions = {f};
  start();
  const auto id = accept_event("raises", R"({"n":1})");
  ASSERT_TRUE(run_until([&] { return counter("raises", "retries") == 1; }));
  advance_deadlines(seconds(59));
  settle();
  EXPECT_EQ(counter("raises", "attempts"), 1U) << "retried before its delay";
  advance_deadlines(seconds(1));
  ASSERT_TRUE(run_until([&] { return counter("raises", "retries") == 2; }));
  EXPECT_EQ(counter("raises", "attempts"), 2U);
  advance_deadlines(seconds(119));
  settle();
  EXPECT_EQ(counter("raises", "attempts"), 2U) << "retried before its second delay";
  advance_deadlines(seconds(1));
  ASSERT_TRUE(run_until([&] { return counter("raises", "failed") == 1; }));
  EXPECT_EQ(counter("raises", "attempts"), 3U);

  const auto failed = records(dir_ / "failed", 1);
  ASSERT_EQ(failed.size(), 1U);
  const auto& context = failed[0].at("requestContext").as_object();
  EXPECT_EQ(context.at("requestId"), json::value(id));
  EXPECT_EQ(context.at("condition"), "RetriesExhausted");
  EXPECT_EQ(context.at("approximateInvokeCount"), 3);
  EXPECT_EQ(failed[0].at("responseContext").at("functionError"), "Unhandled");
  EXPECT_EQ(failed[0].at("responsePayload").at("errorType"), "ValueError");
  EXPECT_EQ(failed[0].at("requestPayload"), json::parse(R"({"n":1})"));

  const auto dead = records(dir_ / "dead", 1);
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].at("body"), R"({"n":1})");
  const auto& attributes = dead[0].at("messageAttributes").as_object();
  EXPECT_EQ(attributes.at("RequestID").at("stringValue"), json::value(id));
  EXPECT_EQ(attributes.at("ErrorCode").at("stringValue"), "200");
  EXPECT_EQ(attributes.at("ErrorMessage").at("stringValue"), "something broke");
  EXPECT_EQ(async_status("raises").at("queued"), 0);
}

TEST_F(AsyncEvents, NoRetriesMeansOneAttempt) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.async.max_retries = 0;
  config_.functions = {f};
  start();
  accept_event("raises");
  ASSERT_TRUE(run_until([&] { return counter("raises", "failed") == 1; }));
  EXPECT_EQ(records(dir_ / "failed", 1).at(0).at("requestContext").at("approximateInvokeCount"), 1);
  EXPECT_EQ(counter("raises", "attempts"), 1U);
}

TEST_F(AsyncEvents, AnEventPastItsAgeExpiresWithEventAgeExceeded) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.async.max_event_age = seconds(60);
  f.async.retry_delays = {seconds(120)};  // the retry would come after the event's age
  config_.functions = {f};
  start();
  accept_event("raises", R"({"old":true})");
  ASSERT_TRUE(run_until([&] { return counter("raises", "retries") == 1; }));
  advance_deadlines(seconds(60));
  ASSERT_TRUE(run_until([&] { return counter("raises", "expired") == 1; }));
  EXPECT_EQ(counter("raises", "attempts"), 1U);
  const auto failed = records(dir_ / "failed", 1);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].at("requestContext").at("condition"), "EventAgeExceeded");
  EXPECT_EQ(failed[0].at("requestContext").at("approximateInvokeCount"), 1);
  EXPECT_EQ(records(dir_ / "dead", 1).size(), 1U);
}

TEST_F(AsyncEvents, AnEventThatNeverGetsRoomStillExpiresAtItsAge) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.reserved_concurrency = 0;  // disabled: every attempt would be throttled
  f.async.max_event_age = seconds(60);
  config_.functions = {f};
  start();
  accept_event("raises", R"({"never":"ran"})");
  advance_deadlines(seconds(59));
  settle();
  EXPECT_EQ(async_status("raises").at("queued"), 1);
  advance_deadlines(seconds(2));
  const auto failed = records(dir_ / "failed", 1);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].at("requestContext").at("condition"), "EventAgeExceeded");
  EXPECT_EQ(failed[0].at("requestContext").at("approximateInvokeCount"), 0);
  EXPECT_FALSE(failed[0].contains("responsePayload"));
  const auto dead = records(dir_ / "dead", 1);
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].at("messageAttributes").at("ErrorCode").at("stringValue"), "429");
  EXPECT_EQ(counter("raises", "attempts"), 0U);
}

TEST_F(AsyncEvents, AnEventAtTheCapWaitsForRoomWithoutUsingARetry) {
  auto f = python_function("gated", "waits_for_gate");
  f.reserved_concurrency = 1;
  f.async.max_retries = 0;
  f.async.on_success = directory(dir_ / "ok");
  config_.functions = {f};
  start();
  const ::ember::test::FifoGate gate(dir_);
  auto busy = start_invoke("gated", gate_event(gate));  // holds the only worker
  ASSERT_TRUE(run_until([&] { return worker_state("gated") == "busy"; }));
  accept_event("gated", gate_event(gate));
  settle();
  EXPECT_EQ(async_status("gated").at("queued"), 1) << "an event ran beside a busy worker";
  EXPECT_EQ(counter("gated", "attempts"), 0U);
  ASSERT_TRUE(open_gate(gate));
  ASSERT_TRUE(run_until([&] { return busy->has_value(); }));
  // Then the event gets the worker and waits at the gate in its turn.
  ASSERT_TRUE(run_until([&] { return counter("gated", "attempts") == 1; }));
  ASSERT_TRUE(run_until([&] { return worker_state("gated") == "busy"; }));
  ASSERT_TRUE(open_gate(gate));
  const auto found = records(dir_ / "ok", 1);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].at("requestContext").at("approximateInvokeCount"), 1);
}

TEST_F(AsyncEvents, ASyncCallerWaitsBehindAnEventInsteadOfBeingThrottled) {
  auto f = python_function("gated", "waits_for_gate");
  f.reserved_concurrency = 1;
  config_.functions = {f};
  start();
  const ::ember::test::FifoGate gate(dir_);
  accept_event("gated", gate_event(gate));
  ASSERT_TRUE(run_until([&] { return worker_state("gated") == "busy"; }));
  auto sync = start_invoke("gated", R"({"gate": "/dev/null"})");
  settle();
  EXPECT_FALSE(sync->has_value()) << "the caller was answered while the event held the worker: "
                                  << sync->value().message;
  ASSERT_TRUE(open_gate(gate));
  ASSERT_TRUE(run_until([&] { return sync->has_value(); }));
  EXPECT_FALSE(sync->value().service_error) << sync->value().message;
  EXPECT_EQ(sync->value().payload, R"("opened")");
}

TEST_F(AsyncEvents, ATimeoutIsAFailedAttempt) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.code_dir = testcase("python", "sleeps");
  f.timeout_s = 1;
  f.async.max_retries = 0;
  config_.functions = {f};
  start();
  accept_event("raises", R"({"seconds":30})");
  ASSERT_TRUE(run_until([&] { return worker_state("raises") == "busy"; }));
  advance_deadlines(seconds(1));
  const auto failed = records(dir_ / "failed", 1);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].at("responsePayload").at("errorType"), "Sandbox.Timedout");
}

TEST_F(AsyncEvents, AFunctionDestinationIsInvokedWithTheRecordAndItsOwnFailureIsNotForwarded) {
  auto f = raising(dir_ / "failed", dir_ / "dead");
  f.async.max_retries = 0;
  f.async.on_failure = {.kind = config::Destination::Kind::kFunction, .function = "recorder"};
  auto recorder = python_function("recorder", "echo");
  recorder.async.on_success = directory(dir_ / "recorded");
  config_.functions = {f, recorder};
  start();
  const auto id = accept_event("raises", R"({"x":1})");
  ASSERT_TRUE(run_until([&] { return counter("recorder", "attempts") == 1; }));
  ASSERT_TRUE(run_until([&] { return counter("recorder", "succeeded") == 1; }));
  // The recorder ran with the on_failure record as its event; records of destination events
  // are not forwarded again, so its own on_success directory stays empty.
  settle();
  EXPECT_FALSE(fs::exists(dir_ / "recorded") && !fs::is_empty(dir_ / "recorded"));
  EXPECT_NE(logs("recorder").find("START RequestId: "), std::string::npos);
  EXPECT_EQ(async_status("raises").at("destinations").at("on_failure"), 1);
  (void)id;
}

TEST_F(AsyncEvents, AnEventRunningAtShutdownRunsAgainAfterARestart) {
  auto f = python_function("gated", "waits_for_gate");
  f.async.on_success = directory(dir_ / "ok");
  config_.functions = {f};
  start();
  const ::ember::test::FifoGate gate(dir_);
  const auto id = accept_event("gated", gate_event(gate));
  ASSERT_TRUE(run_until([&] { return worker_state("gated") == "busy"; }));
  node_->shutdown();
  ASSERT_TRUE(run_until([&] { return node_->live_workers() == 0; }));
  node_.reset();

  start();  // the same state directory: the same queue
  ASSERT_TRUE(run_until([&] { return worker_state("gated") == "busy"; }));
  ASSERT_TRUE(open_gate(gate));
  const auto found = records(dir_ / "ok", 1);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].at("requestContext").at("requestId"), json::value(id));
  EXPECT_EQ(found[0].at("requestContext").at("approximateInvokeCount"), 2);
  EXPECT_EQ(found[0].at("responsePayload"), "opened");
}

TEST_F(AsyncEvents, ARateScheduleSendsTheScheduledEventEachPeriodAndNotBefore) {
  auto f = python_function("echo", "echo");
  f.async.on_success = directory(dir_ / "ok");
  f.schedules = {{.name = "every-minute", .expression = "rate(1 minute)"},
                 {.name = "with-input", .expression = "rate(2 minutes)", .input = R"({"k":1})"},
                 {.name = "off", .expression = "rate(1 minute)", .enabled = false}};
  config_.functions = {f};
  start();
  advance(seconds(59));
  settle();
  EXPECT_EQ(counter("echo", "accepted"), 0U) << "a rule fired before its period";
  advance(seconds(1));
  auto found = records(dir_ / "ok", 1);
  ASSERT_EQ(found.size(), 1U);
  const auto& event = found[0].at("requestPayload").as_object();
  EXPECT_EQ(event.at("version"), "0");
  EXPECT_EQ(event.at("id").as_string().size(), 36U);
  EXPECT_EQ(event.at("detail-type"), "Scheduled Event");
  EXPECT_EQ(event.at("source"), "aws.events");
  EXPECT_EQ(event.at("account"), "000000000000");
  EXPECT_EQ(event.at("region"), "us-east-1");
  EXPECT_EQ(event.at("resources"),
            json::parse(R"(["arn:aws:events:us-east-1:000000000000:rule/every-minute"])"));
  EXPECT_EQ(event.at("detail"), json::object{});
  const std::string time(event.at("time").as_string());
  EXPECT_EQ(time.size(), 20U) << time;  // 2026-12-02T13:05:00Z: seconds, no fraction
  EXPECT_EQ(time.back(), 'Z');
  // The second minute: the 1-minute rule again and the 2-minute rule with its input.
  advance(seconds(60));
  found = records(dir_ / "ok", 3);
  ASSERT_EQ(found.size(), 3U);
  std::size_t with_input = 0;
  for (const auto& record : found) {
    if (record.at("requestPayload") == json::parse(R"({"k":1})")) ++with_input;
  }
  EXPECT_EQ(with_input, 1U);
  EXPECT_EQ(counter("echo", "accepted"), 3U) << "the disabled rule fired, or one fired twice";
}

TEST_F(AsyncEvents, WithoutAQueueEventsAreRefusedNamingWhy) {
  with_event_queue_ = false;
  config_.functions = {python_function("echo", "echo")};
  start();
  auto slot = send_event("echo", "{}");
  ASSERT_TRUE(run_until([&] { return slot->has_value(); }));
  EXPECT_EQ(slot->value().service_error, runtime_api::ServiceError::kInvalidParameterValue);
  EXPECT_NE(slot->value().message.find("event queue"), std::string::npos);
}

}  // namespace
}  // namespace ember::engine
