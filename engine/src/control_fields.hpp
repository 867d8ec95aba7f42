// What the control plane's handlers share: Lambda's answers (200/201 with a body, 400
// InvalidParameterValueException, 412 on a stale RevisionId), its timestamps, and the reading
// of a request body's optional typed fields.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/runtime_api/control_api.hpp"

namespace ember::engine {

runtime_api::ControlResult invalid(std::string message);
runtime_api::ControlResult ok(boost::json::object body, unsigned status = 200);
runtime_api::ControlResult no_content();  // 204
// Lambda's LastModified: 2019-10-18T22:34:13.123+0000, now.
std::string now_text();
// RevisionId in `body`: when given and not `current`, 412 PreconditionFailedException
// (optimistic locking).
std::optional<runtime_api::ControlResult> check_revision(const boost::json::object& body,
                                                         std::string_view current);

// Reads optional typed fields of a request body, remembering the first problem.
class Fields {
 public:
  explicit Fields(const boost::json::object& body) : body_(body) {}

  std::optional<std::string> string(std::string_view key);
  std::optional<std::uint32_t> number(std::string_view key, std::int64_t min, std::int64_t max);
  // Environment.Variables, which replaces the whole map.
  std::optional<std::vector<std::pair<std::string, std::string>>> environment();

  [[nodiscard]] const std::optional<std::string>& problem() const { return problem_; }

 private:
  void fail(std::string why) {
    if (!problem_) problem_ = std::move(why);
  }

  const boost::json::object& body_;
  std::optional<std::string> problem_;
};

}  // namespace ember::engine
