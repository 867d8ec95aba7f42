#include "ember/engine/keep_alive.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ember::engine {

namespace {

constexpr std::size_t kMaxOutOfBounds = 64;

Clock::Duration scale(Clock::Duration d, double factor) {
  return std::chrono::duration_cast<Clock::Duration>(d * factor);
}

}  // namespace

HybridHistogramKeepAlive::HybridHistogramKeepAlive(Options options)
    : options_(options), counts_(options.bins, 0) {}

// The paper bins idle times: from the end of one invocation to the start of the next. An
// arrival with nothing finished since the previous arrival overlaps it (a burst, or a call
// while another runs) and counts as no idle time at all. Without completions (a policy fed
// arrivals only) the time between arrivals stands in.
void HybridHistogramKeepAlive::on_arrival(Clock::TimePoint at) {
  std::optional<Clock::Duration> idle;
  if (last_completion_ && last_arrival_ && *last_completion_ >= *last_arrival_) {
    idle = at >= *last_completion_ ? at - *last_completion_ : Clock::Duration{};
  } else if (last_completion_ && last_arrival_) {
    idle = Clock::Duration{};
  } else if (last_arrival_ && at >= *last_arrival_) {
    idle = at - *last_arrival_;
  }
  if (idle) {
    const auto bin = static_cast<std::size_t>(*idle / options_.bin);
    if (bin < counts_.size()) {
      ++counts_[bin];
      ++in_range_;
    } else {
      out_of_bounds_.push_back(*idle);
      if (out_of_bounds_.size() > kMaxOutOfBounds) out_of_bounds_.erase(out_of_bounds_.begin());
    }
  }
  last_arrival_ = at;
}

void HybridHistogramKeepAlive::on_completion(Clock::TimePoint at) { last_completion_ = at; }

Clock::Duration HybridHistogramKeepAlive::percentile(double p) const {
  const double target = p / 100.0 * static_cast<double>(in_range_);
  double seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += static_cast<double>(counts_[i]);
    // The bin's lower edge for the head, its upper edge for the tail: widen, never narrow.
    if (seen >= target && counts_[i] > 0) {
      return options_.bin * static_cast<Clock::Duration::rep>(p < 50 ? i : i + 1);
    }
  }
  return options_.bin * static_cast<Clock::Duration::rep>(counts_.size());
}

// The paper's test: enough samples, and bin counts uneven enough (coefficient of variation)
// that the histogram shows a pattern rather than noise.
bool HybridHistogramKeepAlive::representative() const {
  if (in_range_ < options_.min_samples) return false;
  const auto n = static_cast<double>(counts_.size());
  const double mean = static_cast<double>(in_range_) / n;
  double variance = 0;
  for (const auto c : counts_) variance += std::pow(static_cast<double>(c) - mean, 2);
  const double cv = std::sqrt(variance / n) / mean;
  return cv >= options_.min_cv;
}

KeepAliveWindow HybridHistogramKeepAlive::window() const {
  const std::size_t total = samples();
  if (total >= options_.min_samples &&
      static_cast<double>(out_of_bounds_.size()) >
          options_.max_out_of_bounds * static_cast<double>(total)) {
    // Idle times beyond the histogram: the paper forecasts the next one (ARIMA); we take the
    // mean of the recent ones, keep nothing in between, and pre-warm just before it.
    const auto sum =
        std::accumulate(out_of_bounds_.begin(), out_of_bounds_.end(), Clock::Duration{});
    const auto expected = sum / static_cast<Clock::Duration::rep>(out_of_bounds_.size());
    return {scale(expected, 1 - options_.margin), scale(expected, 2 * options_.margin)};
  }
  if (!representative()) return {Clock::Duration{}, options_.fallback};
  const auto head = scale(percentile(options_.head_percentile), 1 - options_.margin);
  const auto tail = scale(percentile(options_.tail_percentile), 1 + options_.margin);
  // Pre-warming only pays when the head is at least a bin away; otherwise keep it warm.
  const auto prewarm = head >= options_.bin ? head : Clock::Duration{};
  return {prewarm, std::max(tail - prewarm, options_.bin)};
}

std::unique_ptr<KeepAlivePolicy> make_keep_alive_policy(const config::FunctionConfig& function) {
  if (function.keep_alive_policy == config::KeepAlivePolicy::kAdaptive) {
    HybridHistogramKeepAlive::Options options;
    options.fallback = function.keep_alive;
    return std::make_unique<HybridHistogramKeepAlive>(options);
  }
  return std::make_unique<FixedKeepAlive>(function.keep_alive);
}

}  // namespace ember::engine
