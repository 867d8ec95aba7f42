// FunctionName as the Invoke API and the control plane take it: a name, NAME:QUALIFIER or an
// ARN (runtime-api/src/function_ref.cpp), and the config's function names.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "ember/config/config.hpp"
#include "ember/runtime_api/function_ref.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::runtime_api;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_function_ref(text);
  if (auto* ref = std::get_if<FunctionRef>(&parsed)) {
    // A parsed name is one the rest of the node accepts, and its ARN parses back to it.
    if (!ember::config::is_function_name(ref->name)) __builtin_trap();
    if (ref->qualifier && qualifier_error(*ref->qualifier)) __builtin_trap();
    const auto arn =
        function_arn(ref->region.value_or("us-east-1"), ref->account_id.value_or("000000000000"),
                     ref->name, ref->qualifier);
    // Within Lambda's 170 characters of FunctionName: a 64-character name with a long
    // qualifier fits as NAME:QUALIFIER but not as an ARN, in Lambda too.
    auto again = parse_function_ref(arn);
    auto* back = std::get_if<FunctionRef>(&again);
    if (arn.size() <= 170 &&
        (back == nullptr || back->name != ref->name || back->qualifier != ref->qualifier)) {
      __builtin_trap();
    }
  } else if (std::get<std::string>(parsed).empty()) {
    __builtin_trap();
  }
  (void)qualifier_error(text);
  (void)ember::config::is_function_name(text);
  return 0;
}
