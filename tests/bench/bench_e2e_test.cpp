// `ember bench` end to end against the no-op C runtime: the JSON it prints holds ordered
// engine phases and totals that add up. Speed is never asserted.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

namespace {

namespace json = boost::json;

struct Output {
  int status = -1;
  std::string text;
};

// Runs `ember bench ARGS --json` and captures stdout (the node's own output goes to its log).
Output run_bench(const std::string& args) {
  const std::string command = std::string(EMBER_BINARY_DIR) + "/ember bench " + args + " --json";
  Output out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.text.append(buf, n);
  out.status = ::pclose(pipe);
  return out;
}

// Series by "group: name", samples in invocation order.
std::map<std::string, std::vector<double>> series(const json::object& doc) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& s : doc.at("series").as_array()) {
    const auto& o = s.as_object();
    auto& samples =
        out[std::string(o.at("group").as_string()) + ": " + std::string(o.at("name").as_string())];
    for (const auto& v : o.at("samples_us").as_array()) samples.push_back(v.to_number<double>());
  }
  return out;
}

std::vector<std::string> phase_names(const json::object& doc, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& s : doc.at("series").as_array()) {
    const auto& o = s.as_object();
    if (o.at("group").as_string() == group && o.at("kind").as_string() == "phase") {
      out.emplace_back(o.at("name").as_string());
    }
  }
  return out;
}

TEST(BenchEndToEnd, WarmRunHasOrderedPhasesAndEngineAddedWithinTheTotal) {
  const auto out = run_bench("warm -n 20");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  const auto& total = s.at("warm: client total");
  ASSERT_EQ(total.size(), 20U);
  const auto names = phase_names(doc, "warm");
  ASSERT_GE(names.size(), 3U);
  EXPECT_EQ(names.front().substr(0, 9), "request->");
  EXPECT_EQ(names.back(), "answered->client");
  for (std::size_t i = 0; i < total.size(); ++i) {
    double sum = 0;
    for (const auto& name : names) {
      const double step = s.at("warm: " + name).at(i);
      EXPECT_GE(step, 0) << name << " of invocation " << i << ": stamps out of order";
      sum += step;
    }
    EXPECT_NEAR(sum, total[i], 1.0) << "the steps add up to what the client saw";
    const double added = s.at("warm: engine-added (total - handler)").at(i);
    EXPECT_GT(added, 0);
    EXPECT_LE(added, total[i]);
  }
  EXPECT_EQ(s.at("baseline: loopback round trip").size(), 20U);
}

TEST(BenchEndToEnd, ColdRunSplitsTheSandboxAndInitAndStaysWithinTheTotal) {
  const auto out = run_bench("cold -n 5");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  const auto& total = s.at("cold: client total");
  ASSERT_EQ(total.size(), 5U);
  const auto names = phase_names(doc, "cold");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "request->sandbox_begin");
  EXPECT_EQ(names.back(), "answered->client");
  for (const auto* needed : {"sandbox_begin->", "->spawned", "->init_done", "->answered"}) {
    EXPECT_TRUE(std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n.find(needed) != std::string::npos;
    })) << needed;
  }
  for (std::size_t i = 0; i < total.size(); ++i) {
    for (const auto& name : names) EXPECT_GE(s.at("cold: " + name).at(i), 0) << name;
    const double to_next = s.at("cold: received->first next").at(i);
    EXPECT_GT(to_next, 0);
    EXPECT_LT(to_next, total[i]) << "the client waits for more than the engine's init";
  }
  EXPECT_EQ(s.at("baseline: posix_spawn->first next").size(), 5U);
}

}  // namespace
