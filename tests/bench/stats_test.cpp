// Summary statistics on inputs whose answers are known by hand.
#include "ember/bench/stats.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace ember::bench {
namespace {

std::vector<double> one_to(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

TEST(Stats, PercentilesOfOneToHundredAreTheirRanks) {
  auto values = one_to(100);
  std::reverse(values.begin(), values.end());  // summarize sorts for itself
  const auto s = summarize(values);
  EXPECT_EQ(s.count, 100U);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.p50, 50);
  EXPECT_EQ(s.p90, 90);
  EXPECT_EQ(s.p99, 99);
  EXPECT_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
}

TEST(Stats, NearestRankOnASmallSample) {
  const std::vector<double> sorted{10, 20, 30, 40};
  EXPECT_EQ(percentile(sorted, 0), 10);
  EXPECT_EQ(percentile(sorted, 25), 10);
  EXPECT_EQ(percentile(sorted, 26), 20);
  EXPECT_EQ(percentile(sorted, 50), 20);
  EXPECT_EQ(percentile(sorted, 99), 40);
  EXPECT_EQ(percentile(sorted, 100), 40);
}

TEST(Stats, EmptySampleIsAllZero) {
  const auto s = summarize({});
  EXPECT_EQ(s.count, 0U);
  EXPECT_EQ(s.p99, 0);
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_TRUE(histogram({}, 10).empty());
  EXPECT_TRUE(cdf({}).empty());
}

TEST(Stats, HistogramPutsEveryValueInOneEqualWidthBin) {
  const auto bins = histogram(one_to(10), 5);  // 1..10: width 1.8
  ASSERT_EQ(bins.size(), 5U);
  EXPECT_DOUBLE_EQ(bins[0].lo, 1);
  EXPECT_DOUBLE_EQ(bins[4].hi, 10);
  EXPECT_EQ(bins[0].count, 2U);  // 1, 2
  EXPECT_EQ(bins[1].count, 2U);  // 3, 4
  EXPECT_EQ(bins[2].count, 2U);  // 5, 6
  EXPECT_EQ(bins[3].count, 2U);  // 7, 8
  EXPECT_EQ(bins[4].count, 2U);  // 9, 10: the maximum lands in the last bin
  std::size_t total = 0;
  for (const auto& b : bins) total += b.count;
  EXPECT_EQ(total, 10U);
}

TEST(Stats, HistogramOfAConstantSample) {
  const auto bins = histogram({7, 7, 7}, 4);
  ASSERT_EQ(bins.size(), 4U);
  EXPECT_EQ(bins[0].count, 3U);
}

TEST(Stats, CdfHasOnePointPerDistinctValue) {
  const auto points = cdf({3, 1, 2, 2});
  ASSERT_EQ(points.size(), 3U);
  EXPECT_EQ(points[0].value, 1);
  EXPECT_DOUBLE_EQ(points[0].fraction, 0.25);
  EXPECT_EQ(points[1].value, 2);
  EXPECT_DOUBLE_EQ(points[1].fraction, 0.75);
  EXPECT_EQ(points[2].value, 3);
  EXPECT_DOUBLE_EQ(points[2].fraction, 1.0);
}

}  // namespace
}  // namespace ember::bench
