// Why a worker stopped before it could serve: becomes the error of the invocation waiting for it.
#pragma once

#include <string>

namespace ember::engine {

struct StartFailure {
  // ember could not start it (a 500 with `message`), rather than the runtime failing.
  static StartFailure platform(std::string message) {
    StartFailure failure;
    failure.message = std::move(message);
    failure.platform_fault = true;
    return failure;
  }
  // The runtime failed to start: the caller gets error_type and message, or the runtime's own
  // init/error body when it sent one.
  static StartFailure runtime(std::string error_type, std::string message,
                              std::string runtime_body = {}) {
    StartFailure failure;
    failure.error_type = std::move(error_type);
    failure.message = std::move(message);
    failure.runtime_body = std::move(runtime_body);
    return failure;
  }

  std::string error_type;    // "Runtime.ExitError", a runtime's init/error type, ...
  std::string message;       // without the "RequestId: ID Error: " prefix
  std::string runtime_body;  // the runtime's own init/error body, when it sent one
  bool platform_fault = false;
  std::string log;  // what the runtime printed while it initialised
};

}  // namespace ember::engine
