#include "cgroup_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <limits>

#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

Result<void> write_control(const std::filesystem::path& file, std::string_view text) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) {
    return last_error("open " + file.string(),
                      "is the cgroup hierarchy mounted read-write and are we root?");
  }
  // A memory limit write reclaims first and can be interrupted by a signal to this thread.
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return last_error("write '" + std::string(text) + "' to " + file.string());
  if (static_cast<std::size_t>(n) != text.size()) {
    return SysError{EIO, "short write to " + file.string(), {}};
  }
  return {};
}

Result<std::string> read_control(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return last_error("open " + file.string());
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error("read " + file.string());
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

namespace {

Result<std::uint64_t> parse_u64(const std::filesystem::path& file, const std::string* text) {
  if (text->starts_with("max")) {
    return {boost::system::in_place_value, std::numeric_limits<std::uint64_t>::max()};
  }
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{}) return SysError{EINVAL, "parse a number from " + file.string(), {}};
  return {boost::system::in_place_value, value};
}

}  // namespace

Result<std::uint64_t> read_control_u64(const std::filesystem::path& file) {
  auto text = read_control(file);
  if (!text) return text.error();
  return parse_u64(file, &*text);
}

Result<std::uint64_t> OpenControl::read_u64() const {
  if (!fd_) {
    fd_ = UniqueFd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) return last_error("open " + file_.string());
  }
  std::string text(64, '\0');
  const ssize_t n = ::pread(fd_.get(), text.data(), text.size(), 0);
  if (n < 0) return last_error("read " + file_.string());
  text.resize(static_cast<std::size_t>(n));
  return parse_u64(file_, &text);
}

std::uint64_t read_keyed_u64(const std::filesystem::path& file, std::string_view key) {
  auto text = read_control(file);
  if (!text) return 0;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ' ') continue;
    std::uint64_t value = 0;
    const auto digits = line.substr(key.size() + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return value;
  }
  return 0;
}

bool control_exists(const std::filesystem::path& file) { return ::access(file.c_str(), F_OK) == 0; }

}  // namespace ember::isolation
