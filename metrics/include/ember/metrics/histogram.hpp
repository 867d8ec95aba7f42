// A Prometheus histogram's state: counts per bucket, the sum and the count of what was
// observed. Not thread-safe on purpose: one engine thread owns each histogram and updates it
// with plain arithmetic; a scrape merges the owners' copies (docs/design.md#threading).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ember::metrics {

// Most buckets a histogram has (the +Inf bucket not counted).
inline constexpr std::size_t kMaxBuckets = 24;

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending, at most kMaxBuckets; it must outlive the
  // histogram (a static table).
  explicit Histogram(std::span<const double> bounds);

  void observe(double value);
  // Adds another histogram with the same bounds (another shard's copy).
  void merge(const Histogram& other);

  [[nodiscard]] std::span<const double> bounds() const { return bounds_; }
  // Observations <= bounds()[i], cumulative as the exposition format wants them.
  [[nodiscard]] std::uint64_t cumulative(std::size_t i) const;
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] double sum() const { return sum_; }

 private:
  std::span<const double> bounds_;
  std::array<std::uint64_t, kMaxBuckets + 1> counts_{};  // per bucket, the last one +Inf
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

// Seconds, for invocation durations: from a warm invocation's 100 us to Lambda's 900 s limit.
extern const std::array<double, 19> kDurationBuckets;
// Seconds, for init durations: 10 ms to the 10 s init limit.
extern const std::array<double, 11> kInitDurationBuckets;
// Seconds, for making a sandbox: 0.5 ms to 2.5 s.
extern const std::array<double, 13> kSandboxBuckets;

}  // namespace ember::metrics
