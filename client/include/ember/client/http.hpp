// One HTTP request to a node from outside (ember invoke and ps, the tests, the bench's
// unmeasured calls), on libcurl: bounded by timeouts, libcurl set up once per process.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::client {

struct HttpRequest {
  std::string url;
  std::optional<std::string> body;   // POST when set, GET otherwise
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{60'000};  // the whole exchange; 0: none
  // When set, a 200 answer's body goes here piece by piece as it arrives (a stream that does
  // not end, `ember logs --follow`) instead of into HttpReply::body; false stops the exchange.
  // Other answers' bodies still go to HttpReply::body.
  std::function<bool(std::string_view piece)> on_body;
};

struct HttpReply {
  long status = 0;                             // 0 when no answer came
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;  // why no answer came (connection refused, timeout, ...)
  [[nodiscard]] std::string header(const std::string& lower_name) const;
};

HttpReply http_request(const HttpRequest& request);

// Percent-encodes `text` for a URL path segment (a function name or ARN).
std::string url_escape(std::string_view text);

}  // namespace ember::client
