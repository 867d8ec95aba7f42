#include <array>
#include <cstdint>
#include <string>

#include "parsers.hpp"

namespace ember::schedule {

namespace {

// Larger values are surely mistakes, and keep anchor + k * period far from overflowing.
constexpr std::uint64_t kMaxValue = 1'000'000'000;

struct Unit {
  std::string_view singular;
  std::string_view plural;
  std::chrono::seconds length;
};

constexpr std::array<Unit, 3> kUnits{{
    {"minute", "minutes", std::chrono::minutes{1}},
    {"hour", "hours", std::chrono::hours{1}},
    {"day", "days", std::chrono::days{1}},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

ParseError error(std::size_t position, std::string message) {
  return ParseError{position, "rate: " + std::move(message)};
}

}  // namespace

std::variant<detail::RatePeriod, ParseError> parse_rate(std::string_view text, Body body) {
  std::size_t pos = body.begin;
  if (pos == body.end || !is_digit(text[pos])) {
    return error(pos, "expected a positive whole number, as in rate(5 minutes)");
  }
  const std::size_t value_at = pos;
  std::uint64_t value = 0;
  while (pos < body.end && is_digit(text[pos])) {
    value = value * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    if (value > kMaxValue) return error(value_at, "the value is larger than 1000000000");
    ++pos;
  }
  if (value == 0) return error(value_at, "the value must be positive, not 0");
  if (pos == body.end) return error(pos, "expected a space and a unit after the value");
  if (text[pos] != ' ') return error(pos, "expected a space after the value");
  ++pos;
  if (pos < body.end && text[pos] == ' ') {
    return error(pos, "expected exactly one space between the value and the unit");
  }
  const std::string_view unit = text.substr(pos, body.end - pos);
  if (const auto space = unit.find(' '); space != std::string_view::npos) {
    return error(pos + space, "unexpected text after the unit");
  }
  for (const Unit& known : kUnits) {
    if (unit != known.singular && unit != known.plural) continue;
    if (value == 1 && unit == known.plural) {
      return error(pos,
                   "a value of 1 takes the singular unit '" + std::string(known.singular) + "'");
    }
    if (value != 1 && unit == known.singular) {
      return error(
          pos, "a value other than 1 takes the plural unit '" + std::string(known.plural) + "'");
    }
    return detail::RatePeriod{static_cast<std::int64_t>(value) * known.length};
  }
  return error(
      pos, "unknown unit '" + std::string(unit) + "' (minute, minutes, hour, hours, day or days)");
}

}  // namespace ember::schedule
