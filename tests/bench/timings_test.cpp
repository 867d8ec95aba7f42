// Reading X-Ember-Timings and splitting an invocation into steps.
#include "ember/bench/timings.hpp"

#include <gtest/gtest.h>

namespace ember::bench {
namespace {

TEST(Timings, ParsesPhasesInTheEnginesOrderWhateverTheirNames) {
  const auto t = parse_timings(
      "cold=1;sandbox_begin=12;cgroup_created=40;spawned=850;init_done=1200;assigned=1210;"
      "handed_out=1230;answered=1300");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->cold);
  ASSERT_EQ(t->phases.size(), 7U);
  EXPECT_EQ(t->phases[1].name, "cgroup_created");
  EXPECT_EQ(t->at("spawned"), 850);
  EXPECT_FALSE(t->at("exec_done"));
}

TEST(Timings, RefusesMalformedHeaders) {
  EXPECT_FALSE(parse_timings(""));
  EXPECT_FALSE(parse_timings("assigned=5"));  // no cold flag
  EXPECT_FALSE(parse_timings("cold=1;assigned"));
  EXPECT_FALSE(parse_timings("cold=1;assigned=5us"));
}

TEST(Timings, StepsAddUpToTheClientTotalAndSkipWhatCameBefore) {
  const auto t = parse_timings(
      "cold=0;spawned=-5000;init_done=-4000;assigned=5;handed_out=20;"
      "answered=90");
  ASSERT_TRUE(t);
  const auto s = spans(*t, 150);
  ASSERT_EQ(s.size(), 4U);
  EXPECT_EQ(s[0].name, "request->assigned");
  EXPECT_EQ(s[0].us, 5);
  EXPECT_EQ(s[1].name, "assigned->handed_out");
  EXPECT_EQ(s[2].name, "handed_out->answered");
  EXPECT_EQ(s[2].us, 70);
  EXPECT_EQ(s[3].name, "answered->client");
  EXPECT_EQ(s[3].us, 60);
  double sum = 0;
  for (const auto& step : s) sum += step.us;
  EXPECT_EQ(sum, 150);
}

}  // namespace
}  // namespace ember::bench
