#include "netns_listener.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {
namespace {

// setns for the current thread, undone on scope exit. Failing to return would leave an
// engine thread in a sandbox's namespace: a broken invariant, so that aborts.
class NetnsGuard {
 public:
  explicit NetnsGuard(UniqueFd original) : original_(std::move(original)) {}
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  NetnsGuard(NetnsGuard&&) = delete;
  NetnsGuard& operator=(NetnsGuard&&) = delete;
  ~NetnsGuard() {
    if (::setns(original_.get(), CLONE_NEWNET) < 0) {
      std::perror("ember: setns back to the engine's network namespace");
      std::abort();
    }
  }

 private:
  UniqueFd original_;
};

Result<void> loopback_up() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return last_error("socket for SIOCSIFFLAGS");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &request) < 0) return last_error("ioctl SIOCGIFFLAGS lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &request) < 0) return last_error("ioctl SIOCSIFFLAGS lo up");
  return {};
}

}  // namespace

Result<Listener> listen_in_netns(pid_t pid, unsigned short port) {
  const std::string target_path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd target(::open(target_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) return last_error("open " + target_path);
  return listen_in_netns(target.get(), port, target_path);
}

Result<Listener> listen_in_netns(int netns_fd, unsigned short port, const std::string& name) {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return last_error("open /proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) < 0) {
    return last_error("setns " + name, "needs CAP_SYS_ADMIN");
  }
  const NetnsGuard back(std::move(original));
  if (auto up = loopback_up(); !up) return up.error();
  return listen_on_loopback(port);
}

Result<UniqueFd> tcp_socket() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return last_error("socket AF_INET SOCK_STREAM");
  return fd;
}

// Sandboxes on the host's network (the process backend, `network: host`) reach their
// processes through the host's loopback.
Result<UniqueFd> Sandbox::network_socket() const { return tcp_socket(); }

Result<UniqueFd> socket_in_netns(int netns_fd, const std::string& name) {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return last_error("open /proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) < 0) {
    return last_error("setns " + name, "needs CAP_SYS_ADMIN");
  }
  const NetnsGuard back(std::move(original));
  return tcp_socket();
}

Result<UniqueFd> socket_in_netns(pid_t pid) {
  const std::string target_path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd target(::open(target_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) return last_error("open " + target_path);
  return socket_in_netns(target.get(), target_path);
}

Result<UniqueFd> new_network_namespace() {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return last_error("open /proc/thread-self/ns/net");
  // unshare moves only this thread; the guard brings it back whatever happens next.
  if (::unshare(CLONE_NEWNET) < 0) return last_error("unshare CLONE_NEWNET", "needs CAP_SYS_ADMIN");
  const NetnsGuard back(std::move(original));
  UniqueFd created(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!created) return last_error("open the new /proc/thread-self/ns/net");
  return created;
}

}  // namespace ember::isolation
