// Schedule expressions (schedule/): cron(...) and rate(...) as a config or EventBridge rule
// gives them; a parsed one answers next_after without looping or overflowing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "ember/schedule/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::schedule;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse(text);
  auto* expression = std::get_if<Expression>(&parsed);
  if (expression == nullptr) return 0;
  const Time anchor{std::chrono::seconds{1'700'000'000}};
  Time at = anchor;
  for (int i = 0; i < 3; ++i) {
    const auto next = expression->next_after(at, anchor);
    if (!next) break;
    if (*next <= at) __builtin_trap();  // fire times only move forward
    at = *next;
  }
  return 0;
}
