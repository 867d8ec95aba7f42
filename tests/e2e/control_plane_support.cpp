#include "control_plane_support.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

namespace ember::test {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void make_zip(const fs::path& zip, const std::map<std::string, std::string>& files,
              const std::string& mode) {
  std::string script =
      "import sys, zipfile\n"
      "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n";
  for (const auto& [name, content] : files) {
    script += "    i = zipfile.ZipInfo('" + name +
              "'); i.create_system = 3; i.external_attr = " + mode + " << 16\n    z.writestr(i, " +
              content + ")\n";
  }
  const auto result = run({"python3", "-c", script, zip.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

fs::path python_zip(const fs::path& dir, int version) {
  const auto zip = dir / ("v" + std::to_string(version) + ".zip");
  make_zip(zip, {{"lambda_function.py",
                  "'import os\\ndef lambda_handler(event, context):\\n    return {\"version\": " +
                      std::to_string(version) +
                      ", \"greeting\": os.environ.get(\"GREETING\", \"\")}\\n'"}});
  return zip;
}

std::string code_sha256(const fs::path& file) {
  const auto r = run({"python3", "-c",
                      "import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open("
                      "sys.argv[1],'rb').read()).digest()).decode())",
                      file.string()});
  return r.out.substr(0, r.out.find('\n'));
}

std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

boost::json::object json_of(const CommandResult& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return ec || !v.is_object() ? boost::json::object{} : v.as_object();
}

FunctionSpec hello() {
  return {.name = "hello", .code = source_dir() / "examples" / "hello-python"};
}

CommandResult Cli::lambda(std::vector<std::string> args) const {
  std::vector<std::string> argv = {program_, "lambda"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--endpoint-url", node_.endpoint(), "--output", "json"});
  return run(argv, Node::aws_env());
}

std::string Cli::invoke(const std::string& name) const { return invoke_reporting(name).first; }

std::pair<std::string, boost::json::object> Cli::invoke_reporting(
    const std::string& name, const std::vector<std::string>& extra) const {
  const auto out = node_.dir() / "out.json";
  fs::remove(out);
  std::vector<std::string> args = {"invoke", "--function-name", name};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(out.string());
  const auto r = lambda(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return {read(out), json_of(r)};
}

std::optional<std::string> aws_v1() {
  auto which = run({"/bin/sh", "-c", "command -v aws"});
  std::string aws = which.out.substr(0, which.out.find('\n'));
  if (which.exit_code != 0 || aws.empty()) return std::nullopt;
  auto version = run({aws, "--version"}, Node::aws_env());
  if ((version.out + version.err).find("aws-cli/1.") == std::string::npos) return std::nullopt;
  return aws;
}

}  // namespace ember::test
