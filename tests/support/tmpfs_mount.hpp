// A small file system the test can fill: a tmpfs mounted over a directory for the test's
// lifetime (mount(2) needs root), and a file written until the disk is full.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "ember/isolation/unique_fd.hpp"

namespace ember::test {

// A tmpfs of `size` ("512k", "4m") on `dir`, detached again when it goes out of scope.
class TmpfsMount {
 public:
  TmpfsMount(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) error_ = errno;
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  TmpfsMount(TmpfsMount&&) = delete;
  TmpfsMount& operator=(TmpfsMount&&) = delete;
  ~TmpfsMount() {
    if (error_ == 0) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  // 0 once mounted; EPERM without root.
  [[nodiscard]] int error() const { return error_; }

 private:
  std::filesystem::path dir_;
  int error_ = 0;
};

// Writes `file` until its file system has no space left; the errno that ended the writing
// (ENOSPC when it filled up).
inline int fill(const std::filesystem::path& file) {
  const isolation::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return errno;
  const std::string chunk(4096, 'f');
  for (;;) {
    if (::write(fd.get(), chunk.data(), chunk.size()) <= 0) return errno;
  }
}

}  // namespace ember::test
