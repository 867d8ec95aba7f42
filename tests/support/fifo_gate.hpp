// A FIFO that holds invocations until the test opens it. A function that reads it
// (tests/testcases/python/waits_for_gate) blocks in open() until a writer comes and returns
// when the writer closes, so "still running" is something the test decides, not a sleep.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>

namespace ember::test {

class FifoGate {
 public:
  // Makes DIR/gate, readable by anyone: a sandbox's user reads it through /var/task.
  explicit FifoGate(const std::filesystem::path& dir) : path_(dir / "gate") {
    if (::mkfifo(path_.c_str(), 0666) != 0 || ::chmod(path_.c_str(), 0666) != 0) {
      throw std::runtime_error("mkfifo " + path_.string() + ": " + std::strerror(errno));
    }
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Lets every invocation blocked on the gate go on. False when none was there within
  // `bound` (a backstop: the caller waited for the invocation to start first).
  [[nodiscard]] bool open(std::chrono::seconds bound = std::chrono::seconds(30)) const {
    // open(O_WRONLY) returns once a reader has the FIFO open; closing it ends their read.
    auto writer = std::async(std::launch::async,
                             [path = path_] { return ::open(path.c_str(), O_WRONLY | O_CLOEXEC); });
    bool reader_came = writer.wait_for(bound) == std::future_status::ready;
    int unstick = -1;
    if (!reader_came) unstick = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const int fd = writer.get();
    if (fd >= 0) ::close(fd);
    if (unstick >= 0) ::close(unstick);
    return reader_came && fd >= 0;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ember::test
