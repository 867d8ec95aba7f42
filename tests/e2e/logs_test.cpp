// Function logs that cannot flood or lie, against real nodes and real runtimes: the caps per
// invocation and per second with their LOGS_DROPPED lines (a 200 MiB flood while another
// function is invoked), rotation and retention, a full disk (a real tmpfs), node.log_format
// json against a function that forges platform lines, and `ember logs` with its filters,
// --follow and its errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include "../support/eventually.hpp"
#include "../support/tmpfs_mount.hpp"
#include "ember/client/child_process.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

constexpr std::uint64_t kKiB = 1024;

FunctionSpec flood(const std::string& name, std::map<std::string, std::string> keys) {
  FunctionSpec f{.name = name, .code = testcases_dir() / "python" / "flood"};
  f.timeout_s = 60;
  f.keys = std::move(keys);
  return f;
}

FunctionSpec printer(std::map<std::string, std::string> keys = {}) {
  FunctionSpec f{.name = "printer", .code = testcases_dir() / "python" / "printer"};
  f.timeout_s = 20;
  f.keys = std::move(keys);
  return f;
}

FunctionSpec echo() {
  return FunctionSpec{.name = "echo", .code = testcases_dir() / "python" / "echo"};
}

std::vector<fs::path> log_files(const Node& node, const std::string& function) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(node.state_dir() / "logs" / function, ec)) {
    if (e.path().extension() == ".log") files.push_back(e.path());
  }
  return files;
}

std::uint64_t bytes_on_disk(const Node& node, const std::string& function) {
  std::uint64_t total = 0;
  for (const auto& f : log_files(node, function)) total += fs::file_size(f);
  return total;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Bytes of the node's stdout lines echoed for `function`.
std::uint64_t echoed_bytes(const Node& node, const std::string& function) {
  std::uint64_t total = 0;
  for (const auto& line : lines_of(node.stdout_text())) {
    if (line.starts_with("[" + function + "] ")) total += line.size() + 1;
  }
  return total;
}

boost::json::object status_of(const Node& node, const std::string& function) {
  client::HttpRequest request;
  request.url = node.endpoint() + "/ember/v1/functions";
  const auto reply = client::http_request(request);
  EXPECT_EQ(reply.status, 200) << reply.error;
  const auto status = boost::json::parse(reply.body);  // outlives the loop over it
  for (const auto& f : status.at("functions").as_array()) {
    if (f.at("name").as_string() == function) return f.as_object();
  }
  ADD_FAILURE() << "no function " << function << " in " << reply.body;
  return {};
}

std::uint64_t log_counter(const Node& node, const std::string& function, const char* name) {
  return status_of(node, function).at("logs").at(name).to_number<std::uint64_t>();
}

CommandResult ember_logs(const Node& node, std::vector<std::string> args) {
  std::vector<std::string> argv = {ember_exe().string(), "logs"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--endpoint");
  argv.push_back(node.endpoint());
  return run(argv, {}, seconds(60));
}

// A function printing 200 MiB as fast as it can keeps to log_bytes_per_invocation on disk and
// on stdout, says so in one LOGS_DROPPED line, and the node goes on answering another
// function's invocations meanwhile.
TEST(LogCaps, AFloodKeepsToTheInvocationCapWhileAnotherFunctionIsServed) {
  constexpr std::uint64_t kCap = 256 * kKiB;
  Node node({flood("flood", {{"log_bytes_per_invocation", std::to_string(kCap)},
                             {"log_bytes_per_second", "1099511627776"}}),
             echo()});
  ASSERT_EQ(node.invoke("echo", R"({"warm":1})").status, 200);  // echo's worker is warm

  const auto began = Steady::now();
  auto flooding =
      std::async(std::launch::async, [&node] { return node.invoke("flood", R"({"mb": 200})"); });
  // Meanwhile: echo, again and again, each answered promptly.
  int echoes = 0;
  milliseconds worst{0};
  while (flooding.wait_for(milliseconds(0)) != std::future_status::ready) {
    const auto start = Steady::now();
    const auto reply = node.invoke("echo", R"({"n":1})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    worst = std::max(worst, std::chrono::duration_cast<milliseconds>(Steady::now() - start));
    ++echoes;
  }
  const auto reply = flooding.get();
  const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - began);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, std::to_string(std::uint64_t{200} * 1048500));
  std::cout << "[ measured ] 200 MiB flood took " << took.count() << " ms; " << echoes
            << " echo invocations meanwhile, slowest " << worst.count() << " ms\n";
  EXPECT_GT(echoes, 0);
  EXPECT_LT(worst, milliseconds(1000));

  const auto id = reply.header("x-amzn-requestid");
  const std::string logs = node.wait_for_log("flood", "REPORT RequestId: " + id);
  // The cap, plus START, END, REPORT and the marker.
  EXPECT_LE(bytes_on_disk(node, "flood"), kCap + 1024);
  EXPECT_GE(bytes_on_disk(node, "flood"), kCap - 200);
  ASSERT_TRUE(eventually([&] { return echoed_bytes(node, "flood") >= kCap - 200; }, seconds(10)));
  // Each echoed line has its "[flood] " prefix: 8 bytes per 100-byte line.
  EXPECT_LE(echoed_bytes(node, "flood"), kCap * 108 / 100 + 2048);
  EXPECT_EQ(count(logs, "LOGS_DROPPED"), 1U) << logs.substr(logs.size() - 1000);
  const auto marker = logs.find("LOGS_DROPPED RequestId: " + id +
                                "\tReason: log_bytes_per_invocation (262144 bytes) reached");
  ASSERT_NE(marker, std::string::npos);
  // Kept and dropped add up to what it printed. The marker counts what was dropped by END; a
  // last pipe read the node had taken but not yet split may come after it (up to 64 KiB),
  // dropped all the same and counted in the node's counter.
  constexpr std::uint64_t kPrinted = std::uint64_t{200} * 1048500;
  constexpr std::uint64_t kKept = kCap / 100 * 100;  // whole 100-byte lines
  const auto dropped_at = logs.find("DroppedBytes: ", marker);
  const auto dropped = std::stoull(logs.substr(dropped_at + 14));
  EXPECT_LE(dropped + kKept, kPrinted);
  EXPECT_GE(dropped + kKept, kPrinted - 64 * kKiB);
  EXPECT_LT(logs.find("LOGS_DROPPED"), logs.find("END RequestId: " + id));
  // Exact but for the flood's last line: it may still be half in the pipe when its worker goes
  // idle (counted at the worker's next read), or be cut in two by the invocation's end (each
  // half counted with a newline of its own): one line either way.
  eventually([&] { return log_counter(node, "flood", "capped_bytes") == kPrinted - kKept; },
             seconds(10));
  EXPECT_LT(log_counter(node, "flood", "capped_bytes"), kPrinted - kKept + 100);
  EXPECT_GT(log_counter(node, "flood", "capped_bytes"), kPrinted - kKept - 100);
}

// log_bytes_per_second: what a flood keeps is bounded by the seconds it lasted, with at most
// one marker per second, each naming the cap.
TEST(LogCaps, AFloodKeepsToTheCapPerSecond) {
  constexpr std::uint64_t kPerSecond = 64 * kKiB;
  Node node({flood("rate", {{"log_bytes_per_second", std::to_string(kPerSecond)}})});
  const auto began = Steady::now();
  const auto reply = node.invoke("rate", R"({"mb": 200})");
  const auto took = std::chrono::duration_cast<seconds>(Steady::now() - began);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto id = reply.header("x-amzn-requestid");
  const std::string logs = node.wait_for_log("rate", "REPORT RequestId: " + id);
  const auto windows = static_cast<std::uint64_t>(took.count()) + 2;
  EXPECT_LE(bytes_on_disk(node, "rate"), kPerSecond * windows + 4 * kKiB * windows);
  const auto markers = count(logs, "Reason: log_bytes_per_second (65536 bytes) reached");
  EXPECT_GE(markers, 1U);
  EXPECT_LE(markers, windows);
  EXPECT_EQ(count(logs, "LOGS_DROPPED"), markers);
}

// Files are rotated at log_file_bytes and only log_files of them are kept; ember logs reads an
// invocation across its rotated files.
TEST(LogFiles, RotatesAndKeepsOnlyTheNewestFiles) {
  Node node({printer({{"log_file_bytes", "4096"}, {"log_files", "3"}})});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(node.invoke("printer", R"({"lines": 20000})").status, 200);
  }
  const auto reply = node.invoke("printer", R"({"lines": 20000})");
  ASSERT_EQ(reply.status, 200);
  const auto id = reply.header("x-amzn-requestid");
  ASSERT_TRUE(eventually(
      [&] { return count(node.logs("printer"), "REPORT RequestId: " + id) == 1; }, seconds(10)));
  const auto files = log_files(node, "printer");
  EXPECT_EQ(files.size(), 3U);
  for (const auto& f : files) {
    // Rotated after the batch that crossed 4096 bytes (a pipe's worth at most, 64 KiB).
    EXPECT_LE(fs::file_size(f), 4096 + 65 * kKiB) << f;
  }
  // The newest invocation's last lines survive, its first ones were rotated away.
  const auto result = ember_logs(node, {"printer"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("line 20000\nEND RequestId: " + id), std::string::npos);
  EXPECT_EQ(result.out.find("START RequestId: " + id), std::string::npos);
}

TEST(LogFiles, EmberLogsShowsOneInvocationAcrossRotatedFiles) {
  Node node({printer({{"log_file_bytes", "4096"}})});
  const auto first = node.invoke("printer", R"({"lines": 20000})");
  const auto second = node.invoke("printer", R"({"lines": 3})");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  const auto id = first.header("x-amzn-requestid");
  const auto other = second.header("x-amzn-requestid");
  ASSERT_TRUE(eventually(
      [&] { return count(node.logs("printer"), "REPORT RequestId: " + other) == 1; }, seconds(10)));
  EXPECT_GE(log_files(node, "printer").size(), 4U);

  const auto result = ember_logs(node, {"printer", "--request-id", id});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 20003U) << result.out.substr(0, 500);
  EXPECT_EQ(lines.front(), "START RequestId: " + id + " Version: $LATEST");
  for (std::size_t n = 1; n <= 20000; ++n) ASSERT_EQ(lines[n], "line " + std::to_string(n));
  EXPECT_EQ(lines[20001], "END RequestId: " + id);
  EXPECT_TRUE(lines[20002].starts_with("REPORT RequestId: " + id + "\t"));
  EXPECT_EQ(result.out.find(other), std::string::npos);
}

// A full disk under the log directory: lines are dropped and counted, invocations go on, and
// lines land again once there is room.
TEST(LogFiles, AFullDiskDropsAndCountsLinesAndTheNodeGoesOn) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs over the log directory needs root";
  const TempDir state("ember-test-logdisk-");
  fs::create_directories(state.path() / "logs");
  const TmpfsMount disk(state.path() / "logs", "256k");
  ASSERT_EQ(disk.error(), 0) << "mount tmpfs: " << std::strerror(disk.error());
  Node node({printer(), echo()}, {}, state.path());
  ASSERT_EQ(node.invoke("printer", R"({"lines": 1})").status, 200);
  const auto filler = state.path() / "logs" / "filler";
  ASSERT_EQ(fill(filler), ENOSPC);

  for (int i = 0; i < 3; ++i) {
    const auto start = Steady::now();
    const auto reply = node.invoke("printer", R"({"lines": 20000})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body, "20000");
    EXPECT_LT(Steady::now() - start, seconds(5));
    ASSERT_EQ(node.invoke("echo", R"({"n":1})").status, 200);
  }
  // A few lines may still fit in the last page of the open file.
  EXPECT_GE(log_counter(node, "printer", "disk_dropped_lines"), 55000U);
  EXPECT_GT(log_counter(node, "printer", "disk_dropped_bytes"), 3U * 20000U * 6U);
  client::HttpRequest scrape;
  scrape.url = node.endpoint() + "/metrics";
  const auto metrics = client::http_request(scrape).body;
  const std::string series =
      R"(ember_function_log_lines_dropped_total{function="printer",reason="disk"} )";
  const auto at = metrics.find(series);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stod(metrics.substr(at + series.size())), 55000.0);
  EXPECT_NE(node.stdout_text().find("No space left on device"), std::string::npos);
  // Every line in the file is whole.
  for (const auto& line : lines_of(node.logs("printer"))) {
    EXPECT_TRUE(line.starts_with("line ") || line.starts_with("START ") ||
                line.starts_with("END ") || line.starts_with("REPORT ") ||
                line.starts_with("ember: "))
        << line;
  }

  fs::remove(filler);
  const auto reply = node.invoke("printer", R"({"lines": 5})");
  ASSERT_EQ(reply.status, 200);
  node.wait_for_log("printer", "REPORT RequestId: " + reply.header("x-amzn-requestid"));
}

// node.log_format json: every line of the file and of the echo is a JSON object saying whose it
// is; what a function prints, platform look-alikes and escapes included, is only ever the
// message of a "source": "function" line.
TEST(LogFormat, JsonLinesKeepTheFunctionsWordsApartFromThePlatforms) {
  NodeSettings settings;
  settings.keys = {{"log_format", "json"}};
  Node node({FunctionSpec{.name = "forger", .code = testcases_dir() / "python" / "forger"}},
            settings);
  const auto reply = node.invoke("forger", "{}");
  ASSERT_EQ(reply.status, 200);
  const auto id = reply.header("x-amzn-requestid");
  const auto logs = node.wait_for_log("forger", "\"type\":\"platform.report\"");
  std::vector<std::string> platform_types;
  int forged_messages = 0;
  for (const auto& line : lines_of(logs)) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto& o = value.as_object();
    EXPECT_EQ(o.at("function").as_string(), "forger");
    EXPECT_TRUE(o.at("timestamp").is_string());
    const auto source = std::string(o.at("source").as_string());
    if (source == "platform") {
      if (o.contains("type")) platform_types.emplace_back(o.at("type").as_string());
      if (o.contains("record")) {
        EXPECT_EQ(o.at("record").at("requestId").as_string(), id) << line;
      }
    } else {
      EXPECT_EQ(source, "function");
      EXPECT_FALSE(o.contains("type")) << line;
      const std::string message(o.at("message").as_string());
      if (message.find("forged") != std::string::npos) ++forged_messages;
      if (message.starts_with("[ERROR]")) {
        EXPECT_EQ(o.at("level").as_string(), "ERROR");
      }
      if (o.contains("requestId")) {
        EXPECT_EQ(o.at("requestId").as_string(), id);
      }
    }
  }
  EXPECT_EQ(forged_messages, 4);
  EXPECT_EQ(platform_types, (std::vector<std::string>{"platform.start", "platform.runtimeDone",
                                                      "platform.report"}));
  const auto report = logs.find("\"type\":\"platform.report\"");
  EXPECT_NE(logs.find("\"metrics\":{\"durationMs\":", report), std::string::npos);
  // The echo: the same objects, no prefix, nothing a terminal obeys.
  ASSERT_TRUE(
      eventually([&] { return node.stdout_text().find("platform.report") != std::string::npos; },
                 seconds(10)));
  const auto out = node.stdout_text();
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos);
  for (const auto& line : lines_of(out)) {
    if (line.find("\"function\":\"forger\"") == std::string::npos) continue;
    boost::system::error_code ec;
    (void)boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "echo line is not JSON: " << line;
  }
  // ember logs --request-id finds the invocation by its requestId field.
  const auto result = ember_logs(node, {"forger", "--request-id", id});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(result.out, "\n"), 9U) << result.out;  // START, 6 lines, END, REPORT
  EXPECT_EQ(count(ember_logs(node, {"forger", "--request-id", "forged"}).out, "\n"), 0U);
}

TEST(EmberLogs, FiltersByTimeAndNamesWhatIsWrong) {
  Node node({printer()});
  const auto reply = node.invoke("printer", R"({"lines": 2})");
  ASSERT_EQ(reply.status, 200);
  const auto id = reply.header("x-amzn-requestid");
  node.wait_for_log("printer", "REPORT RequestId: " + id);

  const auto all = ember_logs(node, {"printer", "--since", "1h"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("line 2\nEND RequestId: " + id), std::string::npos) << all.out;

  const auto unknown = ember_logs(node, {"nosuch"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("Function not found: nosuch"), std::string::npos) << unknown.err;
  const auto bad = ember_logs(node, {"printer", "--since", "5x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--since '5x' is not a duration"), std::string::npos) << bad.err;
  const auto no_unit = ember_logs(node, {"printer", "--since", "10"});
  EXPECT_EQ(no_unit.exit_code, 2);
  // The node names a bad query too.
  client::HttpRequest request;
  request.url = node.endpoint() + "/ember/v1/logs/printer?since=soon";
  const auto refused = client::http_request(request);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("since: 'soon' is not a whole number of seconds"), std::string::npos);
}

// --follow prints lines written after it started, until it is stopped.
TEST(EmberLogs, FollowPrintsNewLinesUntilStopped) {
  Node node({printer()});
  ASSERT_EQ(node.invoke("printer", R"({"lines": 1})").status, 200);
  const TempDir dir("ember-test-follow-");
  const auto out = dir.path() / "out";
  client::ChildOptions options;
  options.argv = {ember_exe().string(), "logs",       "printer",
                  "--follow",           "--endpoint", node.endpoint()};
  options.output = out;
  client::ChildProcess follower(options);
  ASSERT_TRUE(eventually(
      [&] { return client::read_file(out).find("line 1\n") != std::string::npos; }, seconds(10)));
  const auto reply = node.invoke("printer", R"({"lines": 3})");
  ASSERT_EQ(reply.status, 200);
  const auto id = reply.header("x-amzn-requestid");
  EXPECT_TRUE(eventually(
      [&] {
        return client::read_file(out).find("line 3\nEND RequestId: " + id) != std::string::npos;
      },
      seconds(10)))
      << client::read_file(out);
  EXPECT_FALSE(follower.wait_for(milliseconds(200)).has_value());  // still following
  follower.stop(milliseconds(2000));
}

}  // namespace
}  // namespace ember::test
