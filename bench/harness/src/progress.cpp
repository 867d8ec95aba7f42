#include "ember/bench/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ember::bench {

namespace {
constexpr int kWidth = 40;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);  // terminal writes are not free
}  // namespace

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total), enabled_(::isatty(STDERR_FILENO) == 1) {
  draw(0, true);
}

Progress::~Progress() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r%*s\r", kWidth + static_cast<int>(label_.size()) + 30, "");
}

void Progress::tick() {
  const auto done = done_.fetch_add(1) + 1;
  if (enabled_ && total_ > 0) {
    draw(static_cast<double>(done) / static_cast<double>(total_), done == total_);
  }
}

void Progress::set_fraction(double fraction) {
  if (enabled_) draw(fraction, false);
}

void Progress::draw(double fraction, bool force) {
  if (!enabled_) return;
  const std::lock_guard lock(draw_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %3d%% %zu", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100), done_.load());
  std::fflush(stderr);
}

}  // namespace ember::bench
