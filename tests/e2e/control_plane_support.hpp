// What the control plane's end-to-end tests share: zips of small Python functions, the AWS
// CLIs (v1 and v2) pointed at a node, and reading their JSON output.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace ember::test {

namespace fs = std::filesystem;

std::string read(const fs::path& p);
// A zip at `zip` holding `files` (name -> Python source of its content), each with `mode`.
void make_zip(const fs::path& zip, const std::map<std::string, std::string>& files,
              const std::string& mode = "0o100644");
// A Python function answering {"version": N, "greeting": $GREETING}.
fs::path python_zip(const fs::path& dir, int version);
// base64(sha256(file)), what CodeSha256 must say.
std::string code_sha256(const fs::path& file);
std::string text(const boost::json::value& v);
boost::json::object json_of(const CommandResult& r);
// The config file's function every test node has.
FunctionSpec hello();

// One AWS CLI (v1 or v2) against a node.
class Cli {
 public:
  Cli(std::string program, const Node& node) : program_(std::move(program)), node_(node) {}

  [[nodiscard]] CommandResult lambda(std::vector<std::string> args) const;

  // The function's answer to {}.
  [[nodiscard]] std::string invoke(const std::string& name) const;
  // The function's answer to {} and the CLI's output (StatusCode, ExecutedVersion); `extra`
  // follows --function-name NAME (e.g. --qualifier Q).
  [[nodiscard]] std::pair<std::string, boost::json::object> invoke_reporting(
      const std::string& name, const std::vector<std::string>& extra = {}) const;

  [[nodiscard]] bool is_v2() const { return program_ == "/usr/bin/aws"; }

 private:
  std::string program_;
  const Node& node_;
};

// The AWS CLI v1 when it is first on PATH.
std::optional<std::string> aws_v1();

}  // namespace ember::test
