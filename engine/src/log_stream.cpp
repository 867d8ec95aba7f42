#include "log_stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <system_error>

namespace ember::engine {
namespace {

std::string random_hex32() {
  thread_local boost::uuids::random_generator generator;
  const boost::uuids::uuid id = generator();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(32);
  for (const auto byte : id) {
    hex.push_back(kDigits[byte >> 4U]);
    hex.push_back(kDigits[byte & 0xFU]);
  }
  return hex;
}

}  // namespace

LogStream::LogStream(const std::filesystem::path& log_dir, std::string function, Echo echo)
    : function_(std::move(function)), echo_(std::move(echo)) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &utc);
  const std::string hex = random_hex32();
  name_ = std::string(date) + "/[$LATEST]" + hex;
  std::strftime(date, sizeof date, "%Y-%m-%d", &utc);

  dir_ = log_dir / function_;
  path_ = dir_ / (std::string(date) + "-" + hex + ".log");
}

void LogStream::open() {
  if (fd_) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("create log directory " + dir_.string() + ": " + ec.message());
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) {
    throw std::runtime_error("open log file " + path_.string() + ": " +
                             std::system_category().message(errno));
  }
}

LogStream::~LogStream() { flush(); }

void LogStream::write(std::string_view line, bool flush_now) {
  constexpr std::size_t kMaxPending = 64 * 1024;
  pending_.append(line).push_back('\n');
  if (flush_now || pending_.size() >= kMaxPending) flush();
}

void LogStream::flush() {
  if (pending_.empty()) return;
  if (!fd_) {
    try {
      open();  // lines logged before the worker's start opened it (a failed start)
    } catch (const std::exception&) {
      // As with a full disk: the lines still reach the echo.
    }
  }
  // One write per batch of whole lines keeps lines whole even if several processes read the
  // file. A full disk must not stop the node; the lines still reach the echo.
  [[maybe_unused]] const auto written = ::write(fd_.get(), pending_.data(), pending_.size());
  if (echo_) echo_(function_, pending_);
  pending_.clear();
}

}  // namespace ember::engine
