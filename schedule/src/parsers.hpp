// The two grammars behind parse(), and the cron search behind next_after(). Each parser gets
// the whole expression text and the offsets of what stands between its parentheses, so every
// error it reports is an offset into the text the user wrote.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>

#include "ember/schedule/detail/fields.hpp"
#include "ember/schedule/schedule.hpp"

namespace ember::schedule {

struct Body {
  std::size_t begin = 0;  // the first character after `(`
  std::size_t end = 0;    // the closing `)`
};

// `rate(value unit)`: a positive whole value, one space, the unit (singular exactly for 1).
std::variant<detail::RatePeriod, ParseError> parse_rate(std::string_view text, Body body);

// `cron(minutes hours day-of-month month day-of-week year)`, fields one space apart.
std::variant<detail::CronFields, ParseError> parse_cron(std::string_view text, Body body);

// The first whole minute strictly after `after` that `fields` allows.
std::optional<Time> next_cron_fire(const detail::CronFields& fields, Time after);

}  // namespace ember::schedule
