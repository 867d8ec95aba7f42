// One deadline on an injected Clock, backed by one Asio timer that is re-armed lazily: moving
// the deadline later costs no timer operation (the pending wait wakes early, sees the later
// deadline and waits again), which keeps timer syscalls off the warm path.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "ember/engine/clock.hpp"

namespace ember::engine {

class Deadline {
 public:
  using TimePoint = Clock::TimePoint;

  Deadline(const boost::asio::any_io_executor& executor, const Clock& clock);
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  Deadline(Deadline&&) = delete;
  Deadline& operator=(Deadline&&) = delete;
  ~Deadline() = default;

  // What runs when the deadline passes, while `owner` is alive. Set once, before set().
  void on_expiry(std::weak_ptr<void> owner, std::function<void()> expired);
  [[nodiscard]] bool bound() const { return static_cast<bool>(expired_); }

  // Expires at `due` (the clock's time); replaces any earlier setting.
  void set(TimePoint due);
  void set_after(Clock::Duration after) { set(clock_.now() + after); }
  // Nothing is due; a pending wait is left to run out by itself.
  void clear() { due_.reset(); }
  [[nodiscard]] std::optional<TimePoint> due() const { return due_; }

  // Runs the expiry if the deadline has passed by `now`. The timer calls it; so does the
  // node's tick, for clocks that move faster than the wall clock or by hand (tests).
  void check(TimePoint now);
  // Clears and cancels: the owner is ending.
  void cancel();

 private:
  void arm(TimePoint due);

  const Clock& clock_;
  boost::asio::steady_timer timer_;
  std::optional<TimePoint> due_;
  // When the pending wait wakes up, in the clock's time; none while no wait is pending.
  std::optional<TimePoint> waking_at_;
  std::weak_ptr<void> owner_;
  std::function<void()> expired_;
};

}  // namespace ember::engine
