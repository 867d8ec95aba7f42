// One worker's log stream: a file under the state directory plus the node's echo.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {

class LogStream {
 public:
  // Receives one or more whole lines, each ending in a newline.
  using Echo = std::function<void(std::string_view function, std::string_view lines)>;

  // Names the stream; its file log_dir/FUNCTION/DATE-ID.log is made by open().
  LogStream(const std::filesystem::path& log_dir, std::string function, Echo echo);
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

  // Adds one line (without its newline). It reaches the file and the echo at the next flush(),
  // or at once when `flush_now`; a large backlog is flushed on its own.
  void write(std::string_view line, bool flush_now = true);
  // Writes what is pending: one write() to the file and one call of the echo.
  void flush();

 private:
  std::string function_;
  Echo echo_;
  std::string name_;
  std::filesystem::path dir_;
  std::filesystem::path path_;
  isolation::UniqueFd fd_;
  std::string pending_;  // whole lines not yet written
};

}  // namespace ember::engine
