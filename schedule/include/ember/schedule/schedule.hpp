// EventBridge schedule expressions (issue 12): `rate(N unit)` and six-field
// `cron(minutes hours day-of-month month day-of-week year)`, in UTC, with EventBridge's
// exact grammar. Parsing reports the position of the first problem; a parsed expression
// answers when it next fires.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ember/schedule/detail/fields.hpp"

namespace ember::schedule {

using Time = std::chrono::sys_seconds;  // UTC, whole seconds

// Why an expression does not parse: `position` is the 0-based offset in the expression's
// text of the first character at fault; `message` says what was expected there.
struct ParseError {
  std::size_t position = 0;
  std::string message;
};

class Expression;

// Parses `rate(...)` or `cron(...)`.
std::variant<Expression, ParseError> parse(std::string_view text);

class Expression {
 public:
  // The first time strictly after `after` at which it fires; none when it never fires again
  // (a cron whose years are all past). A rate fires every period counted from `anchor`
  // (when the schedule started: the node's start), so its answer is anchor + k * period.
  [[nodiscard]] std::optional<Time> next_after(Time after, Time anchor) const;
  // The text it was parsed from.
  [[nodiscard]] const std::string& text() const;
  // rate(): the period; cron(): none.
  [[nodiscard]] std::optional<std::chrono::seconds> period() const;

 private:
  friend std::variant<Expression, ParseError> parse(std::string_view text);
  Expression(std::string text, detail::Spec spec);

  std::string text_;
  detail::Spec spec_;  // per cron field a bit set of allowed values plus the L / W / # / ? rules
};

}  // namespace ember::schedule
