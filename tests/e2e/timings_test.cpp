// X-Ember-Timings, the engine's phase timestamps that `ember bench` builds on.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "harness.hpp"

namespace ember::test {
namespace {

std::map<std::string, long long> parse_timings(const std::string& header) {
  std::map<std::string, long long> out;
  std::stringstream in(header);
  std::string item;
  while (std::getline(in, item, ';')) {
    const auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = std::stoll(item.substr(eq + 1));
  }
  return out;
}

TEST(Timings, ColdInvocationPhasesAreOrderedFromSandboxToAnswer) {
  Node node({{.name = "sleeps", .code = testcases_dir() / "python" / "sleeps"}});
  const auto reply = node.invoke("sleeps", R"({"seconds": 0.2})", {"X-Ember-Timings: 1"});
  ASSERT_EQ(reply.status, 200);
  const auto t = parse_timings(reply.header("x-ember-timings"));
  ASSERT_EQ(t.at("cold"), 1) << reply.header("x-ember-timings");
  EXPECT_GE(t.at("sandbox_begin"), 0) << "the sandbox is made for this request";
  EXPECT_LE(t.at("sandbox_begin"), t.at("spawned"));
  EXPECT_LE(t.at("spawned"), t.at("init_done"));
  EXPECT_LE(t.at("init_done"), t.at("assigned"));
  EXPECT_LE(t.at("assigned"), t.at("handed_out"));
  // The handler's known 200 ms sleep shows up between hand-out and answer.
  EXPECT_GE(t.at("answered") - t.at("handed_out"), 200'000);
  EXPECT_LT(t.at("answered") - t.at("handed_out"), 2'000'000);
}

TEST(Timings, WarmInvocationHasNoSandboxPhasesAndOnlyWithTheHeader) {
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}});
  ASSERT_EQ(node.invoke("echo", "{}").header("x-ember-timings"), "");
  const auto reply = node.invoke("echo", "{}", {"X-Ember-Timings: 1"});
  const auto t = parse_timings(reply.header("x-ember-timings"));
  EXPECT_EQ(t.at("cold"), 0);
  EXPECT_EQ(t.count("sandbox_begin"), 0U);
  EXPECT_GE(t.at("assigned"), 0);
  EXPECT_LE(t.at("assigned"), t.at("handed_out"));
  EXPECT_LE(t.at("handed_out"), t.at("answered"));
}

}  // namespace
}  // namespace ember::test
