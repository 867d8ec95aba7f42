#include "ember/client/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

// Boost 1.81's Process v2 with std::filesystem (BOOST_PROCESS_USE_STD_FS, set for this file
// only, so no Boost.Filesystem library is needed) names boost::optional, boost::decay and
// boost::remove_pointer without including them; later releases do.
#include <boost/optional.hpp>
#include <boost/type_traits/decay.hpp>
#include <boost/type_traits/remove_pointer.hpp>
// Then Process v2 itself, header-only.
#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

extern char** environ;  // NOLINT: POSIX

namespace ember::client {

namespace bp = boost::process::v2;
namespace fs = std::filesystem;

namespace {

// Closes a descriptor this file opened for the child once the child has its copy.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::generic_category().message(errno); }

OwnedFd open_or_throw(const fs::path& path, int flags) {
  OwnedFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw std::runtime_error("open " + path.string() + ": " + errno_text());
  return fd;
}

// Boost 1.81's launcher ends a forked child whose exec failed with exit(), which would run
// this process's atexit handlers and flush its stdio buffers a second time; end it with
// _exit instead, once the launcher has reported the error to the parent. (1.81 detects the
// hook with five arguments and calls it with four, hence both.)
struct ExitQuietlyOnExecError {
  template <typename Launcher, typename Path>
  void on_exec_error(Launcher& /*launcher*/, const Path& /*exe*/, const char* const* /*argv*/,
                     const bp::error_code& /*ec*/) const {
    ::_exit(127);
  }
  template <typename Launcher, typename Path>
  void on_exec_error(Launcher& /*launcher*/, const bp::error_code& /*ec*/, const Path& /*exe*/,
                     const char* const* /*argv*/, const bp::error_code& /*ec2*/) const {
    ::_exit(127);
  }
};

// The child's whole environment. (Process v2's own process_environment is not usable
// header-only in 1.81: its on_setup is defined in a file no header includes.)
struct Environment {
  std::vector<std::string> entries;
  std::vector<const char*> pointers;
  explicit Environment(std::vector<std::string> e) : entries(std::move(e)) {
    for (const auto& entry : entries) pointers.push_back(entry.c_str());
    pointers.push_back(nullptr);
  }
  bp::error_code on_setup(bp::posix::default_launcher& launcher, const fs::path& /*exe*/,
                          const char* const* /*argv*/) const {
    launcher.env = pointers.data();
    return {};
  }
};

// `fd` becomes the child's fd 3 and stays open across exec. (Process v2's posix::bind_fd
// cannot serve in 1.81: its on_setup falls off its end without returning.)
struct PassFd {
  int fd = -1;  // -1: nothing to pass
  bp::error_code on_setup(bp::posix::default_launcher& launcher, const fs::path& /*exe*/,
                          const char* const* /*argv*/) const {
    if (fd >= 0) launcher.fd_whitelist.push_back(kPassedFd);
    return {};
  }
  bp::error_code on_exec_setup(bp::posix::default_launcher& /*launcher*/, const fs::path& /*exe*/,
                               const char* const* /*argv*/) const {
    if (fd >= 0 && ::dup2(fd, kPassedFd) < 0) return {errno, bp::system_category()};
    return {};
  }
  static constexpr int kPassedFd = 3;
};

// Closes every descriptor the launcher does not keep (its whitelist: 0-2, fd 3 when passed,
// its error pipe). 1.81's own pass closes only those above the highest kept one: it compares
// each kept descriptor with itself instead of the next. Runs in the forked child, so it only
// reads the whitelist, allocating nothing; it goes last, after the dup2s whose sources it
// closes.
struct CloseTheRest {
  static bp::error_code on_exec_setup(bp::posix::default_launcher& launcher,
                                      const fs::path& /*exe*/, const char* const* /*argv*/) {
    unsigned int low = 0;
    while (true) {
      unsigned int kept = ~0U;
      for (const int fd : launcher.fd_whitelist) {
        const auto u = static_cast<unsigned int>(fd);
        if (u >= low && u < kept) kept = u;
      }
      if (kept == ~0U) {
        ::close_range(low, ~0U, 0);
        return {};
      }
      if (kept > low) ::close_range(low, kept - 1, 0);
      low = kept + 1;
    }
  }
};

// The child leads a new process group (ChildOptions::own_process_group), set before exec so
// that every process it starts is in it.
struct OwnProcessGroup {
  bool wanted = false;
  bp::error_code on_exec_setup(bp::posix::default_launcher& /*launcher*/, const fs::path& /*exe*/,
                               const char* const* /*argv*/) const {
    if (wanted && ::setpgid(0, 0) < 0) return {errno, bp::system_category()};
    return {};
  }
};

std::vector<std::string> environment_for(const ChildOptions& options) {
  std::vector<std::string> env;
  if (!options.replace_env) {
    for (char** e = environ; *e != nullptr; ++e) {  // NOLINT: walking environ
      const std::string entry(*e);
      if (!options.env.contains(entry.substr(0, entry.find('=')))) env.push_back(entry);
    }
  }
  for (const auto& [key, value] : options.env) {
    std::string entry = key;
    entry += '=';
    entry += value;
    env.push_back(std::move(entry));
  }
  return env;
}

int status_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return 128 + WTERMSIG(wait_status);
}

}  // namespace

struct ChildProcess::State {
  boost::asio::io_context io;
  bp::process process{io};
  bool group = false;              // it leads its own process group: signal the group
  bool waiting = false;            // an async_wait is pending on the pidfd
  std::optional<int> exit_status;  // set by that wait once the child was reaped
};

ChildProcess::ChildProcess() = default;

ChildProcess::ChildProcess(const ChildOptions& options) : state_(std::make_unique<State>()) {
  const auto& program = options.argv.at(0);
  const auto exe = find_program(program);
  if (!exe) throw std::runtime_error("start " + program + ": not found or not executable");
  const std::vector<std::string> args(options.argv.begin() + 1, options.argv.end());
  const Environment env(environment_for(options));

  const OwnedFd in = open_or_throw("/dev/null", O_RDONLY);
  const OwnedFd out =
      open_or_throw(options.output.value_or("/dev/null"), O_WRONLY | O_CREAT | O_APPEND);
  std::optional<OwnedFd> err;
  if (options.errors) err.emplace(open_or_throw(*options.errors, O_WRONLY | O_CREAT | O_APPEND));
  // Not const: the launcher finds an initializer's hooks only on a non-const object and
  // silently skips them otherwise.
  bp::process_stdio stdio{in.get(), out.get(), err ? err->get() : out.get()};
  // A copy above 3, so the child's dup2 onto 3 is a real one (dup2 of fd 3 onto itself would
  // keep its close-on-exec flag).
  const OwnedFd pass(options.pass_fd >= 0 ? ::fcntl(options.pass_fd, F_DUPFD_CLOEXEC, 10) : -1);
  if (options.pass_fd >= 0 && pass.get() < 0) {
    throw std::runtime_error("fcntl F_DUPFD_CLOEXEC: " + errno_text());
  }
  const PassFd fd3{pass.get()};
  const OwnProcessGroup group{options.own_process_group};
  state_->group = options.own_process_group;

  bp::error_code ec;
  // The executor overloads: 1.81's io_context overload drops `ec` and throws instead.
  const auto executor = state_->io.get_executor();
  bp::default_process_launcher launch;
  if (options.cwd) {
    state_->process = bp::process(launch(executor, ec, *exe, args, stdio, env, fd3, group,
                                         bp::process_start_dir{*options.cwd},
                                         ExitQuietlyOnExecError{}, CloseTheRest{}));
  } else {
    state_->process = bp::process(launch(executor, ec, *exe, args, stdio, env, fd3, group,
                                         ExitQuietlyOnExecError{}, CloseTheRest{}));
  }
  if (ec) {
    state_.reset();
    throw std::runtime_error("start " + exe->string() + ": " + ec.message());
  }
}

ChildProcess ChildProcess::adopt(pid_t pid) {
  ChildProcess child;
  child.state_ = std::make_unique<State>();
  child.state_->process = bp::process(child.state_->io.get_executor(), pid);  // opens its pidfd
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept = default;

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    end();
    state_ = std::move(other.state_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { end(); }

void ChildProcess::end() noexcept {
  try {
    if (pid() > 0) stop(std::chrono::milliseconds(0));
  } catch (const std::exception&) {
    // Asio failed to wait: drop the handle, whose own destructor kills and reaps by pid.
    state_.reset();
  }
}

pid_t ChildProcess::pid() const { return state_ ? state_->process.id() : -1; }

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds limit) {
  if (pid() <= 0) return 0;
  State& state = *state_;
  if (!state.waiting) {
    state.waiting = true;
    // Completes when the pidfd becomes readable, then reaps the child.
    state.process.async_wait([&state](bp::error_code ec, int /*code*/) {
      state.waiting = false;
      state.exit_status = ec ? 128 + SIGKILL : status_of(state.process.native_exit_code());
    });
  }
  state.io.restart();
  state.io.run_for(limit);  // returns early once the wait completed: no work is left
  if (!state.exit_status) return std::nullopt;
  const int status = *state.exit_status;
  // Reaped: the pid may be reused from now on, so the handle is let go of before
  // basic_process's destructor could waitpid and kill by that pid.
  (void)state.process.detach();
  state_.reset();
  return status;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid() <= 0) return 0;
  bp::error_code ec;
  // The group's id is the leader's pid, which cannot be reused while the leader is unreaped,
  // as it is until wait_for reaps it: the signal reaches only what this child started.
  const auto signal = [&](int number) {
    if (state_->group) {
      ::kill(-pid(), number);
    } else if (number == SIGTERM) {
      state_->process.request_exit(ec);
    } else {
      state_->process.terminate(ec);
    }
  };
  if (grace.count() > 0) {
    signal(SIGTERM);
    if (const auto status = wait_for(grace)) return *status;
  }
  signal(SIGKILL);
  return wait_for(std::chrono::hours(1)).value_or(128 + SIGKILL);
}

namespace {

// A pipe's two ends, closed on scope exit.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) < 0) {
      throw std::runtime_error("pipe2 for a ready descriptor failed");
    }
    read = fds[0];
    write = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  Pipe(Pipe&&) = delete;
  Pipe& operator=(Pipe&&) = delete;
  ~Pipe() {
    close_write();
    if (read >= 0) ::close(read);
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

}  // namespace

ReadyChild start_until_ready(ChildOptions options, std::chrono::milliseconds limit) {
  Pipe ready;
  options.pass_fd = ready.write;
  ReadyChild out{ChildProcess(options), {}};
  ready.close_write();  // so a child that dies before writing gives EOF, not a wait
  const auto until = std::chrono::steady_clock::now() + limit;
  // Until EOF: the text may come in more than one write.
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd pfd{ready.read, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    std::array<char, 256> buf{};
    const auto n = ::read(ready.read, buf.data(), buf.size());
    if (n <= 0) break;
    out.ready_text.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

std::optional<fs::path> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return fs::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");  // NOLINT: read-only lookup
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace ember::client
