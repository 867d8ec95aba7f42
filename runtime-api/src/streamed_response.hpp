// A runtime's streamed response (POST invocation/{id}/response with
// Lambda-Runtime-Function-Response-Mode: streaming, chunked), read as it arrives and handed to
// the engine piece by piece, with its trailers (Lambda-Runtime-Function-Error-Type/-Body).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::runtime_api {

// What the runtime is answered after its streamed response.
struct StreamedAnswer {
  std::optional<RuntimeRefusal> refusal;  // it may not answer this request now
  std::size_t exceeded_limit = 0;         // non-zero: the body passed this many bytes (413)
};

// Reads the body of `head` and gives it to the handler: to a stream when the caller reads one,
// else whole through response() or error().
boost::asio::awaitable<StreamedAnswer> serve_streamed_response(RuntimeApiHandler& handler,
                                                               const Request& head,
                                                               BodyReader& body,
                                                               const std::string& request_id);

}  // namespace ember::runtime_api
