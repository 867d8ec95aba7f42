// A bounded HTTP/1.1 server loop shared by the Runtime API and the Invoke API.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace ember::runtime_api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct ServerLimits {
  std::size_t header_bytes = 16 * 1024;      // request line plus headers
  std::size_t body_bytes = 6 * 1024 * 1024;  // larger bodies get `too_large`
  std::chrono::seconds idle{900};            // a keep-alive connection with no request
  std::chrono::seconds transfer{60};         // reading one request, writing one response
  std::size_t max_connections = 256;         // more are accepted and closed at once
};

// The two ends of the connection a request came on.
struct Peer {
  boost::asio::ip::tcp::endpoint remote;  // the client
  boost::asio::ip::tcp::endpoint local;   // the listener's address and port
};

// Everything the loop needs from the API it serves.
struct HttpApi {
  // Answers one request; may wait (the Runtime API's `next` does).
  std::function<boost::asio::awaitable<Response>(Request&, const Peer&)> handle;
  // The API's own 413 answer for a body over ServerLimits::body_bytes.
  std::function<Response(const Request&)> too_large;
  // The API's own 400 answer for a request it cannot parse.
  std::function<Response(std::string_view what)> malformed;
};

// Tracks a server's open connections so they can all be closed at once.
class ConnectionSet;

// Owns an acceptor and every connection it accepted. close() ends them all; the coroutines
// finish on their own afterwards. Safe to destroy while they still run.
class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  HttpServer(boost::asio::ip::tcp::acceptor acceptor, HttpApi api, ServerLimits limits);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;
  ~HttpServer();

  // Starts accepting on the acceptor's executor.
  void start();
  // Stops accepting; open connections carry on.
  void stop_accepting();
  // Stops accepting and closes every connection.
  void close();
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  HttpApi api_;
  ServerLimits limits_;
  std::unique_ptr<ConnectionSet> connections_;
  bool closed_ = false;
};

}  // namespace ember::runtime_api
