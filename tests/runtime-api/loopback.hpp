// An HttpServer on 127.0.0.1:0 and raw HTTP clients, all on one io_context that the test
// drives: every wait is a wait for an event, with a bound only as a failure backstop.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ember/runtime_api/http_server.hpp"

namespace ember::runtime_api::test {

using Clock = std::chrono::steady_clock;
// How long a test waits for something that should happen at once before it fails.
inline constexpr Clock::duration kBackstop = std::chrono::seconds(10);

// The test's event loop. Handlers run only inside run_until, on the test's thread.
class Loop {
 public:
  // Runs handlers until `done()` holds; false when `bound` passed first.
  template <class Done>
  bool run_until(Done done, Clock::duration bound = kBackstop) {
    const auto deadline = Clock::now() + bound;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io.run_one_until(deadline);
    }
    return true;
  }

  boost::asio::io_context io;

 private:
  // Keeps run_one_until blocking for the next event when nothing is pending.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io.get_executor()};
};

// An HttpServer listening on an ephemeral loopback port. Closing it (or destroying this)
// leaves sessions to finish on their own, as in the node.
class LoopbackServer {
 public:
  LoopbackServer(Loop& loop, HttpApi api, ServerLimits limits);
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  LoopbackServer(LoopbackServer&&) = delete;
  LoopbackServer& operator=(LoopbackServer&&) = delete;
  ~LoopbackServer();

  [[nodiscard]] boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  HttpServer& server() { return *server_; }
  // Gives up the test's reference: the server lives on only while its coroutines run.
  std::weak_ptr<HttpServer> release();

 private:
  std::shared_ptr<HttpServer> server_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

// One client connection that writes raw bytes and reads whole responses.
class RawClient {
 public:
  // `from`: the local address to connect from (any of 127.0.0.0/8 is this host), so a test
  // can play several clients.
  RawClient(Loop& loop, const boost::asio::ip::tcp::endpoint& server,
            const std::optional<boost::asio::ip::address>& from = std::nullopt);
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&&) = delete;
  RawClient& operator=(RawClient&&) = delete;
  ~RawClient();

  // ECONNREFUSED and the like; empty when connected.
  [[nodiscard]] boost::system::error_code connect_error() const { return connect_error_; }

  // Starts writing `bytes` and returns: the write goes on while the test waits for other things.
  void send(std::string bytes);
  // Runs the loop until every write finished; its error (empty when all went out).
  boost::system::error_code finish_sending();
  // The next response, complete; nullopt when the connection ended or `bound` passed first
  // (last_error() says which).
  std::optional<Response> receive(Clock::duration bound = kBackstop);
  // Waits for the server to end the connection (end of stream or reset); false when it is
  // still open after `bound`. Discards anything the server still sends.
  bool wait_closed(Clock::duration bound = kBackstop);
  [[nodiscard]] boost::system::error_code last_error() const { return last_error_; }

 private:
  struct Writes;
  Loop& loop_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;  // kept across receives: pipelined answers arrive together
  std::shared_ptr<Writes> writes_;
  boost::system::error_code connect_error_;
  boost::system::error_code last_error_;
};

// `req` as it goes on the wire, with Host and the body's Content-Length set.
std::string wire(Request req);
// A request with `target`, method and body; HTTP/1.1.
Request request(boost::beast::http::verb method, std::string target, std::string body = {});

}  // namespace ember::runtime_api::test
