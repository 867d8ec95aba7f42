// The parsed form of a schedule expression, private to ember::schedule (Expression holds one;
// the parser fills it, next_after reads it). Values are kept as bit sets indexed by the
// field's own numbering, so matching a time is a handful of lookups.
#pragma once

#include <bitset>
#include <chrono>
#include <variant>

namespace ember::schedule::detail {

inline constexpr int kFirstYear = 1970;  // EventBridge's year range
inline constexpr int kLastYear = 2199;

// The day-of-month field. kUnused is its `?`.
struct DayOfMonthRule {
  enum class Kind {
    kUnused,
    kDays,            // the days set in `days` (1-31); a day the month lacks never fires
    kLast,            // L: the month's last day
    kLastWeekday,     // LW: the month's last Monday-Friday
    kNearestWeekday,  // nW: the Monday-Friday nearest day `day`, never leaving its month
  };
  Kind kind = Kind::kUnused;
  std::bitset<32> days;
  unsigned day = 0;
};

// The day-of-week field, weekdays numbered as EventBridge does: 1 = Sunday ... 7 = Saturday.
// kUnused is its `?`.
struct DayOfWeekRule {
  enum class Kind {
    kUnused,
    kDays,         // the weekdays set in `days` (1-7)
    kLastInMonth,  // nL: the month's last `weekday`
    kNth,          // n#k: the month's `nth` `weekday` (a month without one is skipped)
  };
  Kind kind = Kind::kUnused;
  std::bitset<8> days;
  unsigned weekday = 0;
  unsigned nth = 0;
};

struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  DayOfMonthRule day_of_month;
  std::bitset<13> months;  // 1-12
  DayOfWeekRule day_of_week;
  std::bitset<kLastYear - kFirstYear + 1> years;  // bit 0 is 1970
};

struct RatePeriod {
  std::chrono::seconds period{};
};

using Spec = std::variant<RatePeriod, CronFields>;

}  // namespace ember::schedule::detail
