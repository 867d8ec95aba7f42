#include <string>
#include <utility>

#include "ember/schedule/schedule.hpp"
#include "parsers.hpp"

namespace ember::schedule {

namespace {

// What stands between `keyword(` and the `)` that must end the text.
std::variant<Body, ParseError> body_after(std::string_view text, std::string_view keyword) {
  const std::size_t begin = keyword.size() + 1;
  const std::size_t close = text.find(')', begin);
  if (close == std::string_view::npos) {
    return ParseError{text.size(), "expected ')' to close " + std::string(keyword) + "("};
  }
  if (close + 1 != text.size()) {
    return ParseError{close + 1, "unexpected text after ')'"};
  }
  return Body{begin, close};
}

template <typename Part>
std::variant<detail::Spec, ParseError> widen(std::variant<Part, ParseError> parsed) {
  if (auto* error = std::get_if<ParseError>(&parsed)) return std::move(*error);
  return detail::Spec(std::get<Part>(std::move(parsed)));
}

}  // namespace

std::variant<Expression, ParseError> parse(std::string_view text) {
  for (const std::string_view keyword : {"rate", "cron"}) {
    if (!text.starts_with(keyword) || text.size() <= keyword.size() ||
        text[keyword.size()] != '(') {
      continue;
    }
    auto body = body_after(text, keyword);
    if (auto* error = std::get_if<ParseError>(&body)) return std::move(*error);
    const Body inside = std::get<Body>(body);
    auto spec =
        keyword == "rate" ? widen(parse_rate(text, inside)) : widen(parse_cron(text, inside));
    if (auto* error = std::get_if<ParseError>(&spec)) return std::move(*error);
    return Expression(std::string(text), std::get<detail::Spec>(std::move(spec)));
  }
  return ParseError{0,
                    "expected rate(value unit) or cron(minutes hours day-of-month month "
                    "day-of-week year)"};
}

}  // namespace ember::schedule
