#include "ember/engine/keep_alive.hpp"

#include <gtest/gtest.h>

namespace ember::engine {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(FixedKeepAlive, KeepsEveryWorkerForItsTtl) {
  FixedKeepAlive policy(minutes(10));
  policy.on_arrival(Clock::TimePoint{});
  const auto w = policy.window();
  EXPECT_EQ(w.prewarm, Clock::Duration{});
  EXPECT_EQ(w.keep_alive, minutes(10));
}

TEST(HybridHistogramKeepAlive, FallsBackToTheFixedTtlUntilItHasSeenEnough) {
  HybridHistogramKeepAlive::Options options;
  options.fallback = minutes(7);
  HybridHistogramKeepAlive policy(options);
  Clock::TimePoint t{};
  for (int i = 0; i < 5; ++i) policy.on_arrival(t += minutes(5));
  const auto w = policy.window();
  EXPECT_EQ(w.prewarm, Clock::Duration{});
  EXPECT_EQ(w.keep_alive, minutes(7));
}

TEST(HybridHistogramKeepAlive, PeriodicFunctionIsPrewarmedJustBeforeItsNextCall) {
  HybridHistogramKeepAlive policy({});
  Clock::TimePoint t{};
  for (int i = 0; i < 20; ++i) policy.on_arrival(t += minutes(5));
  const auto w = policy.window();
  // Idle times all fall in the [5, 6) minute bin: pre-warm at 90 % of 5 min, keep until
  // 110 % of 6 min.
  EXPECT_EQ(w.prewarm, std::chrono::seconds(270));
  EXPECT_EQ(w.prewarm + w.keep_alive, std::chrono::seconds(396));
}

TEST(HybridHistogramKeepAlive, FrequentFunctionIsKeptWarm) {
  HybridHistogramKeepAlive policy({});
  Clock::TimePoint t{};
  for (int i = 0; i < 50; ++i) policy.on_arrival(t += std::chrono::seconds(20));
  const auto w = policy.window();
  EXPECT_EQ(w.prewarm, Clock::Duration{});
  EXPECT_GE(w.keep_alive, minutes(1));
}

TEST(HybridHistogramKeepAlive, RareFunctionKeepsNothingAndPrewarmsBeforeTheExpectedCall) {
  HybridHistogramKeepAlive policy({});
  Clock::TimePoint t{};
  for (int i = 0; i < 12; ++i) policy.on_arrival(t += hours(6));
  const auto w = policy.window();
  EXPECT_EQ(w.prewarm, std::chrono::duration_cast<Clock::Duration>(hours(6) * 0.9));
  EXPECT_LT(w.keep_alive, hours(2));
}

TEST(HybridHistogramKeepAlive, BinsIdleTimeFromTheEndOfOneCallToTheNext) {
  HybridHistogramKeepAlive policy({});
  Clock::TimePoint t{};
  // Each call runs 3 minutes, then the function is idle for 2: the idle time is what counts.
  for (int i = 0; i < 20; ++i) {
    policy.on_arrival(t);
    policy.on_completion(t + minutes(3));
    t += minutes(5);
  }
  const auto w = policy.window();
  EXPECT_EQ(w.prewarm, std::chrono::seconds(108));  // 90 % of the 2-minute bin's lower edge
}

TEST(HybridHistogramKeepAlive, OverlappingCallsCountAsNoIdleTime) {
  HybridHistogramKeepAlive policy({});
  Clock::TimePoint t{};
  for (int i = 0; i < 20; ++i) {
    policy.on_arrival(t += minutes(5));  // a burst of two, both arriving before either ends
    policy.on_arrival(t + std::chrono::seconds(1));
    policy.on_completion(t + std::chrono::seconds(2));
  }
  // Half the samples are zero idle time: the head is the first bin, so nothing is pre-warmed.
  EXPECT_EQ(policy.window().prewarm, Clock::Duration{});
}

TEST(HybridHistogramKeepAlive, EvenlySpreadIdleTimesAreNotAPattern) {
  HybridHistogramKeepAlive::Options options;
  options.bins = 10;
  HybridHistogramKeepAlive policy(options);
  Clock::TimePoint t{};
  for (int round = 0; round < 5; ++round) {
    for (int m = 0; m < 10; ++m) policy.on_arrival(t += minutes(m) + std::chrono::seconds(1));
  }
  EXPECT_EQ(policy.window().keep_alive, options.fallback);
}

}  // namespace
}  // namespace ember::engine
