// A temporary directory for a test or a bench run, removed with everything in it, and
// reading back what was written into it.
#pragma once

#include <filesystem>
#include <string>

namespace ember::client {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ember-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The whole content of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace ember::client
