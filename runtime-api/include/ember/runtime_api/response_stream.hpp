// A response that reaches its caller in pieces while the runtime still writes it
// (Lambda-Runtime-Function-Response-Mode: streaming): the Runtime API side writes bytes, the
// caller's side (InvokeWithResponseStream, a Function URL route) reads them. The buffer between
// them is bounded, so a slow caller slows the runtime (its writes wait, TCP pushes back) and
// never the engine's thread. Both sides run on the one executor it was made with.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::runtime_api {

// How a streamed response ended: success when error_type is empty.
struct StreamEnd {
  std::string error_type;     // InvokeComplete's ErrorCode, e.g. Runtime.StreamError
  std::string error_details;  // InvokeComplete's ErrorDetails: the error document or text
  std::string log_tail;       // raw log text for X-Amz-Log-Type: Tail
};

class ResponseStream {
 public:
  // At most this many bytes wait for the caller before a write waits.
  static constexpr std::size_t kDefaultCapacity = std::size_t{1} << 20U;

  ResponseStream(const boost::asio::any_io_executor& executor, std::string content_type,
                 std::size_t capacity = kDefaultCapacity);

  // The Content-Type the runtime gave its response.
  [[nodiscard]] const std::string& content_type() const { return content_type_; }

  // --- the runtime's side
  // Queues `bytes` for the caller, first waiting while the buffer is full. False when no one
  // will read them: the caller went away or the stream already ended (a timeout).
  boost::asio::awaitable<bool> write(std::string bytes);
  // No more bytes: the caller gets `end` after what is queued. Later calls are ignored.
  void finish(StreamEnd end);
  [[nodiscard]] bool finished() const { return finished_; }

  // --- the caller's side
  // Everything queued so far (never empty), waiting for bytes when there are none; nullopt
  // once the stream ended and all was read: end() says how it ended.
  boost::asio::awaitable<std::optional<std::string>> read();
  [[nodiscard]] const StreamEnd& end() const { return end_; }
  // The caller went away: pending and later writes return false.
  void abandon();

 private:
  std::string content_type_;
  std::size_t capacity_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool finished_ = false;
  bool abandoned_ = false;
  StreamEnd end_;
  // Each side waits on its timer (set to never) and the other side cancels it to wake it.
  boost::asio::steady_timer reader_wake_;
  boost::asio::steady_timer writer_wake_;
};

// The end of a whole (not streamed) answer, for a caller that asked for a stream: a runtime
// that answered buffered, an /error, a timeout before the stream began. ErrorCode is the
// error's type (its errorType when the result does not say).
StreamEnd stream_end_of(const InvokeResult& result);

}  // namespace ember::runtime_api
