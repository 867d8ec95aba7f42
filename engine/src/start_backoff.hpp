// When to start again a provisioned worker whose starts keep failing: exponential back-off, so
// a runtime that exits at once costs a few starts a minute instead of one per scheduler tick.
#pragma once

#include <chrono>
#include <optional>

#include "ember/engine/clock.hpp"

namespace ember::engine {

class StartBackoff {
 public:
  using TimePoint = Clock::TimePoint;
  using Duration = Clock::Duration;

  static constexpr Duration kFirstWait = std::chrono::seconds(1);
  static constexpr Duration kLongestWait = std::chrono::minutes(5);

  // A start failed at `now`: the next one waits twice as long as the previous wait did
  // (kFirstWait after the first failure, never more than kLongestWait). Returns the wait.
  Duration failed(TimePoint now);
  // A start succeeded: the next failure waits kFirstWait again.
  void succeeded();

  [[nodiscard]] bool may_start(TimePoint now) const { return !retry_at_ || now >= *retry_at_; }
  [[nodiscard]] unsigned failures() const { return failures_; }
  // When the next start may happen; none while starts succeed.
  [[nodiscard]] std::optional<TimePoint> retry_at() const { return retry_at_; }

 private:
  unsigned failures_ = 0;
  Duration wait_{};
  std::optional<TimePoint> retry_at_;
};

}  // namespace ember::engine
