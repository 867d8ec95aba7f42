#include "ember/runtime_api/function_ref.hpp"

#include <algorithm>
#include <vector>

namespace ember::runtime_api {
namespace {

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

// Versions are digits or $LATEST; aliases are [A-Za-z0-9-_]{1,128} and not all digits.
bool valid_qualifier(std::string_view q) {
  if (q == "$LATEST") return true;
  return !q.empty() && q.size() <= 128 && std::all_of(q.begin(), q.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

// "'TEXT' REASON", appended: GCC 12 at -O3 takes `"'" + std::string(text) + ...` for an
// overlapping memcpy (a -Wrestrict false positive, GCC bug 105651).
std::string quoted(std::string_view text, std::string_view reason) {
  std::string message;
  message.reserve(text.size() + reason.size() + 3);
  message.append("'").append(text).append("' ").append(reason);
  return message;
}

std::variant<FunctionRef, std::string> from_parts(std::string_view name,
                                                  std::optional<std::string_view> qualifier) {
  if (!valid_name(name)) {
    return "function name '" + std::string(name) +
           "' must be 1-64 characters of letters, digits, hyphens and underscores";
  }
  FunctionRef ref;
  ref.name = std::string(name);
  if (qualifier) {
    if (auto why = qualifier_error(*qualifier)) return *why;
    ref.qualifier = std::string(*qualifier);
  }
  return ref;
}

}  // namespace

std::variant<FunctionRef, std::string> parse_function_ref(std::string_view text) {
  if (text.empty()) return std::string("function name is empty");
  if (text.size() > 170) return std::string("function name is longer than 170 characters");
  const auto parts = split(text, ':');
  // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
  if (parts[0] == "arn") {
    if (parts.size() < 7 || parts.size() > 8 || parts[1].empty() || parts[2] != "lambda" ||
        parts[5] != "function") {
      return quoted(text, "is not a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)");
    }
    auto result = from_parts(parts[6], parts.size() == 8 ? std::optional(parts[7]) : std::nullopt);
    if (auto* ref = std::get_if<FunctionRef>(&result)) {
      ref->region = std::string(parts[3]);
      ref->account_id = std::string(parts[4]);
    }
    return result;
  }
  // ACCOUNT:function:NAME[:QUALIFIER]
  if (parts.size() >= 3 && parts[1] == "function") {
    if (parts.size() > 4) return quoted(text, "has too many ':' parts");
    auto result = from_parts(parts[2], parts.size() == 4 ? std::optional(parts[3]) : std::nullopt);
    if (auto* ref = std::get_if<FunctionRef>(&result)) ref->account_id = std::string(parts[0]);
    return result;
  }
  if (parts.size() > 2) return quoted(text, "has too many ':' parts");
  return from_parts(parts[0], parts.size() == 2 ? std::optional(parts[1]) : std::nullopt);
}

std::optional<std::string> qualifier_error(std::string_view qualifier) {
  if (valid_qualifier(qualifier)) return std::nullopt;
  return "qualifier '" + std::string(qualifier) + "' is not a version or alias name";
}

std::string function_arn(std::string_view region, std::string_view account_id,
                         std::string_view name, const std::optional<std::string>& qualifier) {
  std::string arn = "arn:aws:lambda:";
  arn.append(region).append(":").append(account_id).append(":function:").append(name);
  if (qualifier) arn.append(":").append(*qualifier);
  return arn;
}

}  // namespace ember::runtime_api
