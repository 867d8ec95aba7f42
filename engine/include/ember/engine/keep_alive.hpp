// How long a function's idle worker is kept, and when one is started ahead of traffic.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/engine/clock.hpp"

namespace ember::engine {

// What to do once a worker has finished an invocation and nothing waits for it.
struct KeepAliveWindow {
  // Zero: keep the worker now. Otherwise end it now and start a fresh one this long after
  // the invocation (just before the next one is expected).
  Clock::Duration prewarm{};
  // How long the (kept or pre-warmed) worker then stays idle before it is ended.
  Clock::Duration keep_alive{};
};

class KeepAlivePolicy {
 public:
  KeepAlivePolicy() = default;
  KeepAlivePolicy(const KeepAlivePolicy&) = delete;
  KeepAlivePolicy& operator=(const KeepAlivePolicy&) = delete;
  KeepAlivePolicy(KeepAlivePolicy&&) = delete;
  KeepAlivePolicy& operator=(KeepAlivePolicy&&) = delete;
  virtual ~KeepAlivePolicy() = default;

  // An invocation arrived at `at` (node time).
  virtual void on_arrival(Clock::TimePoint at) = 0;
  // An invocation finished at `at`.
  virtual void on_completion(Clock::TimePoint /*at*/) {}
  // The window to apply now that a worker went idle.
  [[nodiscard]] virtual KeepAliveWindow window() const = 0;
};

// Keep every idle worker for a fixed time-to-live.
class FixedKeepAlive final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlive(Clock::Duration ttl) : ttl_(ttl) {}
  void on_arrival(Clock::TimePoint /*at*/) override {}
  [[nodiscard]] KeepAliveWindow window() const override { return {Clock::Duration{}, ttl_}; }

 private:
  Clock::Duration ttl_;
};

// The hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC 2020),
// docs/scheduler.md has the details and what differs from the paper.
class HybridHistogramKeepAlive final : public KeepAlivePolicy {
 public:
  struct Options {
    Clock::Duration bin = std::chrono::minutes(1);  // histogram resolution
    std::size_t bins = 240;                         // range: 4 hours of idle time
    double head_percentile = 5;                     // pre-warm at the 5th percentile ...
    double tail_percentile = 99;                    // ... keep until the 99th
    double margin = 0.10;                           // widen the window by 10 % each side
    std::size_t min_samples = 10;                   // fewer: not yet representative
    double min_cv = 2.0;                            // bin counts more even: not representative
    double max_out_of_bounds = 0.5;                 // more idle times beyond the range: rare
    Clock::Duration fallback = std::chrono::minutes(10);  // the fixed keep-alive to fall back on
  };

  explicit HybridHistogramKeepAlive(Options options);
  void on_arrival(Clock::TimePoint at) override;
  void on_completion(Clock::TimePoint at) override;
  [[nodiscard]] KeepAliveWindow window() const override;

  [[nodiscard]] std::size_t samples() const { return in_range_ + out_of_bounds_.size(); }

 private:
  [[nodiscard]] Clock::Duration percentile(double p) const;
  [[nodiscard]] bool representative() const;

  Options options_;
  std::vector<std::size_t> counts_;
  std::size_t in_range_ = 0;
  std::vector<Clock::Duration> out_of_bounds_;  // the most recent, bounded
  std::optional<Clock::TimePoint> last_arrival_;
  std::optional<Clock::TimePoint> last_completion_;
};

std::unique_ptr<KeepAlivePolicy> make_keep_alive_policy(const config::FunctionConfig& function);

}  // namespace ember::engine
