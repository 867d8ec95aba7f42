#include "ember/metrics/histogram.hpp"

#include <algorithm>
#include <cstdlib>

namespace ember::metrics {

const std::array<double, 19> kDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    900};
const std::array<double, 11> kInitDurationBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,    2.5,   5,    10,  30};
const std::array<double, 13> kSandboxBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1,     2.5,  10};

Histogram::Histogram(std::span<const double> bounds) : bounds_(bounds) {
  // A table of ours: too many bounds, or unordered ones, is a bug, not an input.
  if (bounds.size() > kMaxBuckets || !std::is_sorted(bounds.begin(), bounds.end())) std::abort();
}

void Histogram::observe(double value) {
  // The first bucket whose bound is >= value ("le"); past the last one, +Inf.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

void Histogram::merge(const Histogram& other) {
  if (other.bounds_.data() != bounds_.data()) std::abort();  // different tables: a bug
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
}

std::uint64_t Histogram::cumulative(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t j = 0; j <= i && j < counts_.size(); ++j) total += counts_[j];
  return total;
}

}  // namespace ember::metrics
