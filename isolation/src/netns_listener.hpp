// The Runtime API socket of a sandbox with its own network namespace.
#pragma once

#include <sys/types.h>

#include "loopback_listener.hpp"

namespace ember::isolation {

// Enters pid's network namespace on this thread, brings its loopback up, listens on
// 127.0.0.1:port there and returns to the thread's own namespace. The socket stays in the
// sandbox's namespace: only that sandbox can connect to it, and it cannot reach anything else.
Result<Listener> listen_in_netns(pid_t pid, unsigned short port);

}  // namespace ember::isolation
