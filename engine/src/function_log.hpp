// What the log streams of one function's workers share: the per-second budget of its caps, its
// log files (rotation hands new ones in, retention removes the oldest), the counts of lines it
// dropped, and the readers that follow it (`ember logs --follow`). One per function name, kept
// by the node for its lifetime (EngineContext::function_log).
#pragma once

#include <cstdint>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ember/config/config.hpp"

namespace ember::engine {

// The caps and files a function's logs keep to (its log_* keys, docs/configuration.md).
struct LogLimits {
  std::uint64_t bytes_per_invocation = 0;
  std::uint64_t bytes_per_second = 0;
  std::uint64_t file_bytes = 0;
  std::uint32_t files = 0;
  config::LogFormat format = config::LogFormat::kText;  // node.log_format
};

// Lines (and their bytes) a function's logs did not keep, since the node started.
struct LogDrops {
  std::uint64_t capped_lines = 0;  // past log_bytes_per_invocation or log_bytes_per_second
  std::uint64_t capped_bytes = 0;
  std::uint64_t disk_lines = 0;  // the file could not take them (ENOSPC, EDQUOT, EIO, ...)
  std::uint64_t disk_bytes = 0;
};

// A reader of the lines written from now on: FunctionLog::publish hands them over, the reader
// takes them (LogService, log_reader.cpp). What it has not taken is bounded.
struct LogFollower {
  static constexpr std::size_t kMaxPending = std::size_t{1} << 20U;
  std::string pending;         // whole formatted lines, each with its stream's key before a tab
  std::uint64_t dropped = 0;   // bytes not kept because `pending` was full
  std::function<void()> wake;  // the reader's: new lines, or the node is closing
  bool closed = false;         // the node is closing: the reader ends
};

class FunctionLog {
 public:
  FunctionLog(std::filesystem::path dir, std::string function, LogLimits limits);

  [[nodiscard]] const std::string& function() const { return function_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] const LogLimits& limits() const { return limits_; }
  // A reload may change the function's keys; streams see the new limits from their next line.
  void set_limits(const LogLimits& limits) { limits_ = limits; }

  // Takes `bytes` from the budget of second `second` (the wall clock's); false when they do not
  // fit in what is left of it.
  bool take_second(std::time_t second, std::uint64_t bytes);

  // A stream began writing `path` / stopped. Beginning one removes the oldest files beyond
  // `files` that no stream writes.
  void file_opened(const std::filesystem::path& path);
  void file_closed(const std::filesystem::path& path);
  // The function's log files, oldest first (the node's own and those an earlier node left).
  [[nodiscard]] const std::deque<std::filesystem::path>& files() const { return files_; }

  LogDrops& drops() { return drops_; }
  [[nodiscard]] const LogDrops& drops() const { return drops_; }

  // Hands `lines` (whole formatted lines) of stream `key` to every follower.
  void publish(std::string_view key, std::string_view lines);
  // Registers a follower; null when too many follow already.
  std::shared_ptr<LogFollower> follow();
  // The node is closing: every follower ends.
  void close_followers();

 private:
  void scan();
  void remove_beyond_retention();

  std::filesystem::path dir_;
  std::string function_;
  LogLimits limits_;
  std::time_t second_ = 0;
  std::uint64_t second_bytes_ = 0;
  bool scanned_ = false;
  std::deque<std::filesystem::path> files_;
  std::set<std::filesystem::path> open_;
  LogDrops drops_;
  std::vector<std::weak_ptr<LogFollower>> followers_;
};

// The limits a function's configuration and its node's give.
LogLimits log_limits(const config::FunctionConfig& function, const config::NodeConfig& node);

}  // namespace ember::engine
