// The body Lambda answers a failed invocation with: {"errorMessage": ..., "errorType": ...}.
#pragma once

#include <string>
#include <string_view>

namespace ember::engine {

std::string error_body(std::string_view error_type, std::string_view message);

}  // namespace ember::engine
