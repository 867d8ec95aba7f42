#include "ember/runtime_api/response_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace ember::runtime_api {

namespace asio = boost::asio;

namespace {

// Waits until `timer` is cancelled by the other side.
asio::awaitable<void> wait_for_wake(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// The errorType of an error document, or empty.
std::string error_type_of(std::string_view document) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(document, ec);
  if (ec || !parsed.is_object()) return {};
  const auto* type = parsed.as_object().if_contains("errorType");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : std::string();
}

}  // namespace

ResponseStream::ResponseStream(const asio::any_io_executor& executor, std::string content_type,
                               std::size_t capacity)
    : content_type_(std::move(content_type)),
      capacity_(capacity),
      reader_wake_(executor),
      writer_wake_(executor) {}

asio::awaitable<bool> ResponseStream::write(std::string bytes) {
  while (!abandoned_ && !finished_ && queued_bytes_ >= capacity_) {
    co_await wait_for_wake(writer_wake_);
  }
  if (abandoned_ || finished_) co_return false;
  if (bytes.empty()) co_return true;
  queued_bytes_ += bytes.size();
  queue_.push_back(std::move(bytes));
  reader_wake_.cancel();
  co_return true;
}

void ResponseStream::finish(StreamEnd end) {
  if (finished_) return;
  finished_ = true;
  end_ = std::move(end);
  reader_wake_.cancel();
  writer_wake_.cancel();
}

asio::awaitable<std::optional<std::string>> ResponseStream::read() {
  while (queue_.empty() && !finished_) {
    co_await wait_for_wake(reader_wake_);
  }
  if (queue_.empty()) co_return std::nullopt;
  std::string out = std::move(queue_.front());
  queue_.pop_front();
  while (!queue_.empty()) {
    out += queue_.front();
    queue_.pop_front();
  }
  queued_bytes_ = 0;
  writer_wake_.cancel();
  co_return out;
}

void ResponseStream::abandon() {
  abandoned_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  writer_wake_.cancel();
}

StreamEnd stream_end_of(const InvokeResult& result) {
  StreamEnd end;
  end.log_tail = result.log_tail;
  if (result.service_error) {
    end.error_type = "ServiceException";
    end.error_details = result.message;
    return end;
  }
  if (result.function_error.empty()) return end;
  end.error_type = result.error_type.empty() ? error_type_of(result.payload) : result.error_type;
  if (end.error_type.empty()) end.error_type = result.function_error;
  end.error_details = result.payload;
  return end;
}

}  // namespace ember::runtime_api
