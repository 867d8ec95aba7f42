// The node's workers not yet destroyed, i.e. whose processes are not yet reaped, and who is
// waiting for there to be none: shutdown waits on this instead of polling the count.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace ember::engine {

class LiveWorkers {
 public:
  explicit LiveWorkers(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  void add() { ++count_; }
  // From workers' destructors: never throws (a waiter that cannot be posted is dropped).
  void remove() noexcept {
    if (--count_ != 0) return;
    try {
      notify();
    } catch (...) {
      waiting_.clear();
    }
  }
  [[nodiscard]] std::size_t count() const { return count_; }

  // Runs `done` on the executor once no worker is left: soon if none is now.
  void when_none(std::function<void()> done) {
    waiting_.push_back(std::move(done));
    if (count_ == 0) notify();
  }
  // Forgets the waiters: they belong to an owner that is going away.
  void forget_waiters() { waiting_.clear(); }

 private:
  void notify() {
    for (auto& done : std::exchange(waiting_, {})) boost::asio::post(executor_, std::move(done));
  }

  boost::asio::any_io_executor executor_;
  std::size_t count_ = 0;
  std::vector<std::function<void()>> waiting_;
};

}  // namespace ember::engine
