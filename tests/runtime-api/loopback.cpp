#include "loopback.hpp"

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <functional>
#include <sstream>

namespace ember::runtime_api::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

LoopbackServer::LoopbackServer(Loop& loop, HttpApi api, ServerLimits limits) {
  tcp::acceptor acceptor(loop.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  endpoint_ = acceptor.local_endpoint();
  server_ = std::make_shared<HttpServer>(std::move(acceptor), std::move(api), limits);
  server_->start();
}

LoopbackServer::~LoopbackServer() {
  if (server_) server_->close();
}

std::weak_ptr<HttpServer> LoopbackServer::release() {
  std::weak_ptr<HttpServer> weak = server_;
  server_.reset();
  return weak;
}

// Shared with the write handlers, which may run after the client is gone.
struct RawClient::Writes {
  int pending = 0;
  boost::system::error_code error;
};

RawClient::RawClient(Loop& loop, const tcp::endpoint& server,
                     const std::optional<asio::ip::address>& from)
    : loop_(loop), socket_(loop.io), writes_(std::make_shared<Writes>()) {
  if (from) {
    socket_.open(server.protocol(), connect_error_);
    if (!connect_error_) socket_.bind(tcp::endpoint(*from, 0), connect_error_);
    if (connect_error_) return;
  }
  // A loopback connect completes in the kernel's backlog; the server accepts it later.
  socket_.connect(server, connect_error_);
}

RawClient::~RawClient() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void RawClient::send(std::string bytes) {
  auto data = std::make_shared<std::string>(std::move(bytes));
  ++writes_->pending;
  asio::async_write(socket_, asio::buffer(*data),
                    [writes = writes_, data](boost::system::error_code ec, std::size_t) {
                      --writes->pending;
                      if (ec) writes->error = ec;
                    });
}

boost::system::error_code RawClient::finish_sending() {
  if (!loop_.run_until([&] { return writes_->pending == 0; })) return asio::error::timed_out;
  return writes_->error;
}

std::optional<Response> RawClient::receive(Clock::duration bound) {
  struct Read {
    http::response_parser<http::string_body> parser;
    bool done = false;
    boost::system::error_code error;
  };
  auto read = std::make_shared<Read>();
  read->parser.body_limit(boost::none);
  http::async_read(socket_, buffer_, read->parser,
                   [read](boost::system::error_code ec, std::size_t) {
                     read->done = true;
                     read->error = ec;
                   });
  if (!loop_.run_until([&] { return read->done; }, bound)) {
    socket_.cancel();
    loop_.run_until([&] { return read->done; });
    last_error_ = asio::error::timed_out;
    return std::nullopt;
  }
  last_error_ = read->error;
  if (read->error) return std::nullopt;
  return read->parser.release();
}

bool RawClient::wait_closed(Clock::duration bound) {
  struct Drain {
    std::array<char, 64 * 1024> sink{};
    bool ended = false;
    boost::system::error_code error;
  };
  auto drain = std::make_shared<Drain>();
  buffer_.clear();
  // Reads until the connection ends; each read re-arms the next one.
  std::function<void(boost::system::error_code, std::size_t)> on_read;
  on_read = [&](boost::system::error_code ec, std::size_t) {
    if (ec) {
      drain->ended = true;
      drain->error = ec;
      return;
    }
    socket_.async_read_some(asio::buffer(drain->sink), on_read);
  };
  socket_.async_read_some(asio::buffer(drain->sink), on_read);
  const bool ended = loop_.run_until([&] { return drain->ended; }, bound);
  if (!ended) {
    socket_.cancel();
    loop_.run_until([&] { return drain->ended; });
    last_error_ = asio::error::timed_out;
    return false;
  }
  last_error_ = drain->error;
  return drain->error == asio::error::eof || drain->error == asio::error::connection_reset;
}

std::string wire(Request req) {
  if (req[http::field::host].empty()) req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  std::ostringstream out;
  out << req;
  return out.str();
}

Request request(http::verb method, std::string target, std::string body) {
  Request req{method, target, 11};
  req.body() = std::move(body);
  return req;
}

}  // namespace ember::runtime_api::test
