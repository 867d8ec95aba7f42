#include "log_stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <span>
#include <stdexcept>
#include <system_error>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/hex.hpp"

namespace ember::engine {
namespace {

// A batch of lines is written once it is this big, even before the worker flushes.
constexpr std::size_t kMaxPending = std::size_t{64} * 1024;

std::string random_hex32() {
  thread_local boost::uuids::random_generator generator;
  const boost::uuids::uuid id = generator();
  return runtime_api::hex_encode(std::span<const unsigned char>(id.begin(), id.end()));
}

// "LOGS_DROPPED RequestId: ID\tReason: ...\tDroppedRecords: N\tDroppedBytes: M": what a cap
// dropped, after the lines it kept (Lambda's platform.logsDropped, as a text line).
std::string dropped_line(std::string_view request_id, const std::string& reason,
                         std::uint64_t lines, std::uint64_t bytes) {
  std::string out = "LOGS_DROPPED";
  if (!request_id.empty()) out.append(" RequestId: ").append(request_id);
  out.append("\tReason: ").append(reason);
  out.append("\tDroppedRecords: ").append(std::to_string(lines));
  out.append("\tDroppedBytes: ").append(std::to_string(bytes));
  return out;
}

std::size_t line_count(std::string_view lines) {
  return static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
}

}  // namespace

LogStream::LogStream(std::shared_ptr<FunctionLog> shared, Echo echo)
    : shared_(std::move(shared)), echo_(std::move(echo)) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &utc);
  const std::string hex = random_hex32();
  name_ = std::string(date) + "/[$LATEST]" + hex;
  std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
  key_ = std::string(date) + "-" + hex;
  path_ = shared_->dir() / (key_ + ".log");
}

void LogStream::open() {
  if (fd_) return;
  std::error_code ec;
  std::filesystem::create_directories(shared_->dir(), ec);
  if (ec) {
    throw std::runtime_error("create log directory " + shared_->dir().string() + ": " +
                             ec.message());
  }
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) {
    throw std::runtime_error("open log file " + path_.string() + ": " +
                             std::system_category().message(errno));
  }
  file_bytes_ = static_cast<std::uint64_t>(::lseek(fd_.get(), 0, SEEK_END));
  shared_->file_opened(path_);
}

LogStream::~LogStream() {
  close_second(0);
  flush();
  if (fd_) shared_->file_closed(path_);
}

void LogStream::begin_invocation(std::string_view request_id) {
  request_id_ = request_id;
  in_invocation_ = true;
  invocation_bytes_ = 0;
  invocation_capped_ = false;
  invocation_dropped_lines_ = 0;
  invocation_dropped_bytes_ = 0;
}

void LogStream::end_invocation() {
  close_second(0);
  if (invocation_dropped_lines_ != 0) {
    add(dropped_line(request_id_,
                     "log_bytes_per_invocation (" +
                         std::to_string(shared_->limits().bytes_per_invocation) + " bytes) reached",
                     invocation_dropped_lines_, invocation_dropped_bytes_),
        LineSource::kPlatform);
  }
  invocation_dropped_lines_ = 0;
  invocation_dropped_bytes_ = 0;
}

void LogStream::after_invocation() {
  // Lines that come after REPORT (a thread of the function that prints on) still count against the
  // invocation's cap until the next one begins: a flood cannot slip past it between invocations.
  request_id_.clear();
}

bool LogStream::function_line(std::string_view line) {
  const std::uint64_t bytes = line.size() + 1;
  const std::time_t now = std::time(nullptr);
  if (second_dropped_lines_ != 0 && now != second_) close_second(now);
  auto& drops = shared_->drops();
  if (in_invocation_ &&
      (invocation_capped_ || invocation_bytes_ + bytes > shared_->limits().bytes_per_invocation)) {
    // Once capped, the rest of the invocation is dropped: its log ends where the cap was.
    invocation_capped_ = true;
    ++invocation_dropped_lines_;
    invocation_dropped_bytes_ += bytes;
    ++drops.capped_lines;
    drops.capped_bytes += bytes;
    return false;
  }
  if (!shared_->take_second(now, bytes)) {
    second_ = now;
    ++second_dropped_lines_;
    second_dropped_bytes_ += bytes;
    ++drops.capped_lines;
    drops.capped_bytes += bytes;
    return false;
  }
  invocation_bytes_ += bytes;
  add(line, LineSource::kFunction);
  if (pending_.size() >= kMaxPending) flush();
  return true;
}

void LogStream::close_second(std::time_t now) {
  if (second_dropped_lines_ == 0 || now == second_) return;
  const auto second = std::chrono::system_clock::from_time_t(second_);
  auto when = iso8601_utc(second);  // "...:05.000Z": the second that was full
  add(dropped_line(request_id_,
                   "log_bytes_per_second (" + std::to_string(shared_->limits().bytes_per_second) +
                       " bytes) reached in the second from " + when,
                   second_dropped_lines_, second_dropped_bytes_),
      LineSource::kPlatform);
  second_dropped_lines_ = 0;
  second_dropped_bytes_ = 0;
}

void LogStream::write(std::string_view line, bool flush_now) {
  add(line, LineSource::kPlatform);
  if (flush_now || pending_.size() >= kMaxPending) flush();
}

void LogStream::add(std::string_view line, LineSource source) {
  if (shared_->limits().format == config::LogFormat::kJson) {
    pending_.append(json_log_line(std::chrono::system_clock::now(), shared_->function(),
                                  request_id_, source, line));
  } else {
    pending_.append(line);
  }
  pending_.push_back('\n');
}

void LogStream::flush() {
  if (pending_.empty()) return;
  write_to_file();
  // The echo gets the lines whatever the file did: a full disk does not hide them there.
  if (echo_) {
    const bool json = shared_->limits().format == config::LogFormat::kJson;
    echo_(json ? std::string_view() : std::string_view(shared_->function()), pending_);
  }
  shared_->publish(key_, pending_);
  pending_.clear();
}

// One write per batch of whole lines keeps lines whole even if several processes read the
// file. A file that takes only part of it keeps the whole lines that fit; the rest is dropped
// and counted, and the node goes on: a full disk never stalls or stops it.
void LogStream::write_to_file() {
  if (!fd_) {
    try {
      open();  // lines logged before the worker's start opened it (a failed start), or the
               // next file of a rotation that could not be made then
    } catch (const std::exception&) {
      dropped_on_disk(pending_, errno != 0 ? errno : EIO);
      return;
    }
  }
  std::size_t done = 0;
  int error = 0;
  while (done < pending_.size()) {
    const auto n = ::write(fd_.get(), pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done < pending_.size()) {
    // Keep the whole lines that fit; cut the partial one off again.
    const auto last = std::string_view(pending_).substr(0, done).rfind('\n');
    const std::size_t kept = last == std::string_view::npos ? 0 : last + 1;
    if (kept != done) {
      [[maybe_unused]] const int cut =
          ::ftruncate(fd_.get(), static_cast<off_t>(file_bytes_ + kept));
    }
    file_bytes_ += kept;
    dropped_on_disk(std::string_view(pending_).substr(kept), error);
  } else {
    file_bytes_ += done;
    disk_error_shown_ = false;
  }
  if (file_bytes_ >= shared_->limits().file_bytes) rotate();
}

void LogStream::rotate() {
  shared_->file_closed(path_);
  fd_.reset();
  ++file_number_;
  path_ = shared_->dir() / (key_ + "." + std::to_string(file_number_) + ".log");
  file_bytes_ = 0;
  try {
    open();
  } catch (const std::exception&) {
    // Retried by the next flush; its lines are dropped and counted while it fails.
  }
}

void LogStream::dropped_on_disk(std::string_view lines, int error) {
  auto& drops = shared_->drops();
  drops.disk_lines += line_count(lines);
  drops.disk_bytes += lines.size();
  if (disk_error_shown_ || !echo_) return;
  disk_error_shown_ = true;  // once per outage, not per batch
  const std::string notice = "ember: log file " + path_.string() + ": " +
                             std::system_category().message(error) +
                             "; the function's log lines are dropped and counted "
                             "(logs.disk_dropped_lines in GET /ember/v1/functions) until it "
                             "takes them again";
  if (shared_->limits().format == config::LogFormat::kJson) {
    echo_({}, json_log_line(std::chrono::system_clock::now(), shared_->function(), {},
                            LineSource::kPlatform, notice) +
                  "\n");
  } else {
    echo_(shared_->function(), notice + "\n");
  }
}

}  // namespace ember::engine
