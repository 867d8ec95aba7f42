#include "ember/client/http.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace ember::client {
namespace {

using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 with an ephemeral port; a thread answers each connection
// with `answer` after reading a request head, or holds it unanswered when `answer` is empty.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    auto* generic = reinterpret_cast<sockaddr*>(&addr);  // NOLINT: the socket API
    EXPECT_EQ(::bind(fd_, generic, len), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    EXPECT_EQ(::getsockname(fd_, generic, &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      if (!answer_.empty()) {
        (void)::send(conn, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      } else {
        (void)::recv(conn, buf, sizeof buf, 0);  // until the client gives up and closes
      }
      ::close(conn);
    });
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;
  OneShotServer(OneShotServer&&) = delete;
  OneShotServer& operator=(OneShotServer&&) = delete;
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string answer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(HttpRequest, ReturnsStatusBodyAndLowerCaseHeaders) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\n{}");
  HttpRequest request;
  request.url = server.url() + "/2015-03-31/functions/f/invocations";
  request.body = "{\"a\":1}";
  request.headers = {"X-Amz-Log-Type: Tail"};
  const auto reply = http_request(request);
  EXPECT_EQ(reply.error, "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{}");
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(reply.header("absent"), "");
}

TEST(HttpRequest, GivesUpAtItsTimeoutWhenNoAnswerComes) {
  OneShotServer silent("");
  HttpRequest request;
  request.url = silent.url() + "/";
  request.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const auto reply = http_request(request);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.status, 0);
  EXPECT_NE(reply.error.find("imeout"), std::string::npos) << reply.error;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 10s);
}

TEST(HttpRequest, SaysWhyWhenNothingListens) {
  std::string url;
  {
    OneShotServer gone("HTTP/1.1 204 No Content\r\n\r\n");
    url = gone.url();
    HttpRequest first;
    first.url = url + "/";
    EXPECT_EQ(http_request(first).status, 204);
  }  // closed: the port refuses from now on
  HttpRequest request;
  request.url = url + "/";
  const auto reply = http_request(request);
  EXPECT_EQ(reply.status, 0);
  EXPECT_FALSE(reply.error.empty());
}

TEST(UrlEscape, PercentEncodesWhatAPathSegmentCannotHold) {
  EXPECT_EQ(url_escape("hello"), "hello");
  EXPECT_EQ(url_escape("f:$LATEST"), "f%3A%24LATEST");
  EXPECT_EQ(url_escape("a/b c"), "a%2Fb%20c");
}

}  // namespace
}  // namespace ember::client
