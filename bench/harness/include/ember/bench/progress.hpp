// A progress bar on stderr, drawn only when stderr is a terminal; safe to tick from threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace ember::bench {

class Progress {
 public:
  // `total` steps; 0 means "unknown" (a duration-bound run passes its seconds via tick_time).
  Progress(std::string label, std::size_t total);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  Progress(Progress&&) = delete;
  Progress& operator=(Progress&&) = delete;
  ~Progress();

  void tick();
  // For runs bounded by time: the share of the time elapsed, 0..1.
  void set_fraction(double fraction);

 private:
  void draw(double fraction, bool force);

  std::string label_;
  std::size_t total_;
  bool enabled_;
  std::atomic<std::size_t> done_{0};
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace ember::bench
