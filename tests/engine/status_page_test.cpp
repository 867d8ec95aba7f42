// The status page's pieces without a node: the ring of recent REPORTs, and the HTML drawn from
// a status document whose every text is hostile (the real node's page: tests/e2e).
#include "ember/engine/status_page.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <set>

#include "latency_plot.hpp"
#include "recent_reports.hpp"

namespace ember::engine {
namespace {

using namespace std::chrono_literals;

ReportFields report(const std::string& id, std::chrono::nanoseconds duration,
                    std::optional<std::chrono::nanoseconds> init = std::nullopt) {
  return {.request_id = id,
          .duration = duration,
          .memory_size_mb = 256,
          .max_memory_used_bytes = 5 * 1024 * 1024 + 1,
          .init_duration = init};
}

TEST(RecentReports, KeepsTheLastFiftyNewestFirst) {
  RecentReports ring;
  const auto when = std::chrono::system_clock::time_point(1'700'000'000s);
  for (int i = 1; i <= 60; ++i) {
    ring.record("f" + std::to_string(i % 3), report("id-" + std::to_string(i), 1ms),
                Outcome::kSuccess, {}, when);
  }
  const auto json = ring.to_json();
  ASSERT_EQ(json.size(), RecentReports::kCapacity);
  EXPECT_EQ(ring.recorded(), 60U);
  EXPECT_EQ(json.front().at("request_id"), "id-60");
  EXPECT_EQ(json.front().at("sequence"), 60);
  EXPECT_EQ(json.back().at("request_id"), "id-11");
  EXPECT_EQ(json.back().at("function"), "f2");
}

TEST(RecentReports, GivesEachReportsFigures) {
  RecentReports ring;
  const auto when = std::chrono::system_clock::time_point(1'700'000'000s) + 123ms;
  ring.record("cold", report("a", 1'234'567ns, 250ms), Outcome::kSuccess, {}, when);
  ring.record("warm", report("b", 999ns), Outcome::kError, "Handled.Error", when);
  const auto json = ring.to_json();
  ASSERT_EQ(json.size(), 2U);
  const auto& warm = json[0].as_object();
  const auto& cold = json[1].as_object();
  EXPECT_EQ(cold.at("ended"), "2023-11-14T22:13:20.123Z");
  EXPECT_DOUBLE_EQ(cold.at("duration_ms").as_double(), 1.234567);
  EXPECT_EQ(cold.at("billed_duration_ms"), 2);
  EXPECT_DOUBLE_EQ(cold.at("init_duration_ms").as_double(), 250.0);
  EXPECT_EQ(cold.at("cold"), true);
  EXPECT_EQ(cold.at("memory_size_mb"), 256);
  EXPECT_EQ(cold.at("max_memory_used_mb"), 6);
  EXPECT_EQ(cold.at("outcome"), "success");
  EXPECT_FALSE(cold.contains("error_type"));
  EXPECT_TRUE(warm.at("init_duration_ms").is_null());
  EXPECT_EQ(warm.at("cold"), false);
  EXPECT_EQ(warm.at("billed_duration_ms"), 1);  // at least 1 ms, as Lambda bills
  EXPECT_EQ(warm.at("outcome"), "error");
  EXPECT_EQ(warm.at("error_type"), "Handled.Error");
}

// A node's status whose every text is markup.
constexpr const char* kHostile = R"(<script>alert(1)</script>"'&<img src=x onerror=alert(2)>)";

boost::json::object hostile_status() {
  const boost::json::string h(kHostile);
  boost::json::object worker{{"id", h},          {"pid", 42},          {"state", h},
                             {"kind", h},        {"sandbox", h},       {"age_s", 1.5},
                             {"invocations", 2}, {"last_used_s", 0.5}, {"memory_peak_mb", 5}};
  boost::json::object idle_worker = worker;
  idle_worker["state"] = "idle";
  boost::json::object function{{"name", h},
                               {"runtime", h},
                               {"handler", h},
                               {"memory_mb", 128},
                               {"timeout_s", 3},
                               {"reserved_concurrency", 10},
                               {"provisioned", 0},
                               {"invocations", 2},
                               {"cold_starts", 1},
                               {"throttles", 0},
                               {"waiting", 0},
                               {"workers", boost::json::array{worker, idle_worker}},
                               {"http", {{"path", h}, {"format", h}}},
                               {"async", {{"queued", 3}, {"running", 1}, {"oldest_age_s", 12.5}}},
                               {"billed",
                                {{"requests", 2},
                                 {"gb_seconds", 0.000375},
                                 {"requests_usd", 0.0000004},
                                 {"compute_usd", 0.00000000625},
                                 {"cost_usd", 0.00000040625}}}};
  boost::json::array recent{{{"function", h},
                             {"request_id", h},
                             {"ended", h},
                             {"duration_ms", 1.5},
                             {"billed_duration_ms", 2},
                             {"memory_size_mb", 128},
                             {"max_memory_used_mb", 5},
                             {"init_duration_ms", nullptr},
                             {"cold", false},
                             {"outcome", "error"},
                             {"error_type", h}},
                            {{"function", h},
                             {"request_id", "cold-one"},
                             {"ended", "2026-12-03T10:00:00.000Z"},
                             {"duration_ms", 2.25},
                             {"billed_duration_ms", 3},
                             {"memory_size_mb", 128},
                             {"max_memory_used_mb", 5},
                             {"init_duration_ms", 120.5},
                             {"cold", true},
                             {"outcome", h}}};
  return {{"functions", boost::json::array{function}},
          {"recent", recent},
          {"cost",
           {{"requests", 2},
            {"gb_seconds", 0.000375},
            {"requests_usd", 0.0000004},
            {"compute_usd", 0.00000000625},
            {"cost_usd", 0.00000040625},
            {"usd_per_million_requests", 0.2},
            {"usd_per_gb_second", 0.0000166667},
            {"free_tier",
             {{"free_requests", 1000000},
              {"free_gb_seconds", 400000},
              {"requests", 2},
              {"gb_seconds", 0.000375},
              {"covered_usd", 0.00000040625}}},
            {"due_usd", 0.0}}},
          {"memory_budget_mb", 1024},
          {"memory_used_mb", 256},
          {"max_workers", 256},
          {"workers", 2}};
}

std::string page_of(const boost::json::object& status) {
  return render_status_page(status, std::chrono::system_clock::time_point(1'700'000'000s));
}

TEST(StatusPage, EveryTextFromTheStatusIsEscaped) {
  const auto page = page_of(hostile_status());
  // Only the page's own elements: no text became a tag.
  const std::set<std::string> allowed = {"html", "head", "meta", "title", "style", "body",
                                         "h1",   "h2",   "h3",   "p",     "a",     "table",
                                         "tr",   "th",   "td",   "span",  "code",  "b",
                                         "svg",  "rect", "line", "text",  "circle"};
  const std::regex tag(R"(<\/?([a-zA-Z][a-zA-Z0-9]*))");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), tag); it != std::sregex_iterator();
       ++it) {
    EXPECT_TRUE(allowed.contains((*it)[1].str())) << "unexpected element <" << (*it)[1] << ">";
  }
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  const std::string escaped =
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;";
  // Name, runtime, handler, worker id, state, kind, sandbox, route, request id, error type...
  EXPECT_GE(std::count(page.begin(), page.end(), '\n'), 10);
  std::size_t found = 0;
  for (auto at = page.find(escaped); at != std::string::npos; at = page.find(escaped, at + 1)) {
    ++found;
  }
  EXPECT_GE(found, 12U) << page;
  // An unknown state gets no class of its own making.
  EXPECT_NE(page.find("class=\"state state-other\""), std::string::npos);
  EXPECT_NE(page.find("class=\"state state-idle\""), std::string::npos);
}

TEST(StatusPage, IsSelfContainedAndReloadsItself) {
  const auto page = page_of(hostile_status());
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(page.find(R"(<meta http-equiv="refresh" content="5">)"), std::string::npos);
  EXPECT_NE(page.find(R"(<meta charset="utf-8">)"), std::string::npos);
  for (const char* external : {"src=\"", "url(", "@import", "<script", "<link", "https://",
                               "@font-face", "<iframe", "<object"}) {
    EXPECT_EQ(page.find(external), std::string::npos) << external;
  }
  // Links only to the node's own routes.
  const std::regex href(R"re(href="([^"]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), href); it != std::sregex_iterator();
       ++it) {
    const auto target = (*it)[1].str();
    EXPECT_TRUE(target == "/ember/v1/functions" || target == "/metrics") << target;
  }
}

TEST(StatusPage, ShowsFunctionsWorkersReportsQueuesAndCost) {
  const auto page = page_of(hostile_status());
  EXPECT_NE(page.find("As of 2023-11-14T22:13:20.000Z"), std::string::npos);
  EXPECT_NE(page.find("Workers: 2 of 256; memory: 256 of 1024 MB"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"n\">128 MB</td><td class=\"n\">3 s</td><td>10 reserved</td>"),
            std::string::npos);
  // The cold REPORT with its Init Duration, the warm one without.
  EXPECT_NE(page.find("<td class=\"id\">cold-one</td><td class=\"n\">2.25 ms</td><td "
                      "class=\"n\">3 ms</td><td class=\"n\">120.50 ms</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<td class=\"n\">1.50 ms</td><td class=\"n\">2 ms</td><td "
                      "class=\"n\"></td><td class=\"n\">128 MB</td><td class=\"n\">5 MB</td>"),
            std::string::npos);
  // The queue: 3 queued, 1 running, the oldest 12.5 s old.
  EXPECT_NE(page.find("<td class=\"n\">3</td><td class=\"n\">1</td><td class=\"n\">12.5 s</td>"),
            std::string::npos);
  // Cost as `ember cost` prints it, the free tier apart, the prices used.
  EXPECT_NE(page.find("<td>all functions</td><td class=\"n\">2</td><td class=\"n\">0.000375</td>"
                      "<td class=\"n\">0.00000040</td>"),
            std::string::npos);
  EXPECT_NE(page.find("Free tier (1000000 requests and 400000 GB-seconds a month), shown apart: "
                      "covers 2 requests"),
            std::string::npos);
  EXPECT_NE(page.find("at 0.2 USD per million requests and 0.0000166667 USD per GB-second"),
            std::string::npos);
  // One cold square, one warm circle, in their colours.
  EXPECT_NE(page.find(std::string("<rect class=\"cold\"")), std::string::npos);
  EXPECT_NE(page.find(std::string("fill=\"") + kColdColour + "\""), std::string::npos);
  EXPECT_NE(page.find(std::string("<circle class=\"warm\"")), std::string::npos);
  EXPECT_NE(page.find(std::string("fill=\"") + kWarmColour + "\""), std::string::npos);
  EXPECT_NE(page.find("1 cold (median 122.75 ms), 1 warm (median 1.50 ms)"), std::string::npos);
}

TEST(StatusPage, SaysSoWhenTheNodeKeepsNoFigures) {
  auto status = hostile_status();
  status["recent"] = nullptr;
  status["cost"] = nullptr;
  const auto page = page_of(status);
  EXPECT_NE(page.find("node.metrics is off"), std::string::npos);
  EXPECT_EQ(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("href=\"/metrics\""), std::string::npos);
  // Functions and workers are shown all the same.
  EXPECT_NE(page.find("class=\"state state-idle\""), std::string::npos);
}

TEST(LatencyPlot, PlacesSlowerInvocationsHigherOnALogScale) {
  const boost::json::object fast{{"duration_ms", 0.1}, {"cold", false}, {"outcome", "success"}};
  const boost::json::object slow{{"duration_ms", 100.0}, {"cold", false}, {"outcome", "success"}};
  const auto svg = latency_plot_svg({&fast, &slow});
  const std::regex cy(R"re(cy="([0-9.]+)")re");
  std::vector<double> ys;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cy); it != std::sregex_iterator();
       ++it) {
    ys.push_back(std::stod((*it)[1].str()));
  }
  ASSERT_EQ(ys.size(), 2U);
  EXPECT_GT(ys[0], ys[1]);  // SVG's y grows downwards
  EXPECT_NE(svg.find(">0.1 ms<"), std::string::npos);
  EXPECT_NE(svg.find(">100 ms<"), std::string::npos);
  EXPECT_EQ(latency_plot_svg({}), "");
}

}  // namespace
}  // namespace ember::engine
