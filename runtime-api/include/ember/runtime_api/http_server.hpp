// A bounded HTTP/1.1 server loop shared by the Runtime API and the Invoke API.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ember::runtime_api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct ServerLimits {
  std::size_t header_bytes = 16 * 1024;      // request line plus headers
  std::size_t body_bytes = 6 * 1024 * 1024;  // larger bodies get `too_large`
  // A keep-alive connection between requests: after an answer, until the next request's
  // first byte.
  std::chrono::seconds idle{900};
  // A request's head (request line and headers), from its first byte, or from the accept
  // for a connection's first request: a client that trickles or holds back its head is cut.
  std::chrono::seconds header{10};
  std::chrono::seconds transfer{60};  // reading one request's body, writing one response
  std::size_t max_connections = 256;  // more are accepted and closed at once
  // Connections one client address may hold; more from it are closed at once, so one client
  // cannot take every slot from the others. 0: max_connections / 4.
  std::size_t max_connections_per_client = 0;
};

// The two ends of the connection a request came on.
struct Peer {
  boost::asio::ip::tcp::endpoint remote;  // the client
  boost::asio::ip::tcp::endpoint local;   // the listener's address and port
};

// The body of a request, read while it arrives (a streamed runtime response).
class BodyReader {
 public:
  BodyReader(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
             boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
             std::chrono::seconds transfer)
      : stream_(stream), buffer_(buffer), parser_(parser), transfer_(transfer) {}

  // The next bytes of the body (not empty); nullopt at its end, or when the connection failed
  // or timed out (then complete() is false). Chunked trailers join head()'s fields at the end.
  boost::asio::awaitable<std::optional<std::string>> read();
  [[nodiscard]] bool complete() const { return parser_.is_done(); }
  [[nodiscard]] const Request& head() const { return parser_.get(); }

 private:
  boost::beast::tcp_stream& stream_;
  boost::beast::flat_buffer& buffer_;
  boost::beast::http::request_parser<boost::beast::http::string_body>& parser_;
  std::chrono::seconds transfer_;
  bool failed_ = false;
};

// Writes an answer whose body is sent while it is produced (Transfer-Encoding: chunked), or a
// whole one. Each write must finish within the server's transfer limit; false when it failed
// (the client went away or stopped reading).
class ResponseWriter {
 public:
  ResponseWriter(boost::beast::tcp_stream& stream, const Request& req,
                 std::chrono::seconds transfer)
      : stream_(stream),
        version_(req.version()),
        keep_alive_(req.keep_alive()),
        head_only_(req.method() == boost::beast::http::verb::head),
        transfer_(transfer) {}

  // A whole answer, as HttpApi::handle gives one.
  boost::asio::awaitable<bool> send(Response res);
  // The status and headers of a chunked answer (its body is ignored).
  boost::asio::awaitable<bool> begin(Response head);
  // One chunk of the body; empty bytes write nothing.
  boost::asio::awaitable<bool> chunk(std::string_view bytes);
  // The last chunk: the answer is complete.
  boost::asio::awaitable<bool> end();
  // Whether the connection may serve another request after this answer.
  [[nodiscard]] bool keep_alive() const { return keep_alive_; }

 private:
  boost::beast::tcp_stream& stream_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  std::chrono::seconds transfer_;
};

// Everything the loop needs from the API it serves.
struct HttpApi {
  // Answers one request; may wait (the Runtime API's `next` does).
  std::function<boost::asio::awaitable<Response>(Request&, const Peer&)> handle;
  // The API's own 413 answer for a body over ServerLimits::body_bytes.
  std::function<Response(const Request&)> too_large;
  // The API's own 400 answer for a request it cannot parse.
  std::function<Response(std::string_view what)> malformed;

  // Optional: a request for which `streams_request(head)` holds is given to
  // `handle_request_stream` right after its head, to read the body as it arrives.
  std::function<bool(const Request& head)> streams_request;
  std::function<boost::asio::awaitable<Response>(Request& head, BodyReader& body, const Peer&)>
      handle_request_stream;
  // Optional: a request for which `streams_response(req)` holds is answered by
  // `handle_response_stream`, which writes its answer itself; it returns false when the
  // connection must close.
  std::function<bool(const Request& req)> streams_response;
  std::function<boost::asio::awaitable<bool>(Request&, const Peer&, ResponseWriter&)>
      handle_response_stream;
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
  // Reads the body of the request whose head `parser` holds, answers it and writes the answer;
  // false when the connection must close.
  boost::asio::awaitable<bool> serve_request(
      boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
      boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
      const Peer& peer);
  // Serves a request whose body the API reads itself; false when the connection must close.
  boost::asio::awaitable<bool> serve_request_stream(
      boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
      boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
      const Peer& peer);

  // Connections one client address may hold (ServerLimits::max_connections_per_client).
  [[nodiscard]] std::size_t per_client_limit() const;

  boost::asio::ip::tcp::acceptor acceptor_;
  HttpApi api_;
  ServerLimits limits_;
  std::unique_ptr<ConnectionSet> connections_;
  bool closed_ = false;
};

}  // namespace ember::runtime_api
