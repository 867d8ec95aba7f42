// Lambda's price arithmetic, checked against figures worked out by hand from its public rates.
#include "ember/metrics/cost.hpp"

#include <gtest/gtest.h>

namespace ember::metrics {
namespace {

TEST(Cost, GbSecondsAreBilledMillisecondsTimesMemoryInGiB) {
  Usage usage;
  usage.bill(100, 128);   // 0.1 s at 0.125 GB = 0.0125 GB-s
  usage.bill(1, 1024);    // 0.001 s at 1 GB
  usage.bill(2000, 512);  // 2 s at 0.5 GB = 1 GB-s
  EXPECT_EQ(usage.requests, 3U);
  EXPECT_DOUBLE_EQ(usage.gb_seconds(), 0.0125 + 0.001 + 1.0);
}

TEST(Cost, ChargesPerRequestAndPerGbSecond) {
  // Lambda's own example: 3 million requests of 1 s at 512 MB are 1.5M GB-s.
  Usage usage{.requests = 3'000'000, .mb_ms = 3'000'000ULL * 1000 * 512};
  const Prices prices;
  const auto c = charge(usage, prices);
  EXPECT_DOUBLE_EQ(usage.gb_seconds(), 1'500'000);
  EXPECT_NEAR(c.requests_usd, 0.60, 1e-12);
  EXPECT_NEAR(c.compute_usd, 1'500'000 * 0.0000166667, 1e-9);  // 25.00005
  // With the free tier: 2M requests ($0.40) and 1.1M GB-s ($18.33) are due.
  const auto tier = free_tier(usage, prices);
  EXPECT_EQ(tier.requests, 1'000'000U);
  EXPECT_DOUBLE_EQ(tier.gb_seconds, 400'000);
  EXPECT_NEAR(tier.covered.requests_usd, 0.20, 1e-12);
  EXPECT_NEAR(tier.covered.compute_usd, 400'000 * 0.0000166667, 1e-9);
  EXPECT_NEAR(tier.due.requests_usd, 0.40, 1e-12);
  EXPECT_NEAR(tier.due.compute_usd, 1'100'000 * 0.0000166667, 1e-9);
  EXPECT_NEAR(tier.due.total_usd(), 18.73337, 1e-5);
}

TEST(Cost, FreeTierCoversSmallUsageEntirely) {
  Usage usage;
  for (int i = 0; i < 10; ++i) usage.bill(3, 128);
  const auto tier = free_tier(usage, Prices{});
  EXPECT_EQ(tier.requests, 10U);
  EXPECT_DOUBLE_EQ(tier.gb_seconds, usage.gb_seconds());
  EXPECT_DOUBLE_EQ(tier.due.total_usd(), 0);
  EXPECT_DOUBLE_EQ(tier.covered.total_usd(), charge(usage, Prices{}).total_usd());
}

TEST(Cost, ConfiguredPricesAndNoFreeTier) {
  const Prices prices{.usd_per_million_requests = 1.0,
                      .usd_per_gb_second = 0.001,
                      .free_requests = 0,
                      .free_gb_seconds = 0};
  Usage usage;
  usage.bill(1000, 1024);  // 1 GB-s
  const auto tier = free_tier(usage, prices);
  EXPECT_NEAR(tier.due.requests_usd, 0.000001, 1e-15);
  EXPECT_NEAR(tier.due.compute_usd, 0.001, 1e-15);
  EXPECT_DOUBLE_EQ(tier.covered.total_usd(), 0);
}

TEST(Cost, PriceTextIsAPlainDecimalWithoutTrailingZeros) {
  EXPECT_EQ(price_text(0.0000166667), "0.0000166667");
  EXPECT_EQ(price_text(0.20), "0.2");
  EXPECT_EQ(price_text(3), "3");
  EXPECT_EQ(price_text(0), "0");
}

}  // namespace
}  // namespace ember::metrics
