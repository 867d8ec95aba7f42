#include "ember/bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ember::bench {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  // Rank ceil(q/100 * n), 1-based; q = 0 is the minimum.
  const double rank = std::max(1.0, std::ceil(q / 100.0 * n));
  const auto index = std::min(sorted.size() - 1, static_cast<std::size_t>(rank) - 1);
  return sorted[index];
}

Summary summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.count = values.size();
  s.min = values.front();
  s.max = values.back();
  s.p50 = percentile(values, 50);
  s.p90 = percentile(values, 90);
  s.p99 = percentile(values, 99);
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(s.count);
  return s;
}

std::vector<Bin> histogram(const std::vector<double>& values, std::size_t bins) {
  if (values.empty() || bins == 0) return {};
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const double lo = *lo_it;
  const double hi = *hi_it;
  // A constant sample still gets its bins, one unit wide, all values in the first.
  const double width = hi > lo ? (hi - lo) / static_cast<double>(bins) : 1.0;
  std::vector<Bin> out(bins);
  for (std::size_t i = 0; i < bins; ++i) {
    out[i].lo = lo + width * static_cast<double>(i);
    out[i].hi = i + 1 == bins && hi > lo ? hi : lo + width * static_cast<double>(i + 1);
  }
  for (const double v : values) {
    auto i = static_cast<std::size_t>((v - lo) / width);
    ++out[std::min(i, bins - 1)].count;
  }
  return out;
}

std::vector<CdfPoint> cdf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::vector<CdfPoint> out;
  const auto n = static_cast<double>(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i + 1 < values.size() && values[i + 1] == values[i]) continue;  // last of a run counts
    out.push_back({values[i], static_cast<double>(i + 1) / n});
  }
  return out;
}

}  // namespace ember::bench
