#include "clone_init.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "init_protocol.hpp"

namespace ember::isolation {
namespace {

constexpr std::size_t kStackSize = std::size_t{64} * 1024;

// Everything the child needs, prepared by the parent: the child only makes system calls.
struct ChildArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  int handshake_fd;
  int launch_fd;
  int output_fd;
  int exec_errno;  // written by the child when execve fails; shared memory (CLONE_VM)
};

// Runs on the borrowed stack with the engine's memory: no allocation, no locks, no
// sanitizer instrumentation (its shadow memory is the parent's).
__attribute__((no_sanitize("address", "undefined"))) int child_main(void* opaque) {
  auto* args = static_cast<ChildArgs*>(opaque);
  if (args->output_fd >= 0) {
    ::dup2(args->output_fd, STDOUT_FILENO);
    ::dup2(args->output_fd, STDERR_FILENO);
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  // Copies above both targets first, so neither dup2 overwrites the other's source; the
  // copies are closed at exec with everything else.
  const int handshake = ::fcntl(args->handshake_fd, F_DUPFD, init::kLaunchFd + 1);
  const int launch = ::fcntl(args->launch_fd, F_DUPFD, init::kLaunchFd + 1);
  ::dup2(handshake, init::kHandshakeFd);  // dup2 clears FD_CLOEXEC
  ::dup2(launch, init::kLaunchFd);
  // Nothing else of the engine's may reach the sandbox: Asio opens its sockets (the Invoke
  // API listener, client connections) without close-on-exec. This fd table is the child's
  // own copy (no CLONE_FILES), so the parent's is untouched.
  static_assert(init::kHandshakeFd == STDERR_FILENO + 1 &&
                init::kLaunchFd == init::kHandshakeFd + 1);
  ::close_range(init::kLaunchFd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(args->path, args->argv, args->envp);
  args->exec_errno = errno;
  ::_exit(127);
}

// Blocks every signal for the lifetime of the clone, so no engine signal handler runs in the
// child while it shares the engine's memory; init resets the mask.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked(AllSignalsBlocked&&) = delete;
  AllSignalsBlocked& operator=(AllSignalsBlocked&&) = delete;
  ~AllSignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_{};
};

class Stack {
 public:
  Stack()
      : base_(::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {}
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  Stack(Stack&&) = delete;
  Stack& operator=(Stack&&) = delete;
  ~Stack() {
    if (valid()) ::munmap(base_, kStackSize);
  }
  [[nodiscard]] bool valid() const { return base_ != MAP_FAILED; }
  [[nodiscard]] void* top() const { return static_cast<char*>(base_) + kStackSize; }

 private:
  void* base_;
};

}  // namespace

Result<InitProcess> clone_init(const CloneRequest& request) {
  Stack stack;
  if (!stack.valid()) return last_error("mmap clone stack");
  const std::string path = request.init_path.string();
  std::string name = "ember-sandbox-init";  // execve's argv is not const
  char* argv[] = {name.data(), nullptr};
  char* envp[] = {nullptr};
  ChildArgs args{path.c_str(),      argv, envp, request.handshake_fd, request.launch_fd,
                 request.output_fd, 0};

  int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
              CLONE_NEWUTS | SIGCHLD;
  if (request.new_network) flags |= CLONE_NEWNET;
  int pidfd = -1;
  pid_t pid = -1;
  {
    const AllSignalsBlocked blocked;
    pid = ::clone(child_main, stack.top(), flags, &args, &pidfd);
  }
  if (pid < 0) {
    return last_error("clone(CLONE_NEWNS|CLONE_NEWPID|...)",
                      "needs root (CAP_SYS_ADMIN) and a kernel with namespaces");
  }
  InitProcess process(pid, UniqueFd(pidfd));
  if (args.exec_errno != 0) {
    // The child already exited; the destructor reaps it.
    return SysError{args.exec_errno, "execve " + path,
                    "ember-sandbox-init is built and installed with ember; or set "
                    "NativeOptions::init_path"};
  }
  return process;
}

}  // namespace ember::isolation
