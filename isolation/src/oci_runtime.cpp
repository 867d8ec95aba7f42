#include "oci_runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

// The environment of a runtime's process: nothing of ember's own.
std::vector<std::string> runtime_env() {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
}

fs::path search_path(const fs::path& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  dirs += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', begin), dirs.size());
    if (end > begin) {
      fs::path candidate = fs::path(dirs.substr(begin, end - begin)) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    begin = end + 1;
  }
  return {};
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  for (ssize_t n = 0; (n = ::pread(fd, buffer, sizeof buffer, offset)) > 0; offset += n) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Result<OciRuntime> OciRuntime::find(const fs::path& name_or_path, const fs::path& state_dir) {
  if (name_or_path.empty()) return SysError{EINVAL, "OCI runtime: no name or path given", {}};
  fs::path path = name_or_path;
  if (!name_or_path.has_parent_path()) {
    path = search_path(name_or_path);
    if (path.empty()) {
      return SysError{
          ENOENT, "OCI runtime " + name_or_path.string() + ": not found in PATH",
          "install it (Debian: apt-get install " + name_or_path.string() + ") or give its path"};
    }
  } else if (::access(path.c_str(), X_OK) < 0) {
    return last_error("OCI runtime " + path.string(),
                      "give the path of an executable runc or crun");
  }
  fs::path state_root = state_dir / path.filename();
  return OciRuntime(std::move(path), std::move(state_root));
}

std::vector<std::string> OciRuntime::base_argv() const {
  return {path_.string(), "--root", state_root_.string()};
}

Result<SpawnedProcess> OciRuntime::run(const std::string& id, const fs::path& bundle,
                                       const fs::path& log, int output_fd) const {
  auto argv = base_argv();
  argv.insert(argv.end(), {"--log", log.string(), "--log-format", "json", "run"});
  // runc can keep the ended container, and with it its cgroup, where cgroup v1 counts an OOM
  // kill; the sandbox's clean-up deletes it. crun has no such flag.
  if (name() == "runc") argv.emplace_back("--keep");
  argv.insert(argv.end(),
              {"--bundle", bundle.string(), "--pid-file", (bundle / "pid").string(), id});
  // isolation's spawner, not ember::client's ChildProcess (spawn_process.hpp says why): a
  // session of its own, the sandbox's output fd as stdout and stderr, normal scheduling.
  SpawnRequest request{argv, runtime_env(), {}, output_fd};
  request.normal_scheduling = true;  // a prepared sandbox's thread may run at SCHED_IDLE
  return spawn_in_new_session(request);
}

Result<void> OciRuntime::command(const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout) const {
  auto argv = base_argv();
  argv.insert(argv.end(), args.begin(), args.end());
  std::string shown;
  for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
  UniqueFd output(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!output) return last_error("open an O_TMPFILE in /tmp for `" + shown + "`'s output");
  auto process = spawn_in_new_session(SpawnRequest{argv, runtime_env(), {}, output.get()});
  if (!process) return process.error();
  pollfd exited{process->pidfd(), POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&exited, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  if (ready == 0) {
    return SysError{ETIMEDOUT,
                    "`" + shown + "` did not end within " + std::to_string(timeout.count()) + " ms",
                    read_all(output.get())};
  }
  const auto status = process->try_reap();
  if (!status) return SysError{ECHILD, "reap `" + shown + "`", {}};
  if (!status->signaled && status->value == 0) return {};
  return SysError{0, "`" + shown + "`: " + status->describe() + ": " + read_all(output.get()), {}};
}

Result<void> OciRuntime::force_delete(const std::string& id) const {
  return command({"delete", "--force", id}, std::chrono::seconds(10));
}

std::vector<std::string> OciRuntime::container_ids() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_root_, ec)) {
    if (entry.is_directory(ec)) ids.push_back(entry.path().filename().string());
  }
  return ids;
}

std::string runtime_log_errors(const fs::path& log) {
  std::ifstream in(log);
  std::string errors;
  for (std::string line; std::getline(in, line);) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    const auto& object = value.as_object();
    const auto* level = object.if_contains("level");
    const auto* msg = object.if_contains("msg");
    if (level == nullptr || msg == nullptr || !level->is_string() || !msg->is_string()) continue;
    if (level->as_string() != "error" && level->as_string() != "fatal") continue;
    errors += (errors.empty() ? "" : "; ") + std::string(msg->as_string());
  }
  return errors;
}

}  // namespace ember::isolation
