// Cuts one process's output into log lines: whole lines as they complete, a line without a
// newline in pieces of at most max_line_bytes, and what is left when told the output paused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ember::engine {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Calls line(std::string_view) for every line `bytes` completes.
  template <class Line>
  void feed(std::string_view bytes, Line&& line) {
    while (!bytes.empty()) {
      const auto newline = bytes.find('\n');
      if (newline == std::string_view::npos) {
        partial_.append(bytes);
        break;
      }
      if (partial_.empty()) {
        line(bytes.substr(0, newline));  // the usual case: no copy
      } else {
        partial_.append(bytes.substr(0, newline));
        line(std::string_view(partial_));
        partial_.clear();
      }
      bytes.remove_prefix(newline + 1);
    }
    while (partial_.size() >= max_line_bytes_) {
      line(std::string_view(partial_).substr(0, max_line_bytes_));
      partial_.erase(0, max_line_bytes_);
    }
  }

  // Emits the unfinished line, if any: its writer paused (the invocation ended) or is gone.
  template <class Line>
  void flush(Line&& line) {
    if (partial_.empty()) return;
    line(std::string_view(partial_));
    partial_.clear();
  }

 private:
  std::size_t max_line_bytes_;
  std::string partial_;
};

}  // namespace ember::engine
