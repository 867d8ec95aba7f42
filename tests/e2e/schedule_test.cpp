// Schedules through a real `ember serve`: a rate rule sped up with --time-scale delivers the
// Scheduled Event to a Python function in its native sandbox, once per period.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <iterator>
#include <regex>

#include "../support/eventually.hpp"
#include "ember/client/local_node.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Schedules, ARateRuleInvokesTheFunctionWithTheScheduledEventOncePerPeriod) {
  client::NodeFunction printer{.name = "cron",
                               .runtime = "python3",
                               .handler = "lambda_function.lambda_handler",
                               .code = testcases_dir() / "python" / "logs_event"};
  printer.schedules = {{.name = "every-minute", .expression = "rate(1 minute)"}};
  client::LocalNodeSpec spec{.ember = ember_exe(), .functions = {printer}};
  spec.time_scale = 600;  // a minute every 100 ms
  client::LocalNode node(spec);
  const auto logs = [&] {
    std::string all;
    const auto dir = node.state_dir() / "logs" / "cron";
    if (!std::filesystem::exists(dir)) return all;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path());
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  };
  ASSERT_TRUE(eventually([&] { return count(logs(), "REPORT RequestId: ") >= 3; }))
      << logs() << node.stdout_text();
  const auto ps = run({ember_exe().string(), "ps", "--endpoint", "http://" + node.address()});
  EXPECT_NE(ps.out.find("cron                     schedule every-minute rate(1 minute): fired "),
            std::string::npos)
      << ps.out << ps.err;
  node.stop();
  const std::string text = logs();
  // One START, END and REPORT per tick, and each tick's event as the function printed it.
  EXPECT_EQ(count(text, "START RequestId: "), count(text, "END RequestId: "));
  EXPECT_EQ(count(text, "START RequestId: "), count(text, "REPORT RequestId: "));
  const std::regex printed(R"(EVENT (\{.*\}))");
  std::size_t events = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), printed), end; it != end; ++it) {
    const auto event = boost::json::parse((*it)[1].str()).as_object();
    EXPECT_EQ(event.at("detail-type"), "Scheduled Event");
    EXPECT_EQ(event.at("source"), "aws.events");
    EXPECT_EQ(event.at("resources").as_array().at(0),
              "arn:aws:events:us-east-1:000000000000:rule/every-minute");
    ++events;
  }
  EXPECT_EQ(events, count(text, "START RequestId: "));
  EXPECT_GE(events, 3U);
}

}  // namespace
}  // namespace ember::test
