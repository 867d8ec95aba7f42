// What Lambda would charge for a function's invocations: a price per request and per
// GB-second of Billed Duration at the function's memory size, with the monthly free tier
// counted separately (https://aws.amazon.com/lambda/pricing/, x86, first pricing tier).
#pragma once

#include <cstdint>
#include <string>

namespace ember::metrics {

struct Prices {
  double usd_per_million_requests = 0.20;
  double usd_per_gb_second = 0.0000166667;
  std::uint64_t free_requests = 1'000'000;  // per month
  std::uint64_t free_gb_seconds = 400'000;  // per month
};

// Billed usage, kept in exact integers: requests and the sum of Billed Duration (ms) times
// Memory Size (MB) over them.
struct Usage {
  std::uint64_t requests = 0;
  std::uint64_t mb_ms = 0;

  // One billed invocation (one REPORT line).
  void bill(std::uint64_t billed_ms, std::uint64_t memory_mb) {
    ++requests;
    mb_ms += billed_ms * memory_mb;
  }
  void add(const Usage& other) {
    requests += other.requests;
    mb_ms += other.mb_ms;
  }
  // A GB is 1024 MB, as Lambda counts it (128 MB = 0.125 GB).
  [[nodiscard]] double gb_seconds() const { return static_cast<double>(mb_ms) / 1024.0 / 1000.0; }
};

struct Charge {
  double requests_usd = 0;
  double compute_usd = 0;
  [[nodiscard]] double total_usd() const { return requests_usd + compute_usd; }
};

// The charge for `usage` at `prices`, without the free tier.
Charge charge(const Usage& usage, const Prices& prices);

// What the free tier covers of a month's total usage, and what is left to pay.
struct FreeTier {
  std::uint64_t requests = 0;  // requests it covers (at most prices.free_requests)
  double gb_seconds = 0;       // GB-seconds it covers (at most prices.free_gb_seconds)
  Charge covered;              // their price
  Charge due;                  // the charge of what is beyond it
};
FreeTier free_tier(const Usage& total, const Prices& prices);

// A price as a plain decimal without trailing zeros, as node.cost writes it: 0.0000166667, 0.2
// (`ember cost` and the status page print the prices they used).
std::string price_text(double usd);

}  // namespace ember::metrics
