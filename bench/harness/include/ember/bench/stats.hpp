// Summary statistics of a latency sample: order statistics, mean, histogram and CDF.
#pragma once

#include <cstddef>
#include <vector>

namespace ember::bench {

struct Summary {
  std::size_t count = 0;
  double min = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
  double mean = 0;
};

// Nearest-rank percentile (q in [0, 100]) of sorted values: the smallest value with at least
// q% of the sample at or below it. 0 for an empty sample.
double percentile(const std::vector<double>& sorted, double q);

// Summary of any (unsorted) sample; all zero when it is empty.
Summary summarize(std::vector<double> values);

struct Bin {
  double lo = 0;  // inclusive
  double hi = 0;  // exclusive, except for the last bin
  std::size_t count = 0;
};

// `bins` equal-width bins from min to max; every value lands in exactly one bin.
std::vector<Bin> histogram(const std::vector<double>& values, std::size_t bins);

struct CdfPoint {
  double value = 0;
  double fraction = 0;  // share of the sample <= value, in (0, 1]
};

// The empirical CDF: one point per distinct value, ascending.
std::vector<CdfPoint> cdf(std::vector<double> values);

}  // namespace ember::bench
