// One worker's log stream: files under the state directory plus the node's echo. The function's
// own lines are capped (bytes per invocation, and per second with its other workers); the
// files are rotated at log_file_bytes and the oldest removed (FunctionLog); a file that cannot
// take lines (a full disk) drops and counts them, and the node goes on.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ember/isolation/unique_fd.hpp"
#include "function_log.hpp"
#include "log_format.hpp"

namespace ember::engine {

class LogStream {
 public:
  // Receives one or more whole lines, each ending in a newline. `function` is empty when the
  // lines are JSON objects that name it themselves (node.log_format json).
  using Echo = std::function<void(std::string_view function, std::string_view lines)>;

  // Names the stream; its file log_dir/FUNCTION/DATE-ID.log is made by open(), and its
  // rotations DATE-ID.2.log, DATE-ID.3.log, ... when it grows past log_file_bytes.
  LogStream(std::shared_ptr<FunctionLog> shared, Echo echo);
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;
  LogStream(LogStream&&) = delete;
  LogStream& operator=(LogStream&&) = delete;
  ~LogStream();

  // Lambda's stream name: "2026/11/27/[$LATEST]<32 hex>".
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Creates the file. Separate from the constructor so a cold start can launch its runtime
  // first and create the file while the runtime execs. Throws std::runtime_error naming the
  // path on failure.
  void open();

  // An invocation begins (its lines carry its id in JSON, and count against
  // log_bytes_per_invocation) ...
  void begin_invocation(std::string_view request_id);
  // ... its output is drained: the markers of what its caps dropped are written (before END) ...
  void end_invocation();
  // ... and its REPORT is written: lines no longer carry its id (its cap still holds them
  // until the next invocation begins).
  void after_invocation();

  // One line of the function's own output (without its newline), as its caps allow: false
  // when it was dropped (and counted). It reaches the file at the next flush().
  bool function_line(std::string_view line);
  // Adds one of the platform's lines (never capped). It reaches the file and the echo at the
  // next flush(), or at once when `flush_now`; a large backlog is flushed on its own.
  void write(std::string_view line, bool flush_now = true);
  // Writes what is pending: one write() to the file and one call of the echo.
  void flush();

 private:
  void add(std::string_view line, LineSource source);
  // Writes the markers of the lines the per-second cap dropped in an earlier second.
  void close_second(std::time_t now);
  void write_to_file();
  void rotate();
  void dropped_on_disk(std::string_view lines, int error);

  std::shared_ptr<FunctionLog> shared_;
  Echo echo_;
  std::string name_;
  std::string key_;  // DATE-ID: what every file of the stream is named after
  std::filesystem::path path_;
  unsigned file_number_ = 1;
  isolation::UniqueFd fd_;
  std::uint64_t file_bytes_ = 0;
  bool disk_error_shown_ = false;
  std::string pending_;  // whole lines not yet written

  std::string request_id_;      // empty after REPORT
  bool in_invocation_ = false;  // from the first invocation on: its cap applies
  std::uint64_t invocation_bytes_ = 0;
  bool invocation_capped_ = false;  // log_bytes_per_invocation reached: the rest is dropped
  std::uint64_t invocation_dropped_lines_ = 0;
  std::uint64_t invocation_dropped_bytes_ = 0;
  std::time_t second_ = 0;  // the second the per-second drops below fell in
  std::uint64_t second_dropped_lines_ = 0;
  std::uint64_t second_dropped_bytes_ = 0;
};

}  // namespace ember::engine
