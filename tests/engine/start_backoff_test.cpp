#include "start_backoff.hpp"

#include <gtest/gtest.h>

namespace ember::engine {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(StartBackoff, WaitsDoubleFromOneSecondUpToFiveMinutes) {
  StartBackoff backoff;
  const auto t0 = Clock::TimePoint{} + std::chrono::hours(1);
  EXPECT_TRUE(backoff.may_start(t0));
  EXPECT_EQ(backoff.failed(t0), seconds(1));
  EXPECT_FALSE(backoff.may_start(t0 + std::chrono::milliseconds(999)));
  EXPECT_TRUE(backoff.may_start(t0 + seconds(1)));
  EXPECT_EQ(backoff.failed(t0 + seconds(1)), seconds(2));
  EXPECT_EQ(backoff.failed(t0 + seconds(3)), seconds(4));
  EXPECT_EQ(backoff.failures(), 3U);
  EXPECT_EQ(backoff.retry_at(), t0 + seconds(7));
  for (int i = 0; i < 20; ++i) (void)backoff.failed(t0);
  EXPECT_EQ(backoff.failed(t0), minutes(5));
}

TEST(StartBackoff, ASuccessStartsOverFromOneSecond) {
  StartBackoff backoff;
  const auto t0 = Clock::TimePoint{};
  (void)backoff.failed(t0);
  (void)backoff.failed(t0);
  backoff.succeeded();
  EXPECT_EQ(backoff.failures(), 0U);
  EXPECT_FALSE(backoff.retry_at().has_value());
  EXPECT_TRUE(backoff.may_start(t0));
  EXPECT_EQ(backoff.failed(t0), seconds(1));
}

}  // namespace
}  // namespace ember::engine
