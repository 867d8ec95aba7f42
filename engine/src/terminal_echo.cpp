#include "ember/engine/terminal_echo.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <utility>

#include "ember/runtime_api/hex.hpp"

namespace ember::engine {

namespace {

// How long one poll for writability lasts: the writer looks at its stop token this often.
constexpr int kPollMs = 100;
// How long the destructor lets the writer drain the buffer.
constexpr auto kDrainLimit = std::chrono::seconds(1);
// How long the writer lets lines gather after the first one before it writes them. Waking it
// for each line (START, END, REPORT: three times per invocation) cost warm invocations a
// third of their latency on two cores: the writer took a CPU from the runtime each time.
constexpr auto kGather = std::chrono::milliseconds(2);

void append_escape(std::string& out, std::string_view prefix, unsigned char byte) {
  out.append(prefix);
  runtime_api::append_hex(out, byte, 2);
}

}  // namespace

std::string escape_controls(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto byte = static_cast<unsigned char>(line[i]);
    if ((byte < 0x20U && byte != '\t') || byte == 0x7FU) {
      append_escape(out, "\\x", byte);
    } else if (byte == 0xC2U && i + 1 < line.size() &&
               static_cast<unsigned char>(line[i + 1]) >= 0x80U &&
               static_cast<unsigned char>(line[i + 1]) <= 0x9FU) {
      // U+0080..U+009F: C1 controls (CSI among them), which UTF-8 terminals obey.
      append_escape(out, "\\u00", static_cast<unsigned char>(line[++i]));
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

TerminalEcho::TerminalEcho(int fd, std::size_t limit)
    : fd_(fd), limit_(limit), writer_([this](const std::stop_token& stop) { run(stop); }) {}

TerminalEcho::~TerminalEcho() {
  {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, kDrainLimit, [this] { return buffer_.empty() && !writing_; });
  }
  writer_.request_stop();
  wake_.notify_all();
}

void TerminalEcho::operator()(std::string_view function, std::string_view lines) {
  std::string text;
  while (!lines.empty()) {
    const auto end = lines.find('\n');
    if (!function.empty()) text.append("[").append(function).append("] ");
    text.append(escape_controls(lines.substr(0, end))).push_back('\n');
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 1);
  }
  bool wake = false;
  {
    const std::scoped_lock lock(mutex_);
    if (closed_ || buffer_.size() + text.size() > limit_) {
      dropped_ += text.size();
      dropped_total_ += text.size();
      return;
    }
    // Only the first line wakes the writer, and a buffer half full: the writer, gathering,
    // takes the rest with it.
    const bool half_full =
        buffer_.size() < limit_ / 2 && buffer_.size() + text.size() >= limit_ / 2;
    wake = buffer_.empty() || half_full;
    buffer_.append(text);
  }
  if (wake) wake_.notify_all();
}

std::uint64_t TerminalEcho::dropped_bytes() const {
  const std::scoped_lock lock(mutex_);
  return dropped_total_;
}

void TerminalEcho::run(const std::stop_token& stop) {
  std::string taken;
  std::size_t written = 0;
  while (!stop.stop_requested()) {
    if (written == taken.size()) {
      std::unique_lock lock(mutex_);
      writing_ = false;
      wake_.notify_all();  // the destructor may wait for everything to be out
      if (!wake_.wait(lock, stop, [this] { return !buffer_.empty() || dropped_ != 0; })) return;
      wake_.wait_for(lock, stop, kGather, [this] { return buffer_.size() >= limit_ / 2; });
      taken = std::exchange(buffer_, {});
      if (dropped_ != 0) {
        taken += "ember: " + std::to_string(std::exchange(dropped_, 0)) +
                 " bytes of function logs were not echoed here (stdout did not keep up); "
                 "the log files have them\n";
      }
      written = 0;
      writing_ = true;
    }
    if (!write_some(taken, written, stop)) {
      // stdout is gone (closed, an error): nothing more is echoed, and nobody waits for it.
      const std::scoped_lock lock(mutex_);
      closed_ = true;
      writing_ = false;
      buffer_.clear();
      wake_.notify_all();
      return;
    }
  }
}

bool TerminalEcho::write_some(std::string_view text, std::size_t& written,
                              const std::stop_token& stop) const {
  while (written < text.size() && !stop.stop_requested()) {
    pollfd ready{fd_, POLLOUT, 0};
    const int polled = ::poll(&ready, 1, kPollMs);
    if (polled < 0 && errno != EINTR) return false;
    if (polled <= 0) continue;
    if ((ready.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
    // At most PIPE_BUF per write: a pipe that polled writable takes that much without
    // blocking, so the stop token is seen even when nobody reads.
    const auto chunk = std::min<std::size_t>(text.size() - written, PIPE_BUF);
    const auto n = ::write(fd_, text.data() + written, chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace ember::engine
