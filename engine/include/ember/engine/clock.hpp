// The scheduler's sense of time: keep-alive, pre-warming and idle accounting run on it, so
// tests can move it by hand and trace replays can run it faster than the wall clock.
#pragma once

#include <chrono>

namespace ember::engine {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  Clock(Clock&&) = delete;
  Clock& operator=(Clock&&) = delete;
  virtual ~Clock() = default;

  [[nodiscard]] virtual TimePoint now() const = 0;
};

// The steady clock, optionally sped up: `scale` node seconds pass per wall second.
class SteadyClock final : public Clock {
 public:
  explicit SteadyClock(double scale = 1.0)
      : scale_(scale), origin_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] TimePoint now() const override {
    const auto elapsed = std::chrono::steady_clock::now() - origin_;
    if (scale_ == 1.0) return origin_ + elapsed;
    return origin_ + std::chrono::duration_cast<Duration>(elapsed * scale_);
  }

 private:
  double scale_;
  TimePoint origin_;
};

// Moves only when told to: for tests.
class ManualClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_ = std::chrono::steady_clock::now();
};

}  // namespace ember::engine
