#include "ember/runtime_api/http_server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <map>
#include <unordered_set>

namespace ember::runtime_api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBufferBytes = 16 * 1024;

class ConnectionSet {
 public:
  void add(beast::tcp_stream* s, const asio::ip::address& client) {
    streams_.insert(s);
    ++per_client_[client];
  }
  void remove(beast::tcp_stream* s, const asio::ip::address& client) {
    streams_.erase(s);
    if (auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0) {
      per_client_.erase(it);
    }
  }
  [[nodiscard]] std::size_t size() const { return streams_.size(); }
  [[nodiscard]] std::size_t of_client(const asio::ip::address& client) const {
    const auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
  }
  void close_all() {
    for (auto* s : streams_) {
      beast::error_code ignored;
      s->socket().shutdown(tcp::socket::shutdown_both, ignored);
      s->socket().close(ignored);
    }
  }

 private:
  std::unordered_set<beast::tcp_stream*> streams_;
  std::map<asio::ip::address, std::size_t> per_client_;
};

namespace {

// Unregisters a connection when its session ends, however it ends.
class ConnectionGuard {
 public:
  ConnectionGuard(ConnectionSet& set, beast::tcp_stream& stream, asio::ip::address client)
      : set_(set), stream_(stream), client_(std::move(client)) {
    set_.add(&stream_, client_);
  }
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;
  ConnectionGuard(ConnectionGuard&&) = delete;
  ConnectionGuard& operator=(ConnectionGuard&&) = delete;
  ~ConnectionGuard() { set_.remove(&stream_, client_); }

 private:
  ConnectionSet& set_;
  beast::tcp_stream& stream_;
  asio::ip::address client_;
};

// Waits (at most `idle`) for the first byte of the connection's next request, unless one is
// buffered already (pipelined); false when the client went away or idled out.
asio::awaitable<bool> next_request_begins(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                          std::chrono::seconds idle) {
  if (buffer.size() != 0) co_return true;
  stream.expires_after(idle);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadBufferBytes), kTuple);
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

// After refusing a request whose body we will not read, the client may still be sending it.
// Closing at once could reset the connection before the client reads our answer, so stop
// writing and drain a bounded amount first.
asio::awaitable<void> linger_close(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 64 * 1024> sink{};
  std::size_t drained = 0;
  constexpr std::size_t kMaxDrain = 32 * 1024 * 1024;
  stream.expires_after(std::chrono::seconds(2));
  while (drained < kMaxDrain) {
    auto [err, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (err) break;
    drained += n;
  }
  stream.socket().close(ec);
}

// An answer after which the server closes the connection.
Response closing_answer(Response res) {
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// A client that closed, reset or idled out gets no answer to its unfinished head.
bool client_went_away(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset;
}

// A head that failed to parse gets the API's "malformed" answer, unless the client went away.
asio::awaitable<void> answer_bad_head(beast::tcp_stream& stream, const HttpApi& api,
                                      beast::error_code ec) {
  if (client_went_away(ec)) co_return;
  Response res = closing_answer(api.malformed(ec.message()));
  co_await http::async_write(stream, res, kTuple);
}

// Tells a client that sent `Expect: 100-continue` to send its body; false when that write failed.
asio::awaitable<bool> continue_if_expected(beast::tcp_stream& stream, const Request& head,
                                           std::chrono::seconds transfer) {
  if (head[http::field::expect] != "100-continue") co_return true;
  http::response<http::empty_body> cont(http::status::continue_, 11);
  stream.expires_after(transfer);
  auto [ec, n] = co_await http::async_write(stream, cont, kTuple);
  co_return !ec;
}

// Sets the body limit of a request the server reads itself; false after answering
// `too_large` when the Content-Length alone is over it (the connection then closes). A chunked
// body is checked while it is read (serve_request).
asio::awaitable<bool> limit_body(beast::tcp_stream& stream,
                                 http::request_parser<http::string_body>& parser,
                                 const HttpApi& api, const ServerLimits& limits) {
  const auto length = parser.content_length();
  if (length && *length > limits.body_bytes) {
    Response res = closing_answer(api.too_large(parser.get()));
    stream.expires_after(limits.transfer);
    co_await http::async_write(stream, res, kTuple);
    co_await linger_close(stream);
    co_return false;
  }
  parser.body_limit(limits.body_bytes);
  co_return true;
}

}  // namespace

asio::awaitable<std::optional<std::string>> BodyReader::read() {
  std::string& body = parser_.get().body();
  // The parser appends what it decodes to the body, which this hands out and empties.
  while (!failed_ && body.empty() && !parser_.is_done()) {
    stream_.expires_after(transfer_);
    auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_, kTuple);
    if (ec) failed_ = true;
  }
  if (failed_ || body.empty()) co_return std::nullopt;
  std::string out = std::move(body);
  body.clear();
  co_return out;
}

asio::awaitable<bool> ResponseWriter::send(Response res) {
  res.version(version_);
  keep_alive_ = keep_alive_ && res.keep_alive();
  res.keep_alive(keep_alive_);
  res.prepare_payload();
  if (head_only_) res.body().clear();  // the length a GET would get, and no body
  stream_.expires_after(transfer_);
  auto [ec, n] = co_await http::async_write(stream_, res, kTuple);
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::begin(Response head) {
  http::response<http::empty_body> message(std::move(head.base()));
  message.version(version_);
  keep_alive_ = keep_alive_ && message.keep_alive();
  message.keep_alive(keep_alive_);
  message.chunked(true);
  http::response_serializer<http::empty_body> serializer(message);
  stream_.expires_after(transfer_);
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kTuple);
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::chunk(std::string_view bytes) {
  if (bytes.empty() || head_only_) co_return true;
  stream_.expires_after(transfer_);
  auto [ec, n] = co_await asio::async_write(
      stream_, http::make_chunk(asio::buffer(bytes.data(), bytes.size())), kTuple);
  co_return !ec;
}

asio::awaitable<bool> ResponseWriter::end() {
  if (head_only_) co_return true;
  stream_.expires_after(transfer_);
  auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), kTuple);
  co_return !ec;
}

HttpServer::HttpServer(tcp::acceptor acceptor, HttpApi api, ServerLimits limits)
    : acceptor_(std::move(acceptor)),
      api_(std::move(api)),
      limits_(limits),
      connections_(std::make_unique<ConnectionSet>()) {}

HttpServer::~HttpServer() = default;

void HttpServer::start() {
  asio::co_spawn(
      acceptor_.get_executor(), [self = shared_from_this()]() { return self->accept_loop(); },
      asio::detached);
}

void HttpServer::stop_accepting() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::close() {
  if (closed_) return;
  closed_ = true;
  stop_accepting();
  connections_->close_all();
}

std::size_t HttpServer::per_client_limit() const {
  return limits_.max_connections_per_client != 0
             ? limits_.max_connections_per_client
             : std::max<std::size_t>(1, limits_.max_connections / 4);
}

tcp::endpoint HttpServer::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

asio::awaitable<void> HttpServer::accept_loop() {
  auto self = shared_from_this();
  while (!closed_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (closed_ || !acceptor_.is_open()) break;
    if (ec) {
      // EMFILE and friends: back off instead of spinning on a full descriptor table.
      if (ec == asio::error::operation_aborted) break;
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    beast::error_code peer_ec;
    const auto client = socket.remote_endpoint(peer_ec).address();
    if (connections_->size() >= limits_.max_connections ||
        connections_->of_client(client) >= per_client_limit()) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(
        acceptor_.get_executor(),
        [self, s = std::move(socket)]() mutable { return self->session(std::move(s)); },
        asio::detached);
  }
}

asio::awaitable<void> HttpServer::session(tcp::socket socket) {
  auto self = shared_from_this();
  beast::tcp_stream stream(std::move(socket));
  Peer peer;
  {
    beast::error_code ignored;
    peer.remote = stream.socket().remote_endpoint(ignored);
    peer.local = stream.socket().local_endpoint(ignored);
  }
  ConnectionGuard guard(*connections_, stream, peer.remote.address());
  beast::flat_buffer buffer;
  // Beast reads max(512, free capacity) bytes at a time: without room a 1 KB event takes three
  // recvmsg() calls. The capacity is kept across the connection's requests.
  buffer.reserve(kReadBufferBytes);

  for (bool first = true; !closed_; first = false) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
    // The body's limit depends on the head: a request the API reads itself bounds its own
    // (the control plane's uploads are larger than the Invoke API's bodies).
    parser.body_limit(boost::none);

    // The idle limit runs only between requests; a head, once begun (or a new connection's
    // first), must arrive whole within the header limit.
    if (!first && !co_await next_request_begins(stream, buffer, limits_.idle)) break;
    if (closed_) co_return;
    stream.expires_after(limits_.header);
    auto [head_ec, head_n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    if (closed_) co_return;
    if (head_ec) {
      co_await answer_bad_head(stream, api_, head_ec);
      co_return;
    }
    const bool streamed = api_.streams_request && api_.streams_request(parser.get());
    if (!streamed && !co_await limit_body(stream, parser, api_, limits_)) co_return;
    if (!co_await continue_if_expected(stream, parser.get(), limits_.transfer)) co_return;
    if (streamed) {
      if (!co_await serve_request_stream(stream, buffer, parser, peer)) break;
      continue;
    }
    if (!co_await serve_request(stream, buffer, parser, peer)) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<bool> HttpServer::serve_request(beast::tcp_stream& stream,
                                                beast::flat_buffer& buffer,
                                                http::request_parser<http::string_body>& parser,
                                                const Peer& peer) {
  auto self = shared_from_this();
  stream.expires_after(limits_.transfer);
  auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (closed_) co_return false;
  if (body_ec == http::error::body_limit) {
    Response res = closing_answer(api_.too_large(parser.get()));
    co_await http::async_write(stream, res, kTuple);
    co_await linger_close(stream);
    co_return false;
  }
  if (body_ec) co_return false;

  Request req = parser.release();
  // The handler may wait as long as it likes (a worker parked in `next`).
  stream.expires_never();
  if (api_.streams_response && api_.streams_response(req)) {
    ResponseWriter writer(stream, req, limits_.transfer);
    const bool written = co_await api_.handle_response_stream(req, peer, writer);
    co_return !closed_ && written && writer.keep_alive();
  }
  Response res = co_await api_.handle(req, peer);
  if (closed_) co_return false;
  res.version(req.version());
  res.keep_alive(req.keep_alive() && res.keep_alive());
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    // The length a GET would get, and no body (RFC 9110 9.3.2).
    res.body().clear();
  }
  stream.expires_after(limits_.transfer);
  auto [write_ec, write_n] = co_await http::async_write(stream, res, kTuple);
  co_return !write_ec && res.keep_alive();
}

asio::awaitable<bool> HttpServer::serve_request_stream(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, const Peer& peer) {
  auto self = shared_from_this();
  // The API bounds the body itself; a streamed body may pause as long as the connection may
  // idle (a function writing its next piece).
  parser.body_limit(boost::none);
  BodyReader reader(stream, buffer, parser, limits_.idle);
  stream.expires_never();
  Response res = co_await api_.handle_request_stream(parser.get(), reader, peer);
  if (closed_) co_return false;
  // A body the API stopped reading (over its limit) leaves the connection unusable.
  const bool unread = !parser.is_done();
  res.version(parser.get().version());
  res.keep_alive(!unread && parser.get().keep_alive() && res.keep_alive());
  res.prepare_payload();
  stream.expires_after(limits_.transfer);
  auto [ec, n] = co_await http::async_write(stream, res, kTuple);
  if (unread && !ec) {
    co_await linger_close(stream);
  }
  co_return !ec && res.keep_alive();
}

}  // namespace ember::runtime_api
