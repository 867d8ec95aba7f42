#include "harness.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "ember/client/child_process.hpp"

namespace ember::test {

namespace fs = std::filesystem;
using client::read_file;

fs::path source_dir() { return EMBER_SOURCE_DIR; }
fs::path testcases_dir() { return source_dir() / "tests" / "testcases"; }
fs::path ember_exe() { return fs::path(EMBER_BINARY_DIR) / "ember"; }

namespace {

std::string random_marker() {
  std::random_device rd;
  std::ostringstream out;
  out << std::hex << rd() << rd();
  return out.str();
}

client::LocalNodeSpec node_spec(const std::vector<FunctionSpec>& functions,
                                const NodeSettings& settings, const std::string& marker,
                                const std::optional<fs::path>& state_dir,
                                const std::optional<fs::path>& output) {
  client::LocalNodeSpec spec;
  spec.state_dir = state_dir;
  spec.output = output;
  spec.ember = ember_exe();
  spec.settings = settings;
  spec.dir_prefix = "ember-test-";
  for (const auto& f : functions) {
    client::NodeFunction function;
    function.name = f.name;
    function.runtime = f.runtime;
    function.handler = f.handler;
    function.code = f.code;
    function.timeout_s = f.timeout_s;
    function.memory_mb = f.memory_mb;
    function.reserved_concurrency = f.reserved_concurrency;
    function.keep_alive_s = f.keep_alive_s;
    function.max_reuse = f.max_reuse;
    function.provisioned = f.provisioned;
    function.ephemeral_storage_mb = f.ephemeral_storage_mb;
    function.zygote = f.zygote;
    function.environment = f.environment;
    function.environment["EMBER_TEST_MARKER"] = marker;
    function.layers = f.layers;
    function.image = f.image;
    function.image_config = f.image_config;
    function.isolation = f.isolation;
    function.async = f.async;
    function.http = f.http;
    function.logging = f.logging;
    function.mounts = f.mounts;
    function.keys = f.keys;
    spec.functions.push_back(std::move(function));
  }
  return spec;
}

}  // namespace

CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& extra_env, std::chrono::seconds limit) {
  TempDir dir("ember-test-run-");
  client::ChildOptions options;
  options.argv = argv;
  options.env = extra_env;
  options.output = dir.path() / "out";
  options.errors = dir.path() / "err";
  CommandResult result;
  {
    client::ChildProcess child(options);
    const auto status = child.wait_for(limit);
    result.exit_code = status.value_or(-1);  // -1: killed at the limit (by the destructor)
  }
  result.out = read_file(dir.path() / "out");
  result.err = read_file(dir.path() / "err");
  return result;
}

Node::Node(const std::vector<FunctionSpec>& functions, const NodeSettings& settings,
           const std::optional<fs::path>& state_dir, const std::optional<fs::path>& output)
    : marker_(random_marker()),
      node_(node_spec(functions, settings, marker_, state_dir, output)),
      endpoint_("http://" + node_.address()) {}

Node::~Node() { stop(); }

void Node::rewrite_config(const std::vector<FunctionSpec>& functions,
                          const NodeSettings& settings) const {
  const auto spec = node_spec(functions, settings, marker_, state_dir(), std::nullopt);
  const auto next = dir() / "ember.yaml.next";
  std::ofstream(next) << client::node_yaml(spec.functions, state_dir(), settings);
  fs::rename(next, config_file());
}

int Node::stop() { return node_.stop(std::chrono::seconds(20)); }

HttpReply Node::invoke(const std::string& function_path, const std::string& payload,
                       const std::vector<std::string>& headers) const {
  const auto query_at = function_path.find('?');
  client::HttpRequest request;
  request.url = endpoint_ + "/2015-03-31/functions/" + function_path.substr(0, query_at) +
                "/invocations" +
                (query_at == std::string::npos ? "" : function_path.substr(query_at));
  request.body = payload;
  // libcurl sends "Expect: 100-continue" before a body over 1 MB; a client may do either,
  // so it stays on (the server answers both ways).
  request.headers = headers;
  return client::http_request(request);
}

std::string Node::logs(const std::string& function) const {
  std::vector<fs::path> files;
  const auto dir_path = state_dir() / "logs" / function;
  if (!fs::exists(dir_path)) return "";
  for (const auto& entry : fs::directory_iterator(dir_path)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::string all;
  for (const auto& f : files) all += read_file(f);
  return all;
}

std::string Node::wait_for_log(const std::string& function, const std::string& needle) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text = logs(function);
  while (text.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = logs(function);
  }
  return text;
}

std::size_t Node::log_stream_count(const std::string& function) const {
  const auto dir_path = state_dir() / "logs" / function;
  if (!fs::exists(dir_path)) return 0;
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir_path), fs::directory_iterator()));
}

std::vector<pid_t> Node::worker_processes() const {
  std::vector<pid_t> pids;
  const std::string needle = "EMBER_TEST_MARKER=" + marker_;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string env = read_file(entry.path() / "environ");
    // Zombies have an empty environ; they are gone for every purpose that matters here.
    if (env.find(needle) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

bool Node::worker_processes_end() const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!worker_processes().empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::map<std::string, std::string> Node::aws_env() {
  return {{"AWS_ACCESS_KEY_ID", "ember"},
          {"AWS_SECRET_ACCESS_KEY", "ember"},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"AWS_PAGER", ""}};
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace ember::test
