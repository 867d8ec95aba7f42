// The node's echo of function logs on its standard output.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace ember::engine {

// `line` with every control character but tab escaped (C0, DEL and the C1 range as UTF-8
// encodes it, as \xNN or \u00NN), so a function cannot move the terminal's cursor, rewrite the
// `[function] ` prefix of its line or change the terminal's state. Other bytes pass unchanged.
std::string escape_controls(std::string_view line);

// Writes `[function] line` (or the line alone, see operator()) to a descriptor from a thread of its
// own, so a slow or full stdout (a terminal scrolled back, a pipe nobody reads) never stalls the
// engine thread. Lines wait in a buffer of at most `limit` bytes; past it they are dropped and
// counted, and the count is printed once the descriptor takes output again. The log files keep
// every line regardless.
class TerminalEcho {
 public:
  static constexpr std::size_t kDefaultLimit = std::size_t{4} << 20U;

  explicit TerminalEcho(int fd, std::size_t limit = kDefaultLimit);
  TerminalEcho(const TerminalEcho&) = delete;
  TerminalEcho& operator=(const TerminalEcho&) = delete;
  TerminalEcho(TerminalEcho&&) = delete;
  TerminalEcho& operator=(TerminalEcho&&) = delete;
  // Gives the writer up to a second to write what is buffered, then drops the rest.
  ~TerminalEcho();

  // `lines`: one or more lines, each ending in a newline (the last one may lack it). An empty
  // `function`: the lines name it themselves (node.log_format json) and get no prefix.
  void operator()(std::string_view function, std::string_view lines);

  // Bytes dropped because the buffer was full, since the start.
  [[nodiscard]] std::uint64_t dropped_bytes() const;

 private:
  void run(const std::stop_token& stop);
  // Writes `text` while the descriptor takes it; false when it stopped taking output (or
  // failed) before the end, with `written` saying how far it got.
  bool write_some(std::string_view text, std::size_t& written, const std::stop_token& stop) const;

  int fd_;
  std::size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::string buffer_;               // formatted lines the writer has not taken
  std::uint64_t dropped_ = 0;        // since the last notice the writer printed
  std::uint64_t dropped_total_ = 0;  // since the start
  bool writing_ = false;             // the writer holds a batch it has not written out
  bool closed_ = false;              // the descriptor failed: nothing is written any more
  std::jthread writer_;              // last: starts after, and stops before, what it uses
};

}  // namespace ember::engine
