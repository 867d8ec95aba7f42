// An Invoke API request read into an InvokeRequest without I/O: what the front door checks
// before anything runs (handle_invoke_request calls it; tests/fuzz/invoke_request_fuzz feeds it).
#pragma once

#include <string>
#include <variant>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::runtime_api {

// Why an Invoke request is refused before anything runs.
struct InvokeRejection {
  ServiceError error;
  std::string message;
};

// Everything an Invoke request's path, headers and body say: the InvokeRequest (its body
// moved into `payload`) or why not. `request_id` is the front door's.
std::variant<InvokeRequest, InvokeRejection> parse_invoke_request(Request& req,
                                                                  const std::string& request_id);

}  // namespace ember::runtime_api
