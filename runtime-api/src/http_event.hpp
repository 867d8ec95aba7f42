// What the ALB and Function URL events share: the request's parts as both read them, and
// the text-or-binary rule for bodies.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/runtime_api/http_routes.hpp"

namespace ember::runtime_api::http_event {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One request as an event sees it.
struct Call {
  const Request& request;
  const Peer& peer;
  std::string_view request_id;
  std::chrono::system_clock::time_point received;
};

// The target's path and query (without '?'), as sent.
std::string_view raw_path(const Request& request);
std::string_view raw_query(const Request& request);

// The query's key=value pairs in order, not decoded; a key without '=' has the value "".
Pairs split_query(std::string_view query);
// %XX decoded ('+' stays '+'); malformed escapes are kept as written.
std::string percent_decode(std::string_view text);

// The request's headers with lower-case names, in order, plus what a load balancer in front
// of a function adds: X-Forwarded-For (the client appended), -Port, -Proto and
// X-Amzn-Trace-Id (kept when the client sent one).
Pairs forwarded_headers(const Call& call);

// Whether a body of this Content-Type is passed as text (else base64): text/*, JSON,
// JavaScript and XML, and for Function URLs also form data; never bytes that are not UTF-8.
bool is_text_body(std::string_view content_type, std::string_view body, bool function_url);

// Sets body and isBase64Encoded of `event` by that rule; an empty body is "" unless `omit_empty`.
void put_body(boost::json::object& event, const Request& request, bool function_url,
              bool omit_empty);

// Lower-case hex of SHA-256 over `text`, cut to `length` characters (stable made-up ids).
std::string hex_id(std::string_view text, std::size_t length);

// The response headers a function may not set: the server frames the response itself.
bool is_hop_by_hop(std::string_view name);

}  // namespace ember::runtime_api::http_event
