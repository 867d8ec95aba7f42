// GET /metrics and `ember cost` against a real node: invocations that succeed, fail, time out,
// crash and are throttled, then the counters and histograms a scrape shows, the whole text
// checked by Prometheus' own `promtool check metrics`, and the cost table.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "../support/eventually.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

// Every sample of a scrape: `name{labels}` (as written) to its value.
using Samples = std::map<std::string, double>;

Samples parse_samples(const std::string& text) {
  Samples out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    out[line.substr(0, space)] =
        value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return out;
}

HttpReply scrape(const Node& node) {
  client::HttpRequest request;
  request.url = node.endpoint() + "/metrics";
  return client::http_request(request);
}

Samples scrape_samples(const Node& node) {
  const auto reply = scrape(node);
  EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
  return parse_samples(reply.body);
}

// The value of one series; fails the test when the scrape lacks it.
double at(const Samples& samples, const std::string& series) {
  const auto it = samples.find(series);
  EXPECT_NE(it, samples.end()) << "no series " << series;
  return it == samples.end() ? -1 : it->second;
}

std::string of(const std::string& name, const std::string& function, const std::string& more = "") {
  return name + "{function=\"" + function + "\"" + (more.empty() ? "" : "," + more) + "}";
}

std::string invocations(const std::string& function, const std::string& outcome) {
  return of("ember_function_invocations_total", function, "outcome=\"" + outcome + "\"");
}

std::vector<FunctionSpec> mixed_functions() {
  return {
      {.name = "echo", .code = testcases_dir() / "python" / "echo"},
      {.name = "raises", .code = testcases_dir() / "python" / "raises"},
      {.name = "sleeps", .code = testcases_dir() / "python" / "sleeps", .timeout_s = 1},
      {.name = "crash",
       .runtime = "provided",
       .handler = "",
       .code = testcases_dir() / "provided" / "crash"},
      // reserved_concurrency 0 disables it: every invocation is throttled.
      {.name = "off", .code = testcases_dir() / "python" / "echo", .reserved_concurrency = 0},
  };
}

TEST(Metrics, CountsEachOutcomeAndObservesDurationsOfARealNode) {
  Node node(mixed_functions());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(node.invoke("echo", R"({"n":1})").status, 200);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(node.invoke("raises", "{}").header("x-amz-function-error"), "Unhandled");
  }
  ASSERT_EQ(node.invoke("sleeps", R"({"seconds": 5})").header("x-amz-function-error"), "Unhandled");
  ASSERT_EQ(node.invoke("crash", "{}").header("x-amz-function-error"), "Unhandled");
  ASSERT_EQ(node.invoke("off", "{}").status, 429);

  const auto reply = scrape(node);
  ASSERT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto s = parse_samples(reply.body);

  EXPECT_EQ(at(s, invocations("echo", "success")), 3);
  EXPECT_EQ(at(s, invocations("echo", "error")), 0);
  EXPECT_EQ(at(s, invocations("raises", "error")), 2);
  EXPECT_EQ(at(s, invocations("sleeps", "timeout")), 1);
  EXPECT_EQ(at(s, invocations("crash", "crash")), 1);
  EXPECT_EQ(at(s, invocations("off", "throttle")), 1);
  EXPECT_EQ(at(s, invocations("off", "success")), 0);
  EXPECT_EQ(at(s, of("ember_function_errors_total", "echo")), 0);
  EXPECT_EQ(at(s, of("ember_function_errors_total", "raises")), 2);
  EXPECT_EQ(at(s, of("ember_function_errors_total", "sleeps")), 1);
  EXPECT_EQ(at(s, of("ember_function_errors_total", "crash")), 1);
  EXPECT_EQ(at(s, of("ember_function_throttles_total", "off")), 1);
  EXPECT_EQ(at(s, of("ember_function_cold_starts_total", "echo")), 1);

  // One REPORT per invocation that ran; the timed-out one lasted its 1 s timeout.
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_count", "echo")), 3);
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_count", "raises")), 2);
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_count", "off")), 0);
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_bucket", "echo", "le=\"+Inf\"")), 3);
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_bucket", "sleeps", "le=\"0.5\"")), 0);
  EXPECT_EQ(at(s, of("ember_function_duration_seconds_bucket", "sleeps", "le=\"2.5\"")), 1);
  EXPECT_GE(at(s, of("ember_function_duration_seconds_sum", "sleeps")), 1.0);
  // Only the cold start shows an Init Duration.
  EXPECT_EQ(at(s, of("ember_function_init_duration_seconds_count", "echo")), 1);
  EXPECT_GT(at(s, of("ember_function_init_duration_seconds_sum", "echo")), 0);

  // Billed: Billed Duration x 128 MB; the timed-out second alone is at least 0.125 GB-s.
  EXPECT_EQ(at(s, of("ember_function_billed_requests_total", "echo")), 3);
  EXPECT_EQ(at(s, of("ember_function_billed_requests_total", "off")), 0);
  EXPECT_GE(at(s, of("ember_function_gigabyte_seconds_total", "sleeps")), 0.125);
  EXPECT_LT(at(s, of("ember_function_gigabyte_seconds_total", "sleeps")), 0.5);
  EXPECT_GT(at(s, of("ember_function_cost_usd", "sleeps")), 0);
  EXPECT_EQ(at(s, "ember_node_free_tier_requests"), 7);
  EXPECT_EQ(at(s, "ember_node_cost_after_free_tier_usd"), 0);

  // The warm echo worker waits (idle, already frozen, or on its way back to `next`); the
  // timed-out and crashed ones ended.
  EXPECT_EQ(at(s, of("ember_function_workers", "echo", "state=\"idle\"")) +
                at(s, of("ember_function_workers", "echo", "state=\"frozen\"")) +
                at(s, of("ember_function_workers", "echo", "state=\"answered\"")),
            1);
  EXPECT_EQ(at(s, of("ember_function_workers", "sleeps", "state=\"busy\"")), 0);
  EXPECT_EQ(at(s, of("ember_function_workers", "echo", "state=\"busy\"")), 0);
  EXPECT_EQ(at(s, of("ember_function_concurrent_executions", "echo")), 0);
  EXPECT_GE(at(s, "ember_node_workers"), 1);
  EXPECT_EQ(at(s, "ember_node_memory_used_bytes"), at(s, "ember_node_workers") * 128 * 1024 * 1024);
  EXPECT_GT(at(s, "ember_node_memory_budget_bytes"), 0);
  // Every cold start had a sandbox made, ahead of time or for it.
  EXPECT_GE(at(s, "ember_node_sandbox_creation_seconds_count{when=\"ahead\"}") +
                at(s, "ember_node_sandbox_creation_seconds_count{when=\"at_start\"}"),
            1);
  // The node has an event queue: its families are there, empty.
  EXPECT_EQ(at(s, of("ember_function_async_queue_depth", "echo")), 0);
}

TEST(Metrics, WholeOutputPassesPromtoolCheckMetrics) {
  Node node(mixed_functions());
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);
  ASSERT_EQ(node.invoke("raises", "{}").status, 200);
  ASSERT_EQ(node.invoke("off", "{}").status, 429);
  const auto reply = scrape(node);
  ASSERT_EQ(reply.status, 200);
  const auto file = node.dir() / "metrics.txt";
  std::ofstream(file) << reply.body;
  const auto which = run({"/bin/sh", "-c", "command -v promtool"});
  ASSERT_EQ(which.exit_code, 0) << "promtool is missing: scripts/setup.sh installs Debian's "
                                   "prometheus package, which has it";
  // promtool reads the exposition text on stdin; it prints each problem and exits non-zero.
  const auto check = run({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");
}

TEST(Metrics, CountsAsynchronousEventsAndTheirQueue) {
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}});
  ASSERT_EQ(node.invoke("echo", "{}", {"X-Amz-Invocation-Type: Event"}).status, 202);
  ASSERT_EQ(node.invoke("echo", "{}", {"X-Amz-Invocation-Type: Event"}).status, 202);
  Samples s;
  EXPECT_TRUE(eventually([&] {
    s = scrape_samples(node);
    return s[of("ember_function_async_settled_total", "echo", "outcome=\"succeeded\"")] == 2;
  })) << "two events never succeeded";
  EXPECT_EQ(at(s, of("ember_function_async_accepted_total", "echo")), 2);
  EXPECT_EQ(at(s, of("ember_function_async_queue_depth", "echo")), 0);
  EXPECT_EQ(at(s, of("ember_function_async_oldest_event_age_seconds", "echo")), 0);
  // Events run through the same pool: they are invocations too.
  EXPECT_EQ(at(s, invocations("echo", "success")), 2);
}

TEST(Metrics, OffServesNoMetricsAndKeepsNoCost) {
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}}, {.metrics = false});
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);
  EXPECT_NE(scrape(node).status, 200);
  const auto cost = run({ember_exe().string(), "cost", "--endpoint", node.endpoint()});
  EXPECT_EQ(cost.exit_code, 2);
  EXPECT_NE(cost.err.find("keeps no cost figures (node.metrics: false"), std::string::npos)
      << cost.err;
}

// A field of the whitespace-separated row that starts with `first`.
std::vector<std::string> row(const std::string& text, const std::string& first) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> fields;
    std::string word;
    while (words >> word) fields.push_back(word);
    if (!fields.empty() && fields[0] == first) return fields;
  }
  return {};
}

TEST(Cost, EmberCostPricesEachFunctionAtTheNodesPricesWithTheFreeTierApart) {
  // Round prices make the arithmetic visible: $1 a request, $1 a GB-second, a free tier of
  // one request and no GB-seconds.
  Node node({{.name = "sleeps", .code = testcases_dir() / "python" / "sleeps", .memory_mb = 256},
             {.name = "echo", .code = testcases_dir() / "python" / "echo"}},
            {.cost = {{"usd_per_million_requests", "1000000"},
                      {"usd_per_gb_second", "1"},
                      {"free_requests", "1"},
                      {"free_gb_seconds", "0"}}});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(node.invoke("sleeps", R"({"seconds": 0.2})").status, 200);
  }
  ASSERT_EQ(node.invoke("echo", "{}").status, 200);

  // The node's own figures, which the table must show.
  client::HttpRequest request;
  request.url = node.endpoint() + "/ember/v1/functions";
  const auto status = boost::json::parse(client::http_request(request).body).as_object();
  double sleeps_gb_s = -1;
  for (const auto& f : status.at("functions").as_array()) {
    if (f.at("name") == "sleeps") sleeps_gb_s = f.at("billed").at("gb_seconds").to_number<double>();
  }
  // Two Billed Durations of at least 200 ms at 0.25 GB.
  EXPECT_GE(sleeps_gb_s, 2 * 0.2 * 0.25);
  EXPECT_LT(sleeps_gb_s, 2 * 1.0 * 0.25);

  const auto cost = run({ember_exe().string(), "cost", "--endpoint", node.endpoint()});
  ASSERT_EQ(cost.exit_code, 0) << cost.err;
  const auto sleeps = row(cost.out, "sleeps");
  ASSERT_EQ(sleeps.size(), 6U) << cost.out;
  EXPECT_EQ(sleeps[1], "2");
  EXPECT_NEAR(std::stod(sleeps[2]), sleeps_gb_s, 1e-6);
  EXPECT_NEAR(std::stod(sleeps[3]), 2.0, 1e-9);                // requests USD
  EXPECT_NEAR(std::stod(sleeps[4]), sleeps_gb_s, 1e-6);        // compute USD
  EXPECT_NEAR(std::stod(sleeps[5]), 2.0 + sleeps_gb_s, 1e-6);  // total
  const auto echo = row(cost.out, "echo");
  ASSERT_EQ(echo.size(), 6U) << cost.out;
  EXPECT_EQ(echo[1], "1");
  const auto all = row(cost.out, "all");  // "all functions ..."
  ASSERT_EQ(all.size(), 7U) << cost.out;
  EXPECT_EQ(all[2], "3");
  EXPECT_NE(cost.out.find("free tier (1 requests and 0 GB-seconds a month): covers 1 requests and "
                          "0.000000 GB-seconds, 1.00000000 USD"),
            std::string::npos)
      << cost.out;
  // Due: the two other requests and every GB-second.
  const auto due_at = cost.out.find("due after the free tier: ");
  ASSERT_NE(due_at, std::string::npos) << cost.out;
  const double due = std::stod(cost.out.substr(due_at + 25));
  EXPECT_NEAR(due, 2.0 + std::stod(all[3]), 1e-6);
}

}  // namespace
}  // namespace ember::test
