#include "control_fields.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "ember/config/config.hpp"

namespace ember::engine {

using runtime_api::ControlResult;

ControlResult invalid(std::string message) {
  return ControlResult::fail(400, "InvalidParameterValueException", std::move(message));
}

ControlResult ok(boost::json::object body, unsigned status) {
  ControlResult r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string now_text() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[40];
  const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[16];
  std::snprintf(millis, sizeof millis, ".%03d+0000", static_cast<int>(ms.count() % 1000));
  return std::string(text, n) + millis;
}

ControlResult no_content() {
  ControlResult r;
  r.status = 204;
  return r;
}

std::optional<ControlResult> check_revision(const boost::json::object& body,
                                            std::string_view current) {
  const auto* revision = body.if_contains("RevisionId");
  if (revision == nullptr || !revision->is_string() || revision->as_string() == current) {
    return std::nullopt;
  }
  return ControlResult::fail(
      412, "PreconditionFailedException",
      "The Revision Id provided does not match the latest Revision Id. "
      "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
}

std::optional<std::string> Fields::string(std::string_view key) {
  const auto* v = body_.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    fail(std::string(key) + " must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::uint32_t> Fields::number(std::string_view key, std::int64_t min,
                                            std::int64_t max) {
  const auto* v = body_.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_int64() && !v->is_uint64()) {
    fail(std::string(key) + " must be an integer");
    return std::nullopt;
  }
  const auto n = v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(v->as_uint64());
  if (n < min || n > max) {
    fail(std::string(key) + " " + std::to_string(n) + " must be from " + std::to_string(min) +
         " to " + std::to_string(max));
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(n);
}

std::optional<std::vector<std::pair<std::string, std::string>>> Fields::environment() {
  const auto* v = body_.if_contains("Environment");
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  const auto* vars = v->is_object() ? v->as_object().if_contains("Variables") : nullptr;
  if (!v->is_object() || (vars != nullptr && !vars->is_object() && !vars->is_null())) {
    fail("Environment must be {\"Variables\": {NAME: VALUE, ...}}");
    return std::nullopt;
  }
  if (vars == nullptr || vars->is_null()) return out;
  for (const auto& [name, value] : vars->as_object()) {
    if (!value.is_string()) {
      fail("Environment variable " + std::string(name) + " must be a string");
      return std::nullopt;
    }
    out.emplace_back(std::string(name), std::string(value.as_string()));
  }
  std::sort(out.begin(), out.end());
  if (auto why = config::environment_error(out)) {
    fail("Environment: " + *why);
    return std::nullopt;
  }
  return out;
}

}  // namespace ember::engine
