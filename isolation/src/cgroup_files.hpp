// Reading and writing the small control files of a cgroup file system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ember/isolation/sys_error.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

// Writes text in one write(2), as cgroupfs wants: the kernel parses each write on its own.
Result<void> write_control(const std::filesystem::path& file, std::string_view text);
// The whole file; control files are small.
Result<std::string> read_control(const std::filesystem::path& file);
// The first number of the file ("max" reads as UINT64_MAX).
Result<std::uint64_t> read_control_u64(const std::filesystem::path& file);
// The value of "KEY VALUE" lines (memory.events, memory.oom_control); 0 when absent.
std::uint64_t read_keyed_u64(const std::filesystem::path& file, std::string_view key);
bool control_exists(const std::filesystem::path& file);

// A control file read again and again (the memory peak, after every invocation): opened
// once, re-read in place with pread, closed before its cgroup is removed.
class OpenControl {
 public:
  explicit OpenControl(std::filesystem::path file) : file_(std::move(file)) {}
  // As read_control_u64; opens the file on first use.
  Result<std::uint64_t> read_u64() const;
  void close() { fd_.reset(); }

 private:
  std::filesystem::path file_;
  mutable UniqueFd fd_;
};

}  // namespace ember::isolation
