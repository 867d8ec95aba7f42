// EventBridge's cron grammar. What its documentation leaves open is decided as Quartz (whose
// syntax EventBridge's follows) decides it, except where EventBridge documents less:
// - names (JAN-DEC, SUN-SAT) and the letters L and W are case-insensitive; a field holds
//   digits (leading zeros allowed), names and `, - * ? / L W #` only;
// - a range may wrap past the field's end (FRI-MON, 22-2, NOV-FEB), not in the year field;
// - `a/n` counts from a to the field's end; a step is 1 up to the field's size;
// - `/` is not allowed in day-of-week (EventBridge's table leaves it out);
// - the specials stand alone as the whole field: `?`, `L`, `LW`, `15W` in day-of-month;
//   `?`, `L` (= 7, Saturday, the week's last day), `6L` (the month's last Friday), `3#2`
//   (the month's second Tuesday, occurrence 1-5) in day-of-week. `L-3` is refused: EventBridge
//   does not document it.
#include <array>
#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "parsers.hpp"

namespace ember::schedule {

namespace {

using detail::CronFields;
using detail::DayOfMonthRule;
using detail::DayOfWeekRule;

constexpr std::array<std::string_view, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames{"SUN", "MON", "TUE", "WED",
                                                    "THU", "FRI", "SAT"};

struct Field {
  std::string_view name;
  unsigned min;
  unsigned max;
  std::span<const std::string_view> names;  // names[i] is the value min + i
  std::string_view names_range;             // how the error messages name them
  bool steps;                               // `/` allowed
  bool wraps;                               // a range may run past max back to min
};

constexpr Field kMinutes{"minutes", 0, 59, {}, "", true, true};
constexpr Field kHours{"hours", 0, 23, {}, "", true, true};
constexpr Field kDayOfMonth{"day-of-month", 1, 31, {}, "", true, true};
constexpr Field kMonth{"month", 1, 12, kMonthNames, "JAN-DEC", true, true};
constexpr Field kDayOfWeek{"day-of-week", 1, 7, kDayNames, "SUN-SAT", false, true};
constexpr Field kYear{"year", detail::kFirstYear, detail::kLastYear, {}, "", true, false};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool same_letters(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

// One field's text, [begin, end) of the whole expression. Each parse step returns false after
// recording the error at the offending character.
class FieldParser {
 public:
  FieldParser(std::string_view text, std::size_t begin, std::size_t end, const Field& field)
      : text_(text), begin_(begin), end_(end), pos_(begin), field_(field) {}

  [[nodiscard]] const ParseError& error() const { return error_; }

  // The whole field, compared case-insensitively.
  [[nodiscard]] bool is(std::string_view word) const {
    return same_letters(text_.substr(begin_, end_ - begin_), word);
  }

  // Where `c` (either case) first occurs in the field, or npos.
  [[nodiscard]] std::size_t find(char c) const {
    for (std::size_t i = begin_; i < end_; ++i) {
      if (upper(text_[i]) == c) return i;
    }
    return std::string_view::npos;
  }

  // A list of values, ranges and steps; bit `value - offset` is set for each value.
  template <std::size_t N>
  bool parse_list(std::bitset<N>& out, unsigned offset) {
    while (true) {
      if (!parse_element(out, offset)) return false;
      if (at_end()) return true;
      if (peek() != ',') return unexpected();
      ++pos_;
      if (at_end()) return fail(pos_, "expected a value after ','");
    }
  }

  // day-of-month's `15W`: the day, then W, as the whole field.
  bool parse_nearest_weekday(unsigned& day) {
    if (!parse_value(day)) return false;
    if (upper(peek()) != 'W') return fail(pos_, "'W' must follow a single day, as in 15W");
    ++pos_;
    return expect_end();
  }

  // day-of-week's `6L`: the weekday, then L, as the whole field.
  bool parse_last_weekday(unsigned& weekday) {
    if (!parse_value(weekday)) return false;
    if (upper(peek()) != 'L') {
      return fail(pos_, "'L' must follow a single weekday, as in 6L, or stand alone");
    }
    ++pos_;
    return expect_end();
  }

  // day-of-week's `3#2`: the weekday, #, the occurrence 1-5, as the whole field.
  bool parse_nth_weekday(unsigned& weekday, unsigned& nth) {
    if (!parse_value(weekday)) return false;
    if (peek() != '#') {
      return fail(pos_, "'#' takes a single weekday, as in 3#2 (only one expression with '#')");
    }
    ++pos_;
    const std::size_t nth_at = pos_;
    if (!is_digit(peek())) return fail(pos_, "expected the occurrence 1-5 after '#'");
    const std::string_view digits = read_digits(nth);
    if (nth < 1 || nth > 5) {
      return fail(nth_at, "occurrence " + std::string(digits) + " is out of range 1-5");
    }
    if (peek() == ',') return fail(pos_, "only one expression is allowed with '#'");
    return expect_end();
  }

 private:
  [[nodiscard]] bool at_end() const { return pos_ == end_; }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }

  bool fail(std::size_t position, std::string message) {
    error_ = ParseError{position, std::string(field_.name) + ": " + std::move(message)};
    return false;
  }

  bool expect_end() { return at_end() || unexpected(); }

  // Says what is wrong with the character at pos_, naming where a special belongs.
  bool unexpected() {
    if (at_end()) return fail(pos_, "expected a value");
    const char c = upper(peek());
    const bool days = field_.name == kDayOfMonth.name || field_.name == kDayOfWeek.name;
    if (c == '?') {
      return fail(pos_, days ? "'?' must be the whole field"
                             : "'?' is allowed only in day-of-month and day-of-week");
    }
    if (c == '/' && !field_.steps) return fail(pos_, "'/' is not allowed in this field");
    if (c == 'L' && field_.name == kDayOfMonth.name) {
      if (pos_ + 1 < end_ && text_[pos_ + 1] == '-') {
        return fail(pos_, "'L-n' (days before the month's end) is not supported");
      }
      return fail(pos_, "'L' must be the whole field (L or LW)");
    }
    if (c == 'W' && field_.name == kDayOfMonth.name) {
      return fail(pos_, "'W' must follow a single day that is the whole field, as in 15W");
    }
    if (c == 'L' && field_.name == kDayOfWeek.name) {
      return fail(pos_, "'L' must be the whole field: L, or a weekday then L as in 6L");
    }
    if (c == '#' && field_.name == kDayOfWeek.name) {
      return fail(pos_, "'#' must be the whole field, as in 3#2");
    }
    const bool printable = c > ' ' && c < 0x7f;
    return fail(pos_,
                printable ? "unexpected '" + std::string(1, peek()) + "'" : "unexpected character");
  }

  std::string_view read_digits(unsigned& value) {
    const std::size_t start = pos_;
    std::uint64_t number = 0;
    while (is_digit(peek())) {
      // Saturates: what is this long is out of every range, and says so with its own text.
      if (number < 1'000'000) number = number * 10 + static_cast<std::uint64_t>(peek() - '0');
      ++pos_;
    }
    value = static_cast<unsigned>(number);
    return text_.substr(start, pos_ - start);
  }

  bool parse_value(unsigned& value) {
    const std::size_t start = pos_;
    if (is_digit(peek())) {
      const std::string_view digits = read_digits(value);
      if (value < field_.min || value > field_.max) {
        return fail(start, std::string(digits) + " is out of range " + range_text());
      }
      return true;
    }
    if (is_letter(peek()) && !field_.names.empty()) {
      while (is_letter(peek())) ++pos_;
      // A weekday name directly followed by day-of-week's L (FRIL): the L is not the name's.
      if (field_.name == kDayOfWeek.name && pos_ - start == 4 && upper(text_[pos_ - 1]) == 'L') {
        --pos_;
      }
      const std::string_view word = text_.substr(start, pos_ - start);
      for (std::size_t i = 0; i < field_.names.size(); ++i) {
        if (same_letters(word, field_.names[i])) {
          value = field_.min + static_cast<unsigned>(i);
          return true;
        }
      }
      return fail(
          start, "'" + std::string(word) + "' is not a name in " + std::string(field_.names_range));
    }
    return unexpected();
  }

  template <std::size_t N>
  bool parse_element(std::bitset<N>& out, unsigned offset) {
    const std::size_t start = pos_;
    unsigned low = field_.min;
    unsigned high = field_.max;
    bool single = false;
    if (peek() == '*') {
      ++pos_;
    } else {
      if (!parse_value(low)) return false;
      high = low;
      single = peek() != '-';
      if (!single) {
        ++pos_;
        if (!parse_value(high)) return false;
      }
    }
    unsigned step = 1;
    if (peek() == '/') {
      if (!field_.steps) return unexpected();
      ++pos_;
      const std::size_t step_at = pos_;
      if (!is_digit(peek())) return fail(pos_, "expected a step after '/'");
      const std::string_view digits = read_digits(step);
      const unsigned size = field_.max - field_.min + 1;
      if (step < 1 || step > size) {
        return fail(step_at,
                    "step " + std::string(digits) + " is out of range 1-" + std::to_string(size));
      }
      if (single) high = field_.max;  // `5/15`: from 5 to the end of the field
    }
    if (low > high && !field_.wraps) {
      return fail(start, "the range " + std::to_string(low) + "-" + std::to_string(high) +
                             " goes backwards");
    }
    // A wrapping range (22-2) is walked as offsets from `low`, modulo the field's size.
    const unsigned size = field_.max - field_.min + 1;
    const unsigned length = low <= high ? high - low : high + size - low;
    for (unsigned walked = 0; walked <= length; walked += step) {
      const unsigned value = field_.min + (low - field_.min + walked) % size;
      out.set(value - offset);
    }
    return true;
  }

  [[nodiscard]] std::string range_text() const {
    return std::to_string(field_.min) + "-" + std::to_string(field_.max);
  }

  std::string_view text_;
  std::size_t begin_;
  std::size_t end_;
  std::size_t pos_;
  const Field& field_;
  ParseError error_;
};

std::optional<ParseError> parse_day_of_month(FieldParser& parser, DayOfMonthRule& rule) {
  using Kind = DayOfMonthRule::Kind;
  if (parser.is("?")) {
    rule.kind = Kind::kUnused;
  } else if (parser.is("L")) {
    rule.kind = Kind::kLast;
  } else if (parser.is("LW")) {
    rule.kind = Kind::kLastWeekday;
  } else if (parser.find('W') != std::string_view::npos &&
             parser.find('L') == std::string_view::npos) {
    rule.kind = Kind::kNearestWeekday;
    if (!parser.parse_nearest_weekday(rule.day)) return parser.error();
  } else {
    rule.kind = Kind::kDays;
    if (!parser.parse_list(rule.days, 0)) return parser.error();
  }
  return std::nullopt;
}

std::optional<ParseError> parse_day_of_week(FieldParser& parser, DayOfWeekRule& rule) {
  using Kind = DayOfWeekRule::Kind;
  if (parser.is("?")) {
    rule.kind = Kind::kUnused;
  } else if (parser.is("L")) {
    rule.kind = Kind::kDays;  // the week's last day
    rule.days.set(7);
  } else if (parser.find('#') != std::string_view::npos) {
    rule.kind = Kind::kNth;
    if (!parser.parse_nth_weekday(rule.weekday, rule.nth)) return parser.error();
  } else if (parser.find('L') != std::string_view::npos) {
    rule.kind = Kind::kLastInMonth;
    if (!parser.parse_last_weekday(rule.weekday)) return parser.error();
  } else {
    rule.kind = Kind::kDays;
    if (!parser.parse_list(rule.days, 0)) return parser.error();
  }
  return std::nullopt;
}

struct Span {
  std::size_t begin;
  std::size_t end;
};
constexpr std::size_t kFields = 6;
using Spans = std::array<Span, kFields>;

// Splits at single spaces; an empty field is a doubled, leading or trailing space.
std::variant<Spans, ParseError> split_fields(std::string_view text, Body body) {
  Spans spans{};
  std::size_t count = 0;
  std::size_t pos = body.begin;
  while (pos < body.end) {
    const std::size_t begin = pos;
    while (pos < body.end && text[pos] != ' ') {
      if (text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r') {
        return ParseError{pos, "fields are separated by single spaces, not tabs or line breaks"};
      }
      ++pos;
    }
    if (pos == begin) {
      if (count == 0) return ParseError{pos, "unexpected space before the first field"};
      return ParseError{pos, "expected exactly one space between fields"};
    }
    if (count == kFields) {
      return ParseError{begin,
                        "expected 6 fields (minutes hours day-of-month month day-of-week year), "
                        "found more"};
    }
    spans.at(count++) = Span{begin, pos};
    if (pos < body.end) {
      ++pos;  // the space
      if (pos == body.end) return ParseError{pos - 1, "unexpected space after the last field"};
    }
  }
  if (count < kFields) {
    return ParseError{body.end,
                      "expected 6 fields (minutes hours day-of-month month day-of-week year), "
                      "found " +
                          std::to_string(count)};
  }
  return spans;
}

}  // namespace

std::variant<CronFields, ParseError> parse_cron(std::string_view text, Body body) {
  auto split = split_fields(text, body);
  if (auto* error = std::get_if<ParseError>(&split)) return std::move(*error);
  const Spans& spans = std::get<Spans>(split);

  CronFields fields;
  const auto parser_for = [&](std::size_t index, const Field& field) {
    return FieldParser(text, spans.at(index).begin, spans.at(index).end, field);
  };
  if (auto parser = parser_for(0, kMinutes); !parser.parse_list(fields.minutes, 0)) {
    return parser.error();
  }
  if (auto parser = parser_for(1, kHours); !parser.parse_list(fields.hours, 0)) {
    return parser.error();
  }
  if (auto parser = parser_for(2, kDayOfMonth);
      auto error = parse_day_of_month(parser, fields.day_of_month)) {
    return *error;
  }
  if (auto parser = parser_for(3, kMonth); !parser.parse_list(fields.months, 0)) {
    return parser.error();
  }
  if (auto parser = parser_for(4, kDayOfWeek);
      auto error = parse_day_of_week(parser, fields.day_of_week)) {
    return *error;
  }
  const bool month_day_unused = fields.day_of_month.kind == DayOfMonthRule::Kind::kUnused;
  const bool week_day_unused = fields.day_of_week.kind == DayOfWeekRule::Kind::kUnused;
  if (month_day_unused == week_day_unused) {
    return ParseError{spans[4].begin,
                      month_day_unused
                          ? "day-of-week: '?' in both day-of-month and day-of-week; exactly one "
                            "of them must be '?'"
                          : "day-of-week: must be '?' when day-of-month is not (exactly one of "
                            "them is '?')"};
  }
  if (auto parser = parser_for(5, kYear); !parser.parse_list(fields.years, detail::kFirstYear)) {
    return parser.error();
  }
  return fields;
}

}  // namespace ember::schedule
