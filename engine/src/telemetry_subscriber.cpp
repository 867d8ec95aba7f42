#include "telemetry_subscriber.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "ember/engine/report.hpp"

namespace ember::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// What one subscriber may hold beyond the batch in flight: four batches' worth. Lambda counts
// this memory against the function; ember keeps it bounded the same way.
constexpr std::size_t kBufferedBatches = 4;
// A POST the subscriber has not answered by then failed (a frozen or hung listener).
constexpr std::chrono::seconds kPostTimeout{2};
// Attempts per batch, the first retry after kFirstBackoff, doubling: Lambda retries too.
constexpr int kAttempts = 3;
constexpr std::chrono::milliseconds kFirstBackoff{100};
// The subscriber's answer is read and thrown away; a longer one is an error.
constexpr std::uint64_t kMaxAnswerBytes = 64 * 1024;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

TelemetrySubscriber::TelemetrySubscriber(const asio::any_io_executor& executor,
                                         std::string extension,
                                         runtime_api::TelemetrySubscription subscription,
                                         OpenSocket open_socket)
    : extension_(std::move(extension)),
      subscription_(std::move(subscription)),
      open_socket_(std::move(open_socket)),
      batcher_(subscription_.buffering,
               std::size_t{subscription_.buffering.max_items} * kBufferedBatches,
               std::size_t{subscription_.buffering.max_bytes} * kBufferedBatches),
      timer_(executor),
      backoff_(executor) {}

void TelemetrySubscriber::add(std::string event) {
  if (closed_) return;
  batcher_.add(std::move(event));
  if (sending_) return;  // what waits goes out when the POST in flight ends
  if (batcher_.batch_due()) {
    send_next();
  } else {
    arm_timer();
  }
}

void TelemetrySubscriber::flush() {
  if (closed_ || sending_) return;
  send_next();
}

void TelemetrySubscriber::close() {
  closed_ = true;
  timer_.cancel();
  backoff_.cancel();
  if (stream_) stream_->close();
}

void TelemetrySubscriber::arm_timer() {
  if (timer_armed_ || batcher_.empty()) return;
  timer_armed_ = true;
  timer_.expires_after(std::chrono::milliseconds(subscription_.buffering.timeout_ms));
  // A wait that send_next() superseded may still complete; its generation is stale then.
  timer_.async_wait(
      [weak = weak_from_this(), generation = timer_generation_](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || generation != self->timer_generation_) return;
        self->timer_armed_ = false;
        if (self->closed_ || self->sending_) return;
        self->send_next();
      });
}

void TelemetrySubscriber::send_next() {
  if (closed_ || batcher_.empty()) return;
  timer_.cancel();
  timer_armed_ = false;
  ++timer_generation_;
  auto batch = batcher_.take(iso8601_utc(std::chrono::system_clock::now()));
  sending_ = true;
  asio::co_spawn(timer_.get_executor(), deliver(shared_from_this(), std::move(batch)),
                 asio::detached);
}

asio::awaitable<void> TelemetrySubscriber::deliver(std::shared_ptr<TelemetrySubscriber> self,
                                                   TelemetryBatch batch) {
  bool delivered = false;
  auto backoff = kFirstBackoff;
  for (int attempt = 0; attempt < kAttempts && !closed_ && !delivered; ++attempt) {
    if (attempt > 0) {
      backoff_.expires_after(backoff);
      co_await backoff_.async_wait(kTuple);
      backoff *= 2;
      if (closed_) break;
    }
    delivered = co_await post(batch.body);
  }
  sending_ = false;
  if (closed_) co_return;
  if (!delivered) batcher_.count_dropped(batch.records, batch.bytes);
  if (batcher_.batch_due()) {
    send_next();
  } else {
    arm_timer();
  }
  self.reset();  // the subscriber may go from here on
}

asio::awaitable<bool> TelemetrySubscriber::connect() {
  stream_.reset();
  auto fd = open_socket_();
  if (!fd) co_return false;
  tcp::socket socket(timer_.get_executor());
  boost::system::error_code ec;
  socket.assign(tcp::v4(), fd->release(), ec);
  if (ec) co_return false;
  stream_.emplace(std::move(socket));
  stream_->expires_after(kPostTimeout);
  const tcp::endpoint destination(asio::ip::address_v4::loopback(), subscription_.port);
  auto [connect_ec] = co_await stream_->async_connect(destination, kTuple);
  co_return !connect_ec && !closed_;
}

asio::awaitable<bool> TelemetrySubscriber::post(const std::string& body) {
  // A kept-alive connection the subscriber closed meanwhile fails the write or the read: one
  // more try on a new connection is part of the same attempt.
  const bool reused = stream_.has_value() && stream_->socket().is_open();
  for (int round = reused ? 0 : 1; round < 2; ++round) {
    if (round == 1 && !co_await connect()) co_return false;
    http::request<http::string_body> req{http::verb::post, subscription_.target, 11};
    req.set(http::field::host, "sandbox.localdomain:" + std::to_string(subscription_.port));
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    stream_->expires_after(kPostTimeout);
    auto [write_ec, written] = co_await http::async_write(*stream_, req, kTuple);
    if (closed_) co_return false;
    if (write_ec) continue;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    auto [read_ec, read] = co_await http::async_read(*stream_, buffer, parser, kTuple);
    if (closed_) co_return false;
    if (read_ec) continue;
    const auto& answer = parser.get();
    if (!answer.keep_alive()) stream_->close();
    co_return answer.result_int() >= 200 && answer.result_int() < 300;
  }
  if (stream_) stream_->close();
  co_return false;
}

}  // namespace ember::engine
