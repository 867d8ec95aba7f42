// Slow clean-up work (an OCI runtime's `delete`, waiting for its process) off the caller's
// thread: one process-wide worker thread runs the jobs in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ember::isolation {

class BackgroundQueue {
 public:
  // The process-wide queue; its destructor (at exit) runs what is left, so nothing queued is
  // dropped when ember ends normally.
  static BackgroundQueue& instance();

  BackgroundQueue() = default;
  BackgroundQueue(const BackgroundQueue&) = delete;
  BackgroundQueue& operator=(const BackgroundQueue&) = delete;
  BackgroundQueue(BackgroundQueue&&) = delete;
  BackgroundQueue& operator=(BackgroundQueue&&) = delete;
  ~BackgroundQueue();

  // Runs job on the worker thread, after every job posted before. job must not throw.
  void post(std::function<void()> job);
  // Returns once every job posted so far has run (tests, and a backend that must see its
  // sandboxes gone).
  void drain();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool running_job_ = false;
  bool stopping_ = false;
  std::thread worker_;  // started by the first post()
};

}  // namespace ember::isolation
