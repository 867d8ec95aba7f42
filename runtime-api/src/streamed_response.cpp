#include "streamed_response.hpp"

#include <boost/beast/http/field.hpp>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/limits.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;

namespace {

// How the body ended: its trailers' error, or a truncation when the connection dropped
// before the last chunk.
StreamEnd outcome_of(const BodyReader& body) {
  StreamEnd end;
  if (!body.complete()) {
    end.error_type = "Runtime.TruncatedResponse";
    end.error_details =
        error_body(end.error_type, "The runtime's streamed response ended before its last chunk");
    return end;
  }
  const auto type = body.head()["Lambda-Runtime-Function-Error-Type"];
  if (type.empty()) return end;
  end.error_type = std::string(type);
  // Base64 of the error document in Lambda's runtimes; anything else is passed on as it is.
  const auto text = body.head()["Lambda-Runtime-Function-Error-Body"];
  auto decoded = base64_decode(text);
  end.error_details = decoded ? std::move(*decoded) : std::string(text);
  return end;
}

StreamEnd too_large_end() {
  StreamEnd end;
  end.error_type = "Function.ResponseSizeTooLarge";
  end.error_details =
      error_body(end.error_type, "Response payload size exceeded maximum allowed payload size (" +
                                     std::to_string(kMaxStreamedResponseBytes) + " bytes).");
  return end;
}

// The caller reads a stream: each piece goes to it as it arrives.
boost::asio::awaitable<StreamedAnswer> forward(RuntimeApiHandler& handler, BodyReader& body,
                                               const std::string& request_id,
                                               ResponseStream& stream) {
  std::size_t total = 0;
  while (auto piece = co_await body.read()) {
    total += piece->size();
    if (total > kMaxStreamedResponseBytes) {
      // The caller gets the bytes up to the limit, then the error.
      piece->resize(piece->size() - (total - kMaxStreamedResponseBytes));
      co_await stream.write(std::move(*piece));
      handler.stream_ended(request_id, too_large_end());
      co_return StreamedAnswer{std::nullopt, kMaxStreamedResponseBytes};
    }
    // False when no one reads any more (the caller left, the invocation timed out): the
    // runtime still finishes its response, as on Lambda.
    co_await stream.write(std::move(*piece));
  }
  handler.stream_ended(request_id, outcome_of(body));
  co_return StreamedAnswer{};
}

// The caller wants the whole answer: collect it within the buffered limit.
boost::asio::awaitable<StreamedAnswer> collect(RuntimeApiHandler& handler, BodyReader& body,
                                               const std::string& request_id,
                                               std::string content_type) {
  std::string all;
  while (auto piece = co_await body.read()) {
    if (all.size() + piece->size() > kMaxPayloadBytes) {
      handler.response_too_large(request_id);
      co_return StreamedAnswer{std::nullopt, kMaxPayloadBytes};
    }
    all += *piece;
  }
  auto end = outcome_of(body);
  if (end.error_type.empty()) {
    co_return StreamedAnswer{handler.response(request_id, std::move(content_type), std::move(all))};
  }
  co_return StreamedAnswer{handler.error(request_id, normalise_error_type(end.error_type),
                                         std::move(end.error_details))};
}

}  // namespace

boost::asio::awaitable<StreamedAnswer> serve_streamed_response(RuntimeApiHandler& handler,
                                                               const Request& head,
                                                               BodyReader& body,
                                                               const std::string& request_id) {
  std::string content_type(head[http::field::content_type]);
  if (content_type.empty()) content_type = "application/octet-stream";
  auto start = handler.stream_response(request_id, content_type);
  if (start.refusal) co_return StreamedAnswer{start.refusal};
  if (!start.stream) co_return co_await collect(handler, body, request_id, std::move(content_type));
  co_return co_await forward(handler, body, request_id, *start.stream);
}

}  // namespace ember::runtime_api
