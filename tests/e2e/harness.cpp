#include "harness.hpp"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;  // NOLINT: POSIX

namespace ember::test {

namespace fs = std::filesystem;

fs::path source_dir() { return EMBER_SOURCE_DIR; }
fs::path testcases_dir() { return source_dir() / "tests" / "testcases"; }
fs::path ember_exe() { return fs::path(EMBER_BINARY_DIR) / "ember"; }

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string random_marker() {
  std::random_device rd;
  std::ostringstream out;
  out << std::hex << rd() << rd();
  return out.str();
}

// Spawns argv with stdout/stderr to files and optionally fd 3 = extra_fd.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const fs::path& out, const fs::path& err, int extra_fd = -1) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (extra_fd >= 0) posix_spawn_file_actions_adddup2(&actions, extra_fd, 3);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {  // NOLINT: walking environ
    std::string entry(*e);
    const auto key = entry.substr(0, entry.find('='));
    if (env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));  // NOLINT
  c_env.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for pid up to `limit`; kills it when the limit passes. Returns the exit status.
int wait_bounded(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<HttpReply*>(user)->body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<HttpReply*>(user)->headers[name] = value;
  }
  return size * n;
}

}  // namespace

std::string HttpReply::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& extra_env, std::chrono::seconds limit) {
  TempDir dir;
  CommandResult result;
  const pid_t pid = spawn(argv, extra_env, dir.path() / "out", dir.path() / "err");
  result.exit_code = wait_bounded(pid, limit);
  result.out = read_file(dir.path() / "out");
  result.err = read_file(dir.path() / "err");
  return result;
}

Node::Node(const std::vector<FunctionSpec>& functions, const std::string& node_yaml)
    : marker_(random_marker()) {
  std::ostringstream yaml;
  yaml << "node:\n  listen: 127.0.0.1:0\n  state_dir: " << (dir() / "state").string() << "\n"
       << node_yaml;
  yaml << "functions:\n";
  for (const auto& f : functions) {
    yaml << "  - name: " << f.name << "\n    runtime: " << f.runtime << "\n";
    if (!f.handler.empty()) yaml << "    handler: " << f.handler << "\n";
    yaml << "    code: " << f.code.string() << "\n    timeout_s: " << f.timeout_s
         << "\n    memory_mb: " << f.memory_mb
         << "\n    reserved_concurrency: " << f.reserved_concurrency
         << "\n    keep_alive_s: " << f.keep_alive_s << "\n    environment:\n"
         << "      EMBER_TEST_MARKER: \"" << marker_ << "\"\n";
    for (const auto& [k, v] : f.environment) yaml << "      " << k << ": \"" << v << "\"\n";
    yaml << f.extra_yaml;
  }
  const auto config = dir() / "ember.yaml";
  std::ofstream(config) << yaml.str();

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) throw std::runtime_error("pipe2");
  pid_ = spawn({ember_exe().string(), "serve", "--config", config.string(), "--ready-fd", "3"}, {},
               dir() / "stdout", dir() / "stderr", ready[1]);
  ::close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  std::string address;
  if (::poll(&pfd, 1, 20'000) > 0) {
    char buf[128];
    const auto n = ::read(ready[0], buf, sizeof buf);
    if (n > 0) address.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(ready[0]);
  while (!address.empty() && address.back() == '\n') address.pop_back();
  if (address.empty()) {
    stop();
    throw std::runtime_error("ember serve did not become ready: " + read_file(dir() / "stderr"));
  }
  endpoint_ = "http://" + address;
}

Node::~Node() { stop(); }

int Node::stop() {
  if (stopped_ || pid_ <= 0) return 0;
  stopped_ = true;
  ::kill(pid_, SIGTERM);
  return wait_bounded(pid_, std::chrono::seconds(20));
}

HttpReply Node::invoke(const std::string& function_path, const std::string& payload,
                       const std::vector<std::string>& headers) const {
  // curl_global_init is not thread-safe and tests call this from several threads.
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return {};
  HttpReply reply;
  CURL* curl = curl_easy_init();
  const auto query_at = function_path.find('?');
  const std::string url = endpoint_ + "/2015-03-31/functions/" + function_path.substr(0, query_at) +
                          "/invocations" +
                          (query_at == std::string::npos ? "" : function_path.substr(query_at));
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // A large body would otherwise make libcurl wait for "100 Continue" first; a client may do
  // either, so the default stays on for payloads over 1 MB (the server answers both ways).
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

std::string Node::stdout_text() const { return read_file(dir() / "stdout"); }

std::string Node::logs(const std::string& function) const {
  std::vector<fs::path> files;
  const auto dir_path = dir() / "state" / "logs" / function;
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
  const auto dir_path = dir() / "state" / "logs" / function;
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
