// One worker's log stream: a file under the state directory plus the node's echo.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {

class LogStream {
 public:
  using Echo = std::function<void(std::string_view function, std::string_view line)>;

  // Creates log_dir/FUNCTION/DATE-ID.log. Throws std::runtime_error naming the path on failure.
  LogStream(const std::filesystem::path& log_dir, std::string function, Echo echo);

  // Lambda's stream name: "2026/11/27/[$LATEST]<32 hex>".
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Appends one line (without its newline).
  void write(std::string_view line);

 private:
  std::string function_;
  Echo echo_;
  std::string name_;
  std::filesystem::path path_;
  isolation::UniqueFd fd_;
};

}  // namespace ember::engine
