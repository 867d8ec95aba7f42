// The processes and files a bench run owns: a temporary directory and child processes that
// are killed (by pid, never by name) and reaped when their owner goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ember::bench {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ember-bench-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct SpawnOptions {
  std::vector<std::string> argv;                // argv[0] is a path (no PATH search)
  std::map<std::string, std::string> env;       // the whole environment when replace_env
  bool replace_env = false;                     // else env is added to ours
  std::optional<std::filesystem::path> output;  // stdout+stderr; /dev/null when unset
  int pass_fd = -1;                             // becomes fd 3 in the child when >= 0
  std::optional<std::filesystem::path> cwd;
};

// A child started with posix_spawn. The destructor SIGKILLs it (if it still runs) and reaps it.
class Child {
 public:
  Child() = default;
  // Throws std::runtime_error naming the program and errno text when the spawn fails.
  explicit Child(const SpawnOptions& options);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  ~Child();

  [[nodiscard]] pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits up to `limit` for the child to end; its exit status (128+signal when killed), or
  // nullopt while it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  // SIGTERM, `grace` to end, then SIGKILL; returns the exit status.
  int stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
};

// argv[0] found on PATH (or as given when it holds a '/'); nullopt when absent.
std::optional<std::filesystem::path> find_program(const std::string& name);

}  // namespace ember::bench
