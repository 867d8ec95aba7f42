// A listening TCP socket on an ephemeral 127.0.0.1 port.
#pragma once

#include <string>

#include "ember/isolation/sys_error.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {

struct Listener {
  UniqueFd fd;
  std::string address;  // "127.0.0.1:PORT", as AWS_LAMBDA_RUNTIME_API wants it
};

// port 0 picks a free port.
Result<Listener> listen_on_loopback(unsigned short port = 0);

}  // namespace ember::isolation
