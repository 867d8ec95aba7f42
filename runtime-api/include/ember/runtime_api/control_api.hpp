// The Lambda control plane (API 2015-03-31, rest-json): the routes of CreateFunction,
// GetFunction, ListFunctions, versions and aliases and the rest, and the service the engine
// implements behind them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "ember/runtime_api/function_ref.hpp"
#include "ember/runtime_api/http_server.hpp"

namespace ember::runtime_api {

enum class ControlOp {
  kCreateFunction,
  kGetFunction,
  kGetFunctionConfiguration,
  kListFunctions,
  kDeleteFunction,
  kUpdateFunctionCode,
  kUpdateFunctionConfiguration,
  kPutFunctionConcurrency,
  kGetFunctionConcurrency,
  kDeleteFunctionConcurrency,
  kPublishVersion,
  kListVersionsByFunction,
  kCreateAlias,
  kListAliases,
  kGetAlias,
  kUpdateAlias,
  kDeleteAlias,
};

// Lambda's bound on CreateFunction and UpdateFunctionCode bodies: a 50 MB zip as base64.
inline constexpr std::size_t kMaxControlBodyBytes = 69905067;

// A routed control-plane call: the path and query checked, the body parsed as a JSON object.
struct ControlRequest {
  std::string request_id;
  ControlOp op = ControlOp::kListFunctions;
  FunctionRef function;          // {FunctionName} of the path; empty name for Create and List
  boost::json::object body;      // empty when the call has none
  std::string alias;             // {Name} of the alias routes
  std::string marker;            // ?Marker= of the List operations
  std::optional<int> max_items;  // ?MaxItems= of the List operations, 1..10000
  std::string function_version;  // ListAliases ?FunctionVersion=
};

// One of Lambda's errors: `type` goes to x-amzn-ErrorType, `status` is its HTTP status.
struct ControlError {
  unsigned status = 400;
  std::string type;
  std::string message;
};

struct ControlResult {
  unsigned status = 200;
  std::optional<boost::json::object> body;  // none: an empty body (204)
  std::optional<ControlError> error;        // set instead of the two above

  static ControlResult fail(unsigned status, std::string type, std::string message) {
    ControlResult r;
    r.error = ControlError{status, std::move(type), std::move(message)};
    return r;
  }
};

class ControlService {
 public:
  ControlService() = default;
  ControlService(const ControlService&) = delete;
  ControlService& operator=(const ControlService&) = delete;
  ControlService(ControlService&&) = delete;
  ControlService& operator=(ControlService&&) = delete;
  virtual ~ControlService() = default;

  virtual boost::asio::awaitable<ControlResult> control(ControlRequest request) = 0;
};

// Whether the request is a control-plane call (any /2015-03-31/functions route but
// .../invocations, and the concurrency routes).
bool is_control_request(const Request& req);
// Whether its body may exceed the Invoke API's 6 MB (CreateFunction, UpdateFunctionCode): the
// server hands it over unread, and handle_control_upload reads up to kMaxControlBodyBytes.
bool is_control_upload(const Request& head);

boost::asio::awaitable<Response> handle_control_request(ControlService& service, Request& req);
// Reads the upload's body, then asks `admit` (node.auth's check, which needs the body's hash)
// before the service sees it: a refusal from `admit` is the answer.
using ControlAdmission = std::function<std::optional<Response>(const Request& req)>;
boost::asio::awaitable<Response> handle_control_upload(ControlService& service, Request& head,
                                                       BodyReader& body,
                                                       const ControlAdmission& admit);

// Lambda's rest-json error: x-amzn-ErrorType, and {"Type", "message", "Message"} (botocore
// reads either spelling; the model uses both).
Response lambda_error_reply(const std::string& request_id, unsigned status, std::string_view type,
                            std::string_view message);

}  // namespace ember::runtime_api
