#include "ember/bench/node_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ember::bench {

namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

std::string node_yaml(const std::vector<BenchFunction>& functions, const fs::path& state_dir,
                      const NodeSettings& settings) {
  std::ostringstream yaml;
  yaml << "node:\n  listen: 127.0.0.1:0\n  state_dir: " << quoted(state_dir.string()) << "\n";
  if (settings.memory_budget_mb)
    yaml << "  memory_budget_mb: " << *settings.memory_budget_mb << "\n";
  if (settings.max_workers) yaml << "  max_workers: " << *settings.max_workers << "\n";
  if (settings.freeze_idle_after_ms) {
    yaml << "  freeze_idle_after_ms: " << *settings.freeze_idle_after_ms << "\n";
  }
  yaml << "functions:\n";
  for (const auto& f : functions) {
    yaml << "  - name: " << f.name << "\n    runtime: " << f.runtime << "\n";
    if (!f.handler.empty()) yaml << "    handler: " << quoted(f.handler) << "\n";
    yaml << "    code: " << quoted(f.code.string()) << "\n";
    yaml << "    reserved_concurrency: " << f.reserved_concurrency << "\n";
    if (f.max_reuse) yaml << "    max_reuse: " << *f.max_reuse << "\n";
    if (f.provisioned) yaml << "    provisioned: " << *f.provisioned << "\n";
    if (f.keep_alive) yaml << "    keep_alive: " << *f.keep_alive << "\n";
    if (f.keep_alive_s) yaml << "    keep_alive_s: " << *f.keep_alive_s << "\n";
    if (f.isolation) yaml << "    isolation: " << *f.isolation << "\n";
    if (f.network) yaml << "    network: " << *f.network << "\n";
    if (f.zygote) yaml << "    zygote: true\n";
  }
  return yaml.str();
}

std::unique_ptr<NodeProcess> NodeProcess::start(const NodeSpec& spec, std::string& error) {
  std::unique_ptr<NodeProcess> node(new NodeProcess());
  const auto config = node->dir_.path() / "ember.yaml";
  std::ofstream(config) << node_yaml(spec.functions, node->dir_.path() / "state", spec.settings);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    error = "pipe2 failed";
    return nullptr;
  }
  Fd ready_read;
  Fd ready_write;
  ready_read.fd = fds[0];
  ready_write.fd = fds[1];
  SpawnOptions options;
  options.argv = {spec.ember.string(), "serve", "--config", config.string(), "--ready-fd", "3"};
  if (spec.time_scale) {
    std::ostringstream scale;
    scale << *spec.time_scale;
    options.argv.insert(options.argv.end(), {"--time-scale", scale.str()});
  }
  options.output = node->dir_.path() / "node.log";
  options.pass_fd = ready_write.fd;
  try {
    node->child_ = Child(options);
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
  ready_write.reset();  // so a node that dies before writing gives EOF, not a hang

  std::string address;
  pollfd pfd{ready_read.fd, POLLIN, 0};
  if (::poll(&pfd, 1, 30'000) > 0) {
    char buf[128];
    const auto n = ::read(ready_read.fd, buf, sizeof buf);
    if (n > 0) address.assign(buf, static_cast<std::size_t>(n));
  }
  while (!address.empty() && (address.back() == '\n' || address.back() == '\r')) {
    address.pop_back();
  }
  const auto endpoint = parse_endpoint(address);
  if (!endpoint) {
    node->child_.stop(std::chrono::seconds(5));
    error = "ember serve did not become ready: " + node->output();
    return nullptr;
  }
  node->endpoint_ = *endpoint;
  return node;
}

NodeProcess::~NodeProcess() { stop(); }

std::string NodeProcess::output() const { return read_all(dir_.path() / "node.log"); }

int NodeProcess::stop() { return child_.stop(std::chrono::seconds(10)); }

}  // namespace ember::bench
