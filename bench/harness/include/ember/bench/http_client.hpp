// A blocking keep-alive HTTP/1.1 client for one thread: the bench's only way to talk to a
// node and to its own loopback baseline. Numeric addresses only, so no DNS lookup is timed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ember/client/aws_credentials.hpp"

namespace ember::bench {

struct Endpoint {
  std::string host;  // numeric IPv4 address
  std::uint16_t port = 0;
  // Set for a node with node.auth: every request is signed (SigV4) before its clock starts.
  std::optional<client::AwsCredentials> sign_as;
  [[nodiscard]] std::string url() const { return "http://" + host + ":" + std::to_string(port); }
};

// "http://127.0.0.1:9000" or "127.0.0.1:9000" -> Endpoint; nullopt for names needing DNS.
std::optional<Endpoint> parse_endpoint(std::string_view text);

struct HttpResult {
  bool ok = false;    // a complete answer arrived (any status)
  std::string error;  // why not, when !ok
  int status = 0;
  std::string body;
  std::string timings;          // the X-Ember-Timings header, empty when absent
  bool function_error = false;  // X-Amz-Function-Error was set
  std::string request_id;       // X-Amzn-RequestId, empty when absent
  double total_us = 0;          // first byte written to last byte read, as the caller saw it
};

enum class ClientKind {
  kBeast,  // Boost.Beast on a blocking Asio socket
  kCurl,   // one reused libcurl easy handle
};

class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;
  virtual ~HttpClient() = default;

  // POST with a JSON body; asks for X-Ember-Timings when want_timings.
  virtual HttpResult post(const std::string& target, std::string_view body, bool want_timings) = 0;
  // POST with a JSON body and X-Amz-Invocation-Type: Event (an asynchronous invocation).
  virtual HttpResult post_event(const std::string& target, std::string_view body) = 0;
  virtual HttpResult get(const std::string& target) = 0;
};

// Connects lazily and keeps the connection; a request on a connection the server closed
// is retried once on a new one.
std::unique_ptr<HttpClient> make_client(ClientKind kind, const Endpoint& endpoint);

// "/2015-03-31/functions/NAME/invocations"
std::string invoke_target(std::string_view function);

}  // namespace ember::bench
