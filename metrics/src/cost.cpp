#include "ember/metrics/cost.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace ember::metrics {

namespace {

Charge price(double requests, double gb_seconds, const Prices& prices) {
  return {.requests_usd = requests * prices.usd_per_million_requests / 1e6,
          .compute_usd = gb_seconds * prices.usd_per_gb_second};
}

}  // namespace

Charge charge(const Usage& usage, const Prices& prices) {
  return price(static_cast<double>(usage.requests), usage.gb_seconds(), prices);
}

FreeTier free_tier(const Usage& total, const Prices& prices) {
  FreeTier tier;
  tier.requests = std::min(total.requests, prices.free_requests);
  tier.gb_seconds = std::min(total.gb_seconds(), static_cast<double>(prices.free_gb_seconds));
  tier.covered = price(static_cast<double>(tier.requests), tier.gb_seconds, prices);
  tier.due = price(static_cast<double>(total.requests - tier.requests),
                   total.gb_seconds() - tier.gb_seconds, prices);
  return tier;
}

std::string price_text(double usd) {
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.12f", usd);
  std::string text(buffer.data());
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace ember::metrics
