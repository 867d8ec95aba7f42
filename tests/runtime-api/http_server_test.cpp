// HttpServer over real loopback sockets: keep-alive, pipelining, the size and time limits,
// malformed requests, the connection limit, and closing while a handler still runs.
#include "ember/runtime_api/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "loopback.hpp"

namespace ember::runtime_api::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

// An API that answers each request with "METHOD TARGET BODY" and records what reached it.
// GET /wait holds its answer until the test opens `gate`; GET /last answers and asks for
// the connection to close.
class EchoApi {
 public:
  explicit EchoApi(Loop& loop) : gate_(loop.io) {
    gate_.expires_at(asio::steady_timer::time_point::max());
  }

  HttpApi api() {
    HttpApi api;
    api.handle = [this](Request& req, const Peer& /*peer*/) -> asio::awaitable<Response> {
      ++handled_;
      if (req.target() == "/wait") {
        waiting_ = true;
        co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
        waiting_ = false;
        ++released_;
      }
      Response res{http::status::ok, 11};
      res.body() =
          std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body();
      if (req.target() == "/last") res.keep_alive(false);
      co_return res;
    };
    api.too_large = [this](const Request& req) {
      ++too_large_;
      Response res{http::status::payload_too_large, 11};
      res.body() = "too large: " + std::string(req.target());
      return res;
    };
    api.malformed = [this](std::string_view what) {
      malformed_.emplace_back(what);
      Response res{http::status::bad_request, 11};
      res.body() = std::string(what);
      return res;
    };
    return api;
  }

  void open_gate() { gate_.cancel(); }
  [[nodiscard]] int handled() const { return handled_; }
  [[nodiscard]] bool waiting() const { return waiting_; }
  [[nodiscard]] int released() const { return released_; }
  [[nodiscard]] int too_large() const { return too_large_; }
  [[nodiscard]] const std::vector<std::string>& malformed() const { return malformed_; }

 private:
  asio::steady_timer gate_;
  int handled_ = 0;
  bool waiting_ = false;
  int released_ = 0;
  int too_large_ = 0;
  std::vector<std::string> malformed_;
};

ServerLimits small_limits() {
  ServerLimits limits;
  limits.header_bytes = 1024;
  limits.body_bytes = 1024;
  return limits;
}

class HttpServerTest : public ::testing::Test {
 protected:
  LoopbackServer& serve(ServerLimits limits = small_limits()) {
    server_.emplace(loop_, echo_.api(), limits);
    return *server_;
  }
  std::unique_ptr<RawClient> connect() {
    return std::make_unique<RawClient>(loop_, server_->endpoint());
  }

  Loop loop_;
  EchoApi echo_{loop_};
  std::optional<LoopbackServer> server_;
};

TEST_F(HttpServerTest, AnswersSeveralRequestsOnOneKeepAliveConnection) {
  serve();
  auto client = connect();
  for (int i = 0; i < 3; ++i) {
    client->send(wire(request(http::verb::post, "/n", std::to_string(i))));
    const auto res = client->receive();
    ASSERT_TRUE(res) << client->last_error().message();
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_TRUE(res->keep_alive());
    EXPECT_EQ(res->body(), "POST /n " + std::to_string(i));
  }
  EXPECT_EQ(echo_.handled(), 3);
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  serve();
  auto client = connect();
  client->send(wire(request(http::verb::get, "/first")) +
               wire(request(http::verb::get, "/second")));
  const auto first = client->receive();
  const auto second = client->receive();
  ASSERT_TRUE(first && second) << client->last_error().message();
  EXPECT_EQ(first->body(), "GET /first ");
  EXPECT_EQ(second->body(), "GET /second ");
}

TEST_F(HttpServerTest, ClosesAfterTheAnswerWhenTheClientSendsConnectionClose) {
  serve();
  auto client = connect();
  auto req = request(http::verb::get, "/bye");
  req.keep_alive(false);
  client->send(wire(req));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client->wait_closed()) << client->last_error().message();
}

TEST_F(HttpServerTest, AnswersHttp10InHttp10AndThenCloses) {
  serve();
  auto client = connect();
  auto req = request(http::verb::get, "/old");
  req.version(10);
  client->send(wire(req));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->version(), 10);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, HandlerThatRefusesKeepAliveEndsTheConnection) {
  serve();
  auto client = connect();
  client->send(wire(request(http::verb::get, "/last")));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, HeadersOverTheLimitAreMalformedAndCloseTheConnection) {
  serve();
  auto client = connect();
  auto req = request(http::verb::get, "/big-header");
  req.set("X-Filler", std::string(2000, 'h'));
  client->send(wire(req));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::bad_request);
  EXPECT_FALSE(res->keep_alive());
  ASSERT_EQ(echo_.malformed().size(), 1U);
  EXPECT_EQ(echo_.malformed()[0], "header limit exceeded");
  EXPECT_EQ(echo_.handled(), 0);
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, HeadersOfExactlyTheLimitAreAccepted) {
  serve();
  auto client = connect();
  auto req = request(http::verb::get, "/h");
  req.set("X-Filler", "");
  const auto empty_size = wire(req).size();
  req.set("X-Filler", std::string(1024 - empty_size, 'h'));
  ASSERT_EQ(wire(req).size(), 1024U);
  client->send(wire(req));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::ok);
}

TEST_F(HttpServerTest, GarbageIsAnsweredAsMalformedAndTheConnectionCloses) {
  serve();
  auto client = connect();
  client->send("THIS IS NOT HTTP\r\n\r\n");
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::bad_request);
  EXPECT_EQ(echo_.malformed().size(), 1U);
  EXPECT_EQ(echo_.handled(), 0);
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, ContentLengthOverTheLimitIsRefusedWithoutReadingTheBody) {
  serve();
  auto client = connect();
  client->send(wire(request(http::verb::post, "/upload", std::string(1025, 'b'))));
  const auto res = client->receive();
  ASSERT_TRUE(res) << client->last_error().message();
  EXPECT_EQ(res->result(), http::status::payload_too_large);
  EXPECT_EQ(res->body(), "too large: /upload");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_EQ(echo_.too_large(), 1);
  EXPECT_EQ(echo_.handled(), 0);
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIsRefusedWhileItIsRead) {
  serve();
  auto client = connect();
  // No Content-Length: the limit is only found out while reading the chunks.
  const std::string chunk(600, 'c');
  client->send(
      "POST /chunks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  const auto res = client->receive();
  ASSERT_TRUE(res) << client->last_error().message();
  EXPECT_EQ(res->result(), http::status::payload_too_large);
  EXPECT_EQ(echo_.too_large(), 1);
  EXPECT_EQ(echo_.handled(), 0);
  EXPECT_TRUE(client->wait_closed());
}

TEST_F(HttpServerTest, BodyOfExactlyTheLimitIsAccepted) {
  serve();
  auto client = connect();
  client->send(wire(request(http::verb::post, "/upload", std::string(1024, 'b'))));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_EQ(res->body(), "POST /upload " + std::string(1024, 'b'));
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBodyIsSent) {
  serve();
  auto client = connect();
  client->send(
      "POST /cont HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
      "Content-Length: 5\r\n\r\n");
  const auto interim = client->receive();
  ASSERT_TRUE(interim) << client->last_error().message();
  EXPECT_EQ(interim->result(), http::status::continue_);
  EXPECT_EQ(echo_.handled(), 0) << "nothing is handled before the body";
  client->send("hello");
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "POST /cont hello");
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleLimit) {
  auto limits = small_limits();
  limits.idle = 1s;
  serve(limits);
  auto client = connect();
  client->send(wire(request(http::verb::get, "/once")));
  ASSERT_TRUE(client->receive());
  const auto answered = Clock::now();
  EXPECT_TRUE(client->wait_closed()) << client->last_error().message();
  // The timer cannot fire early, so this bound cannot flake; a tighter upper one could.
  EXPECT_GE(Clock::now() - answered, 900ms);
}

TEST_F(HttpServerTest, ConnectionThatNeverSendsIsClosedAfterTheHeaderLimit) {
  auto limits = small_limits();
  limits.idle = 60s;  // only between requests: a new connection has the header limit
  limits.header = 1s;
  serve(limits);
  auto client = connect();
  EXPECT_TRUE(client->wait_closed()) << client->last_error().message();
  EXPECT_EQ(echo_.malformed().size(), 0U) << "an idle client gets no answer";
}

// A slow-loris client trickles its head; the idle limit no longer covers the head, so the
// connection ends at the header limit however long the idle limit is.
TEST_F(HttpServerTest, AHeadThatTricklesIsCutOffAtTheHeaderLimit) {
  auto limits = small_limits();
  limits.idle = 60s;
  limits.header = 1s;
  serve(limits);
  auto client = connect();
  client->send(wire(request(http::verb::get, "/first")));
  ASSERT_TRUE(client->receive());
  client->send("GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // and no more
  const auto begun = Clock::now();
  EXPECT_TRUE(client->wait_closed()) << client->last_error().message();
  EXPECT_GE(Clock::now() - begun, 900ms);
  EXPECT_EQ(echo_.handled(), 1);
}

// Between requests the (longer) idle limit applies, not the header limit.
TEST_F(HttpServerTest, AKeepAliveConnectionMayIdleLongerThanTheHeaderLimit) {
  auto limits = small_limits();
  limits.idle = 30s;
  limits.header = 1s;
  serve(limits);
  auto client = connect();
  client->send(wire(request(http::verb::get, "/a")));
  ASSERT_TRUE(client->receive());
  asio::steady_timer later(loop_.io, 1500ms);
  bool passed = false;
  later.async_wait([&](boost::system::error_code) { passed = true; });
  ASSERT_TRUE(loop_.run_until([&] { return passed; }));
  client->send(wire(request(http::verb::get, "/b")));
  const auto res = client->receive();
  ASSERT_TRUE(res) << client->last_error().message();
  EXPECT_EQ(res->body(), "GET /b ");
}

// One address holding many connections open cannot lock out another: its share is capped.
TEST_F(HttpServerTest, OneClientCannotTakeTheSlotsOfOthers) {
  auto limits = small_limits();
  limits.max_connections = 8;
  limits.max_connections_per_client = 3;
  serve(limits);
  const auto attacker = asio::ip::make_address("127.0.0.2");
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(loop_, server_->endpoint(), attacker));
    ASSERT_FALSE(held.back()->connect_error()) << held.back()->connect_error().message();
    held.back()->send("GET /held HTTP/1.1\r\n");  // a head it never finishes
  }
  auto fourth = std::make_unique<RawClient>(loop_, server_->endpoint(), attacker);
  EXPECT_TRUE(fourth->wait_closed()) << "over its address's share: closed at once";
  // Another address still gets in, up to the node-wide cap.
  auto other = connect();
  other->send(wire(request(http::verb::get, "/other")));
  const auto res = other->receive();
  ASSERT_TRUE(res) << other->last_error().message();
  EXPECT_EQ(res->body(), "GET /other ");
}

TEST_F(HttpServerTest, BodyThatStallsIsCutOffAfterTheTransferLimit) {
  auto limits = small_limits();
  limits.idle = 60s;
  limits.transfer = 1s;
  serve(limits);
  auto client = connect();
  client->send("POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(client->wait_closed()) << client->last_error().message();
  EXPECT_EQ(echo_.handled(), 0);
}

TEST_F(HttpServerTest, HandlerMayTakeLongerThanTheTransferLimit) {
  auto limits = small_limits();
  limits.transfer = 1s;
  serve(limits);
  auto client = connect();
  client->send(wire(request(http::verb::get, "/wait")));
  ASSERT_TRUE(loop_.run_until([&] { return echo_.waiting(); }));
  // Well past the transfer limit: the session must not time the handler out.
  asio::steady_timer later(loop_.io, 1500ms);
  bool passed = false;
  later.async_wait([&](boost::system::error_code) { passed = true; });
  ASSERT_TRUE(loop_.run_until([&] { return passed; }));
  echo_.open_gate();
  const auto res = client->receive();
  ASSERT_TRUE(res) << client->last_error().message();
  EXPECT_EQ(res->body(), "GET /wait ");
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosedAtOnceAndASlotFreesWhenOneEnds) {
  auto limits = small_limits();
  limits.max_connections = 1;
  serve(limits);
  auto first = connect();
  first->send(wire(request(http::verb::get, "/a")));
  ASSERT_TRUE(first->receive());
  auto second = connect();
  EXPECT_TRUE(second->wait_closed()) << "accepted and closed: the one slot is taken";
  first->send(wire(request(http::verb::get, "/b")));
  ASSERT_TRUE(first->receive()) << "the connection holding the slot is unaffected";

  first.reset();
  // The server learns of the close in its own time; a new connection is served once it has.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    auto next = connect();
    next->send(wire(request(http::verb::get, "/c")));
    served = next->receive().has_value();
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, CloseEndsOpenConnectionsAndRefusesNewOnes) {
  auto& server = serve();
  auto client = connect();
  client->send(wire(request(http::verb::get, "/a")));
  ASSERT_TRUE(client->receive());
  server.server().close();
  EXPECT_TRUE(client->wait_closed());
  RawClient late(loop_, server.endpoint());
  EXPECT_EQ(late.connect_error(), asio::error::connection_refused);
}

TEST_F(HttpServerTest, StopAcceptingKeepsOpenConnectionsServing) {
  auto& server = serve();
  auto client = connect();
  client->send(wire(request(http::verb::get, "/a")));
  ASSERT_TRUE(client->receive());
  server.server().stop_accepting();
  RawClient late(loop_, server.endpoint());
  EXPECT_EQ(late.connect_error(), asio::error::connection_refused);
  client->send(wire(request(http::verb::get, "/b")));
  const auto res = client->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "GET /b ");
}

TEST_F(HttpServerTest, CloseWhileAHandlerRunsDropsItsAnswerAndFreesTheServerAfterwards) {
  auto& server = serve();
  auto client = connect();
  client->send(wire(request(http::verb::get, "/wait")));
  ASSERT_TRUE(loop_.run_until([&] { return echo_.waiting(); }));
  server.server().close();
  const auto weak = server.release();
  EXPECT_TRUE(client->wait_closed()) << "close() does not wait for the handler";
  EXPECT_FALSE(weak.expired()) << "the running session still holds the server";
  echo_.open_gate();
  ASSERT_TRUE(loop_.run_until([&] { return weak.expired(); }))
      << "the session ends once its handler returns";
  EXPECT_EQ(echo_.released(), 1);
}

}  // namespace
}  // namespace ember::runtime_api::test
