// The FunctionName of an Invoke call in its three forms: name, name:qualifier, ARN.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ember::runtime_api {

struct FunctionRef {
  std::string name;                       // bare function name
  std::optional<std::string> qualifier;   // version or alias, from the name or ?Qualifier=
  std::optional<std::string> region;      // from an ARN
  std::optional<std::string> account_id;  // from an ARN
};

// Parses an already percent-decoded FunctionName:
//   NAME | NAME:QUALIFIER | arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
//   | ACCOUNT:function:NAME[:QUALIFIER] (the partial ARN the API also accepts).
// Returns the reason on failure.
std::variant<FunctionRef, std::string> parse_function_ref(std::string_view text);

// Why `qualifier` (from the name or from ?Qualifier=) is not a version or alias name;
// nullopt when it is one.
std::optional<std::string> qualifier_error(std::string_view qualifier);

// "arn:aws:lambda:REGION:ACCOUNT:function:NAME" plus ":QUALIFIER" when one is given.
std::string function_arn(std::string_view region, std::string_view account_id,
                         std::string_view name, const std::optional<std::string>& qualifier = {});

}  // namespace ember::runtime_api
