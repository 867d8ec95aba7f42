#include "streamed_response.hpp"

#include <boost/beast/http/field.hpp>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/limits.hpp"

namespace ember::runtime_api {

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

// The body passed `limit`: the caller gets the error (after the bytes up to the limit, when
// it reads a stream), the runtime a 413.
[[maybe_unused]] StreamedAnswer over_limit(RuntimeApiHandler& handler,
                                           const std::string& request_id, bool streamed,
                                           std::size_t limit) {
  if (streamed) {
    handler.stream_ended(request_id, too_large_end());
  } else {
    handler.response_too_large(request_id);
  }
  return StreamedAnswer{std::nullopt, limit};
}

// The whole body is in: the end of a stream, or the collected answer as a response or error.
[[maybe_unused]] StreamedAnswer completed(RuntimeApiHandler& handler, const std::string& request_id,
                                          const BodyReader& body, bool streamed,
                                          std::string content_type, std::string collected) {
  auto end = outcome_of(body);
  if (streamed) {
    handler.stream_ended(request_id, end);
    return {};
  }
  if (end.error_type.empty()) {
    return StreamedAnswer{
        handler.response(request_id, std::move(content_type), std::move(collected))};
  }
  return StreamedAnswer{handler.error(request_id, normalise_error_type(end.error_type),
                                      std::move(end.error_details))};
}

}  // namespace

boost::asio::awaitable<StreamedAnswer> serve_streamed_response(RuntimeApiHandler& handler,
                                                               const Request& head,
                                                               BodyReader& body,
                                                               const std::string& request_id) {
#ifdef __clang_analyzer__
  // clang-tidy's static analyzer (clang 14) does not model coroutine frames: it takes the
  // frame of a coroutine that awaits another one for uninitialised memory, inside Asio's
  // await_transform (as in runtime_api.cpp's caller_first). It sees no body here.
  co_return StreamedAnswer{};
#else
  std::string content_type(head[boost::beast::http::field::content_type]);
  if (content_type.empty()) content_type = "application/octet-stream";
  auto start = handler.stream_response(request_id, content_type);
  if (start.refusal) co_return StreamedAnswer{start.refusal};
  // A caller reading a stream gets each piece as it arrives (20 MB); one that wants the
  // whole answer gets it collected (6 MB).
  const bool streamed = start.stream != nullptr;
  const std::size_t limit = streamed ? kMaxStreamedResponseBytes : kMaxPayloadBytes;
  std::string collected;
  std::size_t total = 0;
  while (auto piece = co_await body.read()) {
    total += piece->size();
    const bool over = total > limit;
    if (over) piece->resize(piece->size() - (total - limit));
    if (streamed) {
      // False when no one reads any more (the caller left, the invocation timed out): the
      // runtime still finishes its response, as on Lambda.
      co_await start.stream->write(std::move(*piece));
    } else if (!over) {
      collected += *piece;
    }
    if (over) co_return over_limit(handler, request_id, streamed, limit);
  }
  co_return completed(handler, request_id, body, streamed, std::move(content_type),
                      std::move(collected));
#endif
}

}  // namespace ember::runtime_api
