// The Telemetry API (2022-07-01) end to end: a real node, native sandboxes, and a real external
// extension (tests/testcases/telemetry_extension/telemetry-probe, Python) in a layer, which
// listens on sandbox.localdomain inside the sandbox, subscribes, and writes every batch it
// receives into a directory bound from the test's temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kProbe = "telemetry-probe";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The REPORT line of `request_id`'s figures: "Duration" -> "1.09", ...
std::map<std::string, std::string> report_fields(const std::string& logs,
                                                 const std::string& request_id) {
  const std::string head = "REPORT RequestId: " + request_id;
  const auto at = logs.find(head);
  std::map<std::string, std::string> out;
  if (at == std::string::npos) return out;
  const auto line = logs.substr(at, logs.find('\n', at) - at);
  static const std::regex kField(R"(\t([A-Za-z ]+): ([0-9.]+) (ms|MB))");
  for (std::sregex_iterator it(line.begin(), line.end(), kField), end; it != end; ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

// Index of the first event at or after `from` of `type` (and `request_id`, when given).
std::size_t find_event(const std::vector<json::object>& events, std::string_view type,
                       const std::string& request_id = {}, std::size_t from = 0) {
  for (std::size_t i = from; i < events.size(); ++i) {
    if (events[i].at("type").as_string() != type) continue;
    if (!request_id.empty() && events[i].at("record").at("requestId").as_string() != request_id)
      continue;
    return i;
  }
  return events.size();
}

class Telemetry : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
    if (!fs::exists("/sys/fs/cgroup/memory") && !fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
      GTEST_SKIP() << "no cgroup hierarchy";
    }
    layer_ = dir_.path() / "layer";
    out_ = dir_.path() / "out";
    fs::create_directories(layer_ / "extensions");
    fs::create_directories(out_);
    fs::copy_file(testcases_dir() / "telemetry_extension" / kProbe, layer_ / "extensions" / kProbe);
    // Readable by the sandbox's user, the extension executable, and out_ writable by it.
    const auto everyone = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec;
    for (const auto& path : {dir_.path(), layer_, layer_ / "extensions",
                             layer_ / "extensions" / std::string(kProbe)}) {
      fs::permissions(path, everyone);
    }
    fs::permissions(out_, fs::perms::all);
  }

  [[nodiscard]] FunctionSpec function(std::map<std::string, std::string> environment = {}) const {
    FunctionSpec spec{.name = "watched", .code = testcases_dir() / "python" / "printer"};
    spec.layers = {layer_};
    environment["PROBE_OUT"] = "/mnt/probe";
    spec.environment = std::move(environment);
    spec.mounts = {{.source = out_.string(), .target = "/mnt/probe", .read_only = false}};
    spec.reserved_concurrency = 1;  // one worker: the second invocation is warm
    return spec;
  }

  // Every event received so far, batch after batch.
  [[nodiscard]] std::vector<json::object> received() const {
    std::vector<json::object> events;
    // Whole lines only: the extension may be writing the last one.
    auto text = read_text(out_ / "received.jsonl");
    text.resize(text.rfind('\n') + 1);  // npos + 1 == 0: nothing whole yet
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto batch = json::parse(line);
      for (const auto& event : batch.as_array()) events.push_back(event.as_object());
    }
    return events;
  }

  // Polls what was received until `done` holds (at most 10 s); returns it.
  std::vector<json::object> wait_for(
      const std::function<bool(const std::vector<json::object>&)>& done) const {
    const auto until = Steady::now() + std::chrono::seconds(10);
    auto events = received();
    while (!done(events) && Steady::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      events = received();
    }
    return events;
  }

  std::vector<json::object> wait_for_report(const std::string& request_id) const {
    return wait_for([&](const auto& events) {
      return std::any_of(events.begin(), events.end(), [&](const json::object& e) {
        return e.at("type") == "platform.report" &&
               e.at("record").at("requestId").as_string() == request_id;
      });
    });
  }

  TempDir dir_{"ember-telemetry-"};
  fs::path layer_;
  fs::path out_;
};

TEST_F(Telemetry, PlatformEventsFunctionLinesAndReportArriveInOrder) {
  Node node({function()});
  const auto reply = node.invoke("watched", R"({"lines":3})");
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  const auto id = reply.header("x-amzn-requestid");
  const auto events = wait_for_report(id);
  std::string all;
  for (const auto& e : events) all += json::serialize(e) + "\n";

  // The init phase, delivered although the extension subscribed in the middle of it.
  const auto init_start = find_event(events, "platform.initStart");
  const auto extension = find_event(events, "platform.extension");
  const auto subscribed = find_event(events, "platform.telemetrySubscription");
  const auto runtime_done = find_event(events, "platform.initRuntimeDone");
  const auto init_report = find_event(events, "platform.initReport");
  const auto start = find_event(events, "platform.start", id);
  const auto done = find_event(events, "platform.runtimeDone", id);
  const auto report = find_event(events, "platform.report", id);
  ASSERT_LT(report, events.size()) << all;
  // The runtime and the extension initialise side by side: the runtime may be done before the
  // extension registers, but the init phase ends only after both.
  EXPECT_LT(init_start, extension) << all;
  EXPECT_LT(extension, subscribed) << all;
  EXPECT_LT(init_start, runtime_done) << all;
  EXPECT_LT(runtime_done, init_report) << all;
  EXPECT_LT(subscribed, init_report) << all;
  EXPECT_LT(init_report, start) << all;
  EXPECT_LT(start, done) << all;
  EXPECT_LT(done, report) << all;

  EXPECT_EQ(events[init_start].at("record").at("initializationType"), "on-demand");
  EXPECT_EQ(events[init_start].at("record").at("phase"), "init");
  EXPECT_EQ(events[init_start].at("record").at("functionName"), "watched");
  EXPECT_EQ(events[extension].at("record").at("name").as_string(), kProbe);
  EXPECT_EQ(events[extension].at("record").at("events"), json::parse(R"(["INVOKE","SHUTDOWN"])"));
  EXPECT_EQ(events[subscribed].at("record").at("types"), json::parse(R"(["platform","function"])"));
  EXPECT_EQ(events[init_report].at("record").at("status"), "success");
  EXPECT_TRUE(events[init_report].at("record").at("metrics").at("durationMs").is_double()) << all;
  EXPECT_EQ(events[start].at("record").at("version"), "$LATEST");
  EXPECT_TRUE(
      events[start].at("record").at("tracing").at("value").as_string().starts_with("Root=1-"));
  EXPECT_EQ(events[done].at("record").at("status"), "success");
  EXPECT_EQ(events[done].at("record").at("metrics").at("producedBytes"), 1);  // "3"

  // The function's lines, each a string record, between start and runtimeDone.
  std::vector<std::string> lines;
  for (std::size_t i = start; i < done; ++i) {
    if (events[i].at("type") == "function") {
      lines.emplace_back(events[i].at("record").as_string());
    }
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"line 1", "line 2", "line 3"})) << all;

  // Time is ISO 8601 in UTC with milliseconds, as Lambda stamps it.
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  for (const auto& e : events) {
    EXPECT_TRUE(std::regex_match(std::string(e.at("time").as_string()), kTime)) << e;
  }

  // The metrics are the REPORT line's.
  const auto fields = report_fields(node.logs("watched"), id);
  ASSERT_EQ(fields.size(), 5U) << node.logs("watched");
  const auto& record = events[report].at("record").as_object();
  const auto& metrics = record.at("metrics");
  EXPECT_EQ(record.at("status"), "success");
  EXPECT_EQ(metrics.at("durationMs").to_number<double>(), std::stod(fields.at("Duration")));
  EXPECT_EQ(metrics.at("billedDurationMs"), std::stoi(fields.at("Billed Duration")));
  EXPECT_EQ(metrics.at("memorySizeMB"), std::stoi(fields.at("Memory Size")));
  EXPECT_EQ(metrics.at("maxMemoryUsedMB"), std::stoi(fields.at("Max Memory Used")));
  EXPECT_EQ(metrics.at("initDurationMs").to_number<double>(),
            std::stod(fields.at("Init Duration")));

  // A warm invocation: its own start, lines and report, without an init duration.
  const auto warm = node.invoke("watched", R"({"lines":1})");
  ASSERT_EQ(warm.status, 200) << warm.body;
  const auto warm_id = warm.header("x-amzn-requestid");
  const auto later = wait_for_report(warm_id);
  const auto warm_report = find_event(later, "platform.report", warm_id);
  ASSERT_LT(warm_report, later.size());
  EXPECT_LT(find_event(later, "platform.start", warm_id), warm_report);
  EXPECT_FALSE(
      later[warm_report].at("record").at("metrics").as_object().contains("initDurationMs"));
  EXPECT_EQ(find_event(later, "platform.initStart", {}, init_start + 1), later.size())
      << "a warm invocation has no init";
}

TEST_F(Telemetry, SubscribeRefusesBadBodiesAndUnregisteredIdentifiers) {
  Node node({function()});
  ASSERT_EQ(node.invoke("watched", R"({"lines":0})").status, 200);
  const auto answers = json::parse(read_text(out_ / "api.json")).as_object();
  const auto expect = [&](const char* call, int status, const char* error_type) {
    EXPECT_EQ(answers.at(call).at("status"), status) << call << ": " << answers;
    EXPECT_EQ(answers.at(call).at("body").at("errorType"), error_type) << call << ": " << answers;
  };
  expect("unregistered", 403, "Extension.UnknownExtensionIdentifier");
  for (const char* bad : {"few_items", "short_timeout", "outside_host", "no_types", "old_schema"}) {
    expect(bad, 400, "ValidationError");
  }
  EXPECT_NE(
      answers.at("few_items").at("body").at("errorMessage").as_string().find("buffering.maxItems"),
      std::string::npos);
  EXPECT_EQ(answers.at("subscribe").at("status"), 200) << answers;
  EXPECT_EQ(answers.at("subscribe").at("body"), "OK") << answers;
  const auto logs = node.logs("watched");
  EXPECT_NE(
      logs.find("TELEMETRY\tName: telemetry-probe\tState: Subscribed\tTypes: "
                "[platform,function]\tDestination: http://sandbox.localdomain:4243/telemetry"),
      std::string::npos)
      << logs;
}

// A subscriber that stops answering for a while: the invocation does not wait for it, the
// events that do not fit its buffer are dropped, and it is told how many once it answers.
TEST_F(Telemetry, ASlowSubscriberLosesEventsAndIsToldButNeverDelaysTheCaller) {
  Node node({function({{"PROBE_STALL_FIRST_MS", "1500"}})});
  const auto started = Steady::now();
  const auto reply = node.invoke("watched", R"({"lines":6000})");
  const auto took = Steady::now() - started;
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  EXPECT_LT(took, std::chrono::milliseconds(1400)) << "the caller waited for the subscriber";
  const auto events = wait_for([](const auto& received) {
    return find_event(received, "platform.logsDropped") < received.size();
  });
  const auto dropped = find_event(events, "platform.logsDropped");
  ASSERT_LT(dropped, events.size());
  const auto& record = events[dropped].at("record");
  // 6000 lines and a few platform events into a buffer of four batches of 1000.
  EXPECT_GE(record.at("droppedRecords").to_number<std::int64_t>(), 1000) << record;
  EXPECT_GT(record.at("droppedBytes").to_number<std::int64_t>(), 0) << record;
  // Delivery goes on: the next invocation's report arrives.
  const auto next = node.invoke("watched", R"({"lines":1})");
  ASSERT_EQ(next.status, 200) << next.body;
  const auto after = wait_for_report(next.header("x-amzn-requestid"));
  EXPECT_LT(find_event(after, "platform.report", next.header("x-amzn-requestid")), after.size());
  // What fit in the buffer arrived: four batches' worth, less the platform events among them.
  std::size_t lines = 0;
  for (const auto& e : after) lines += e.at("type") == "function" ? 1U : 0U;
  EXPECT_LT(lines, 6000U);
  EXPECT_GE(lines, 3000U);
}

// Nothing listens where the extension subscribed: invocations go on as fast as ever.
TEST_F(Telemetry, ADeadDestinationDoesNotSlowInvocations) {
  Node node({function({{"PROBE_DESTINATION_PORT", "4244"}})});
  ASSERT_EQ(node.invoke("watched", R"({"lines":1})").status, 200);
  for (int i = 0; i < 5; ++i) {
    const auto started = Steady::now();
    const auto reply = node.invoke("watched", R"({"lines":50})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_LT(Steady::now() - started, std::chrono::milliseconds(500));
  }
  EXPECT_FALSE(fs::exists(out_ / "received.jsonl"));
  EXPECT_EQ(node.stop(), 0);
}

// Without a sandbox (`isolation: none`, as `ember rie` runs it): an internal extension, a thread
// of the runtime's process, subscribes and listens on the host's loopback, where the engine posts.
TEST(TelemetryWithoutSandbox, AnInternalExtensionReceivesThePlatformEvents) {
  FunctionSpec spec{.name = "inside", .code = testcases_dir() / "python" / "telemetry_internal"};
  spec.isolation = "none";
  Node node({spec});
  const auto first = node.invoke("inside", "{}");
  ASSERT_EQ(first.status, 200) << first.body << first.error;
  const auto id = first.header("x-amzn-requestid");
  // The second invocation answers what arrived, once the first one's report is there.
  const auto second = node.invoke("inside", R"({"report_of":")" + id + R"("})");
  ASSERT_EQ(second.status, 200) << second.body;
  std::vector<json::object> events;
  const auto answer = json::parse(second.body);
  for (const auto& event : answer.at("received").as_array()) {
    events.push_back(event.as_object());
  }
  const auto subscribed = find_event(events, "platform.telemetrySubscription");
  ASSERT_LT(subscribed, events.size()) << second.body;
  EXPECT_EQ(events[subscribed].at("record").at("name"), "internal-telemetry");
  EXPECT_LT(find_event(events, "platform.initStart"), subscribed) << second.body;
  const auto start = find_event(events, "platform.start", id);
  const auto report = find_event(events, "platform.report", id);
  EXPECT_LT(start, report) << second.body;
  ASSERT_LT(report, events.size()) << second.body;
  const auto fields = report_fields(node.logs("inside"), id);
  ASSERT_FALSE(fields.empty()) << node.logs("inside");
  EXPECT_EQ(events[report].at("record").at("metrics").at("durationMs").to_number<double>(),
            std::stod(fields.at("Duration")));
  EXPECT_EQ(find_event(events, "function"), events.size()) << "subscribed to platform only";
}

}  // namespace
}  // namespace ember::test
