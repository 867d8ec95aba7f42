#include "store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "ember/image/image.hpp"

namespace ember::image {

isolation::UniqueFd lock_file(const std::filesystem::path& path, int operation) {
  for (;;) {
    isolation::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
      throw ImageError("open " + path.string() + ": " + std::generic_category().message(errno));
    }
    int rc = 0;
    while ((rc = ::flock(fd.get(), operation)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
      if (errno == EWOULDBLOCK) return {};
      throw ImageError("flock " + path.string() + ": " + std::generic_category().message(errno));
    }
    struct stat held {};
    struct stat now {};
    if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &now) == 0 &&
        held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
      return fd;
    }
  }
}

}  // namespace ember::image
