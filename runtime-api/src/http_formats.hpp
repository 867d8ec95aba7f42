// The two event formats of HTTP routes: the request as the function's event, and the
// function's response document back as HTTP.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http_event.hpp"

namespace ember::runtime_api::http_event {

// The response, or why the function's output is not a valid response document (a 502).
using Converted = std::variant<Response, std::string>;

// ALB's 1 MB, for the request body and for the response document.
inline constexpr std::size_t kAlbMaxBytes = 1024 * 1024;

// Sets the response's body from a document's `body` and `isBase64Encoded` (decoded), and its
// Content-Type to `default_type` when the document has none; why not when they are invalid.
std::optional<std::string> put_document_body(Response& response,
                                             const boost::json::object& document,
                                             std::string_view default_type);

// An Application Load Balancer target group's event.
std::string alb_request(const Call& call, const HttpRoute& route, const HttpSite& site);
// What ALB makes of a response document: statusCode, statusDescription, headers (or
// multiValueHeaders in multi-value mode), body, isBase64Encoded; without a Content-Type the
// body is application/octet-stream.
Converted alb_response(std::string_view payload, bool multi_value_headers);

// A Function URL's event (HTTP API payload format 2.0).
std::string function_url_request(const Call& call, const HttpRoute& route, const HttpSite& site);
// What a Function URL makes of the function's output: a document with statusCode as such, any
// other JSON as a 200 application/json body.
Converted function_url_response(std::string_view payload);

// A streamed Function URL response (Content-Type kHttpIntegrationResponse) begins with a JSON
// prelude {"statusCode","headers","cookies"}, then 8 NUL bytes, then the body.
inline constexpr std::string_view kHttpIntegrationResponse =
    "application/vnd.awslambda.http-integration-response";
inline constexpr std::string_view kPreludeEnd{"\0\0\0\0\0\0\0\0", 8};
// The status and headers a prelude gives (statusCode 200, no headers when absent; a header's
// value a string or an array of strings; each cookie a Set-Cookie), or why it is invalid.
Converted streaming_prelude_head(std::string_view prelude);

}  // namespace ember::runtime_api::http_event
