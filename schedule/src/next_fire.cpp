// The next fire time of a cron expression, searched day by day inside the allowed months of
// the allowed years: a year or month that cannot fire is skipped whole, so the search is at
// most a few thousand steps even for an expression that never fires again (the year field
// ends at 2199).
#include <chrono>

#include "parsers.hpp"

namespace ember::schedule {

namespace {

using namespace std::chrono;
using detail::CronFields;
using detail::DayOfMonthRule;
using detail::DayOfWeekRule;

unsigned last_day_of(year_month ym) {
  return static_cast<unsigned>(year_month_day_last(ym.year(), month_day_last(ym.month())).day());
}

// EventBridge's numbering: 1 = Sunday ... 7 = Saturday.
unsigned weekday_number(sys_days day) { return weekday(day).c_encoding() + 1; }

// The Monday-Friday nearest `day` (1 <= day <= last) that stays inside its month: a Saturday
// 1st moves forward to Monday the 3rd, a Sunday last day back to Friday.
unsigned nearest_weekday(year_month ym, unsigned target, unsigned last) {
  const unsigned weekday = weekday_number(sys_days(ym / day(target)));
  if (weekday == 7) return target == 1 ? target + 2 : target - 1;
  if (weekday == 1) return target == last ? target - 2 : target + 1;
  return target;
}

bool month_day_matches(const DayOfMonthRule& rule, year_month ym, unsigned day, unsigned last) {
  switch (rule.kind) {
    case DayOfMonthRule::Kind::kUnused:
      return true;
    case DayOfMonthRule::Kind::kDays:
      return rule.days.test(day);
    case DayOfMonthRule::Kind::kLast:
      return day == last;
    case DayOfMonthRule::Kind::kLastWeekday:
      return day == nearest_weekday(ym, last, last);
    case DayOfMonthRule::Kind::kNearestWeekday:
      return rule.day <= last && day == nearest_weekday(ym, rule.day, last);
  }
  return false;
}

bool week_day_matches(const DayOfWeekRule& rule, unsigned weekday, unsigned day, unsigned last) {
  switch (rule.kind) {
    case DayOfWeekRule::Kind::kUnused:
      return true;
    case DayOfWeekRule::Kind::kDays:
      return rule.days.test(weekday);
    case DayOfWeekRule::Kind::kLastInMonth:
      return weekday == rule.weekday && day + 7 > last;
    case DayOfWeekRule::Kind::kNth:
      return weekday == rule.weekday && (day - 1) / 7 + 1 == rule.nth;
  }
  return false;
}

// The first allowed minute of the day at or after `from` (minutes since midnight).
std::optional<minutes> first_minute_from(const CronFields& fields, minutes from) {
  const auto start = static_cast<unsigned>(from.count());
  for (unsigned hour = start / 60; hour < 24; ++hour) {
    if (!fields.hours.test(hour)) continue;
    for (unsigned minute = hour == start / 60 ? start % 60 : 0; minute < 60; ++minute) {
      if (fields.minutes.test(minute)) return hours(hour) + minutes(minute);
    }
  }
  return std::nullopt;
}

const sys_days kFirstDay{year(detail::kFirstYear) / January / 1};
const sys_days kEndDay{year(detail::kLastYear + 1) / January / 1};

// `day` itself when its year and month are allowed, else the 1st of the next allowed month of
// an allowed year; none after 2199.
std::optional<sys_days> first_allowed_day(const CronFields& fields, sys_days day) {
  while (day < kEndDay) {
    const year_month_day date(day);
    const auto year_index = static_cast<std::size_t>(int(date.year()) - detail::kFirstYear);
    if (!fields.years.test(year_index)) {
      std::size_t next = year_index + 1;
      while (next < fields.years.size() && !fields.years.test(next)) ++next;
      if (next == fields.years.size()) return std::nullopt;
      day = sys_days(year(detail::kFirstYear + static_cast<int>(next)) / January / 1);
      continue;
    }
    const auto month_number = static_cast<unsigned>(date.month());
    if (!fields.months.test(month_number)) {
      unsigned next = month_number + 1;
      while (next <= 12 && !fields.months.test(next)) ++next;
      day = next <= 12 ? sys_days(date.year() / month(next) / 1)
                       : sys_days((date.year() + years(1)) / January / 1);
      continue;
    }
    return day;
  }
  return std::nullopt;
}

bool day_matches(const CronFields& fields, sys_days day) {
  const year_month_day date(day);
  const year_month ym = date.year() / date.month();
  const auto day_number = static_cast<unsigned>(date.day());
  const unsigned last = last_day_of(ym);
  return month_day_matches(fields.day_of_month, ym, day_number, last) &&
         week_day_matches(fields.day_of_week, weekday_number(day), day_number, last);
}

}  // namespace

std::optional<Time> next_cron_fire(const CronFields& fields, Time after) {
  if (after >= kEndDay) return std::nullopt;
  using sys_minutes = time_point<system_clock, minutes>;
  const sys_minutes start =
      after < kFirstDay ? sys_minutes(kFirstDay) : floor<minutes>(after) + minutes(1);
  sys_days day = floor<days>(start);
  minutes from = start - day;  // only the first day starts after midnight
  while (true) {
    const auto allowed = first_allowed_day(fields, day);
    if (!allowed) return std::nullopt;
    if (*allowed != day) {
      day = *allowed;
      from = minutes(0);
    }
    if (day_matches(fields, day)) {
      if (const auto minute = first_minute_from(fields, from)) return Time(day + *minute);
    }
    day += days(1);
    from = minutes(0);
  }
}

}  // namespace ember::schedule
