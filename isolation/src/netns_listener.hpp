// The Runtime API socket of a sandbox with its own network namespace.
#pragma once

#include <sys/types.h>

#include <string>

#include "loopback_listener.hpp"

namespace ember::isolation {

// Enters pid's network namespace on this thread, brings its loopback up, listens on
// 127.0.0.1:port there and returns to the thread's own namespace. The socket stays in the
// sandbox's namespace: only that sandbox can connect to it, and it cannot reach anything else.
Result<Listener> listen_in_netns(pid_t pid, unsigned short port);
// The same in the namespace netns_fd refers to; name is for error messages.
Result<Listener> listen_in_netns(int netns_fd, unsigned short port, const std::string& name);

// A TCP socket (IPv4, close-on-exec) made in the network namespace netns_fd refers to, where it
// stays: connecting it to 127.0.0.1 reaches that namespace's loopback. name is for errors.
Result<UniqueFd> socket_in_netns(int netns_fd, const std::string& name);
// The same in pid's network namespace.
Result<UniqueFd> socket_in_netns(pid_t pid);
// A plain one, in the caller's namespace.
Result<UniqueFd> tcp_socket();

// A new network namespace with no process in it (only lo, down), held by the returned fd:
// made on this thread, which returns to its own namespace. For the OCI backend, whose
// runtime joins it by path (/proc/self/fd/N) when it creates the container.
Result<UniqueFd> new_network_namespace();

}  // namespace ember::isolation
