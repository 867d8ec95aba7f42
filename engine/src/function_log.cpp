#include "function_log.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

namespace ember::engine {

namespace fs = std::filesystem;

namespace {
// More followers of one function than this are refused: each holds up to kMaxPending.
constexpr std::size_t kMaxFollowers = 16;
}  // namespace

LogLimits log_limits(const config::FunctionConfig& function, const config::NodeConfig& node) {
  return LogLimits{.bytes_per_invocation = function.log_bytes_per_invocation,
                   .bytes_per_second = function.log_bytes_per_second,
                   .file_bytes = function.log_file_bytes,
                   .files = function.log_files,
                   .format = node.log_format};
}

FunctionLog::FunctionLog(fs::path dir, std::string function, LogLimits limits)
    : dir_(std::move(dir)), function_(std::move(function)), limits_(limits) {}

bool FunctionLog::take_second(std::time_t second, std::uint64_t bytes) {
  if (second != second_) {
    second_ = second;
    second_bytes_ = 0;
  }
  if (second_bytes_ + bytes > limits_.bytes_per_second) return false;
  second_bytes_ += bytes;
  return true;
}

// The files an earlier node (or this one, before its first stream) left, oldest first.
void FunctionLog::scan() {
  if (scanned_) return;
  scanned_ = true;
  std::vector<std::pair<fs::file_time_type, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::error_code entry_ec;
    if (!entry.is_regular_file(entry_ec) || entry.path().extension() != ".log") continue;
    const auto written = entry.last_write_time(entry_ec);
    if (!entry_ec) found.emplace_back(written, entry.path());
  }
  std::sort(found.begin(), found.end());
  for (auto& [written, path] : found) files_.push_back(std::move(path));
}

void FunctionLog::file_opened(const fs::path& path) {
  scan();
  if (std::find(files_.begin(), files_.end(), path) == files_.end()) files_.push_back(path);
  open_.insert(path);
  remove_beyond_retention();
}

void FunctionLog::file_closed(const fs::path& path) { open_.erase(path); }

void FunctionLog::remove_beyond_retention() {
  auto it = files_.begin();
  while (files_.size() > limits_.files && it != files_.end()) {
    if (open_.contains(*it)) {
      ++it;  // a worker still writes it: never removed under it
      continue;
    }
    std::error_code ignored;  // gone already (removed by hand): forgotten all the same
    fs::remove(*it, ignored);
    it = files_.erase(it);
  }
}

void FunctionLog::publish(std::string_view key, std::string_view lines) {
  if (followers_.empty()) return;
  std::erase_if(followers_, [](const auto& weak) { return weak.expired(); });
  for (const auto& weak : followers_) {
    const auto follower = weak.lock();
    std::size_t added = 0;
    std::string_view rest = lines;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      const auto line = rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1);
      rest.remove_prefix(line.size());
      if (follower->pending.size() + key.size() + 1 + line.size() > LogFollower::kMaxPending) {
        follower->dropped += line.size();
        continue;
      }
      follower->pending.append(key).append("\t").append(line);
      added += line.size();
    }
    if (added != 0 && follower->wake) follower->wake();
  }
}

std::shared_ptr<LogFollower> FunctionLog::follow() {
  std::erase_if(followers_, [](const auto& weak) { return weak.expired(); });
  if (followers_.size() >= kMaxFollowers) return nullptr;
  auto follower = std::make_shared<LogFollower>();
  followers_.push_back(follower);
  return follower;
}

void FunctionLog::close_followers() {
  for (const auto& weak : followers_) {
    if (auto follower = weak.lock()) {
      follower->closed = true;
      if (follower->wake) follower->wake();
    }
  }
  followers_.clear();
}

}  // namespace ember::engine
