#include "record_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {
namespace {

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path, int error) {
  throw std::system_error(error, std::system_category(), std::string(what) + " " + path.string());
}

void write_all(int fd, std::string_view content, const std::filesystem::path& path) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", path, errno);
    content.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void write_record_file(const std::filesystem::path& dir, std::string_view name,
                       std::string_view content) {
  const auto final_path = dir / name;
  // A dot name, so readers listing *.json never see it.
  const auto temporary = dir / ("." + std::string(name) + ".tmp");
  {
    const isolation::UniqueFd fd(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) fail("create", temporary, errno);
    try {
      write_all(fd.get(), content, temporary);
      if (::fsync(fd.get()) != 0) fail("fsync", temporary, errno);
    } catch (...) {
      ::unlink(temporary.c_str());
      throw;
    }
  }
  if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    fail("rename to", final_path, error);
  }
  const isolation::UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory || ::fsync(directory.get()) != 0) fail("fsync", dir, errno);
}

}  // namespace ember::engine
