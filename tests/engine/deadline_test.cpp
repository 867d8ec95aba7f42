#include "deadline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace ember::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class DeadlineTest : public ::testing::Test {
 protected:
  void bind(Deadline& deadline) {
    deadline.on_expiry(owner_, [this] { ++expired_; });
  }

  boost::asio::io_context io_;
  ManualClock clock_;
  std::shared_ptr<int> owner_ = std::make_shared<int>(0);
  int expired_ = 0;
};

TEST_F(DeadlineTest, ExpiresWhenTheManualClockPassesIt) {
  Deadline deadline(io_.get_executor(), clock_);
  bind(deadline);
  deadline.set_after(seconds(10));
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 0);
  clock_.advance(seconds(10));
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 1);
  EXPECT_FALSE(deadline.due());
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 1) << "a deadline expires once";
}

TEST_F(DeadlineTest, ALaterSettingReplacesAnEarlierOne) {
  Deadline deadline(io_.get_executor(), clock_);
  bind(deadline);
  deadline.set_after(seconds(3));
  clock_.advance(seconds(2));
  deadline.set_after(seconds(3));  // e.g. the next invocation's timeout
  clock_.advance(seconds(2));
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 0);
  clock_.advance(seconds(1));
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 1);
}

TEST_F(DeadlineTest, ClearedDeadlineNeverExpires) {
  Deadline deadline(io_.get_executor(), clock_);
  bind(deadline);
  deadline.set_after(seconds(1));
  deadline.clear();
  clock_.advance(seconds(5));
  deadline.check(clock_.now());
  EXPECT_EQ(expired_, 0);
}

TEST_F(DeadlineTest, TheTimerExpiresItOnTheSteadyClock) {
  SteadyClock steady;
  Deadline deadline(io_.get_executor(), steady);
  bind(deadline);
  const auto begin = std::chrono::steady_clock::now();
  deadline.set_after(milliseconds(30));
  // Moved later before the timer fires: the pending wait wakes at 30 ms and waits again.
  deadline.set_after(milliseconds(60));
  while (expired_ == 0 && io_.run_one_for(seconds(5)) > 0) {
  }
  EXPECT_EQ(expired_, 1);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, milliseconds(60));
}

TEST_F(DeadlineTest, AnEarlierSettingRearmsTheTimer) {
  SteadyClock steady;
  Deadline deadline(io_.get_executor(), steady);
  bind(deadline);
  const auto begin = std::chrono::steady_clock::now();
  deadline.set_after(seconds(30));
  deadline.set_after(milliseconds(20));
  while (expired_ == 0 && io_.run_one_for(seconds(5)) > 0) {
  }
  EXPECT_EQ(expired_, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, seconds(5));
}

TEST_F(DeadlineTest, NothingRunsOnceTheOwnerIsGone) {
  SteadyClock steady;
  Deadline deadline(io_.get_executor(), steady);
  bind(deadline);
  deadline.set_after(milliseconds(1));
  owner_.reset();
  io_.run_for(milliseconds(50));
  EXPECT_EQ(expired_, 0);
}

}  // namespace
}  // namespace ember::engine
