#include "deadline.hpp"

namespace ember::engine {

Deadline::Deadline(const boost::asio::any_io_executor& executor, const Clock& clock)
    : clock_(clock), timer_(executor) {}

void Deadline::on_expiry(std::weak_ptr<void> owner, std::function<void()> expired) {
  owner_ = std::move(owner);
  expired_ = std::move(expired);
}

void Deadline::set(TimePoint due) {
  due_ = due;
  // A wait that wakes no later than `due` re-arms for the rest then.
  if (!waking_at_ || *waking_at_ > due) arm(due);
}

void Deadline::arm(TimePoint due) {
  waking_at_ = due;
  // The clock's time maps to the timer's by their difference now: exact for the steady
  // clock; a clock moved by hand is caught up by check() from the node's tick.
  timer_.expires_after(due - clock_.now());
  timer_.async_wait([this, owner = owner_](boost::system::error_code ec) {
    // Cancelled: re-armed earlier (a newer wait is pending), cancelled, or destroyed.
    if (ec) return;
    const auto alive = owner.lock();
    if (!alive) return;
    waking_at_.reset();
    if (!due_) return;
    const auto now = clock_.now();
    if (now < *due_) {
      arm(*due_);
      return;
    }
    check(now);
  });
}

void Deadline::check(TimePoint now) {
  if (!due_ || now < *due_) return;
  due_.reset();
  if (expired_) expired_();
}

void Deadline::cancel() {
  due_.reset();
  waking_at_.reset();
  timer_.cancel();
}

}  // namespace ember::engine
