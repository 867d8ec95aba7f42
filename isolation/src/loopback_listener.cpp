#include "loopback_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ember::isolation {

Result<Listener> listen_on_loopback(unsigned short port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return last_error("socket(AF_INET, SOCK_STREAM)");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return last_error("bind 127.0.0.1:" + std::to_string(port));
  }
  // A worker's runtime holds one or two connections; a short backlog bounds the rest.
  if (::listen(fd.get(), 16) < 0) return last_error("listen 127.0.0.1");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return last_error("getsockname");
  }
  return Listener{std::move(fd), "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
}

}  // namespace ember::isolation
