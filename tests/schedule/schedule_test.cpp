// EventBridge schedule expressions against fixed dates: every grammar feature, every error and
// where it points, and next_after across leap years, month ends and the L / W / # specials.
#include "ember/schedule/schedule.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace ember::schedule {
namespace {

using namespace std::chrono;

Time at(int y, unsigned m, unsigned d, int hour = 0, int minute = 0, int second = 0) {
  return Time(sys_days(year(y) / month(m) / day(d))) + hours(hour) + minutes(minute) +
         seconds(second);
}

// "2028-02-29 00:00" (seconds only when not zero), or "never".
std::string show(const std::optional<Time>& time) {
  if (!time) return "never";
  const auto day_start = floor<days>(*time);
  const year_month_day date(day_start);
  const hh_mm_ss clock(*time - day_start);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", int(date.year()),
                unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                int(clock.minutes().count()));
  std::string shown = text;
  if (clock.seconds().count() != 0) shown += ":" + std::to_string(clock.seconds().count());
  return shown;
}

Expression must_parse(std::string_view text) {
  auto result = parse(text);
  if (const auto* error = std::get_if<ParseError>(&result)) {
    throw std::runtime_error(std::string(text) + ": position " + std::to_string(error->position) +
                             ": " + error->message);
  }
  return std::get<Expression>(std::move(result));
}

ParseError must_fail(std::string_view text) {
  auto result = parse(text);
  if (std::holds_alternative<Expression>(result)) {
    throw std::runtime_error(std::string(text) + " parsed, but should not");
  }
  return std::get<ParseError>(std::move(result));
}

// The first fire strictly after `after` (the anchor matters only for rates).
std::string next(std::string_view text, Time after) {
  return show(must_parse(text).next_after(after, after));
}

// The error's position, then its message, so a mismatch shows both.
std::string failure(std::string_view text) {
  const ParseError error = must_fail(text);
  return std::to_string(error.position) + ": " + error.message;
}

// ---------------------------------------------------------------- rate()

TEST(Rate, PeriodsOfEachUnitSingularForOne) {
  EXPECT_EQ(must_parse("rate(1 minute)").period(), minutes(1));
  EXPECT_EQ(must_parse("rate(5 minutes)").period(), minutes(5));
  EXPECT_EQ(must_parse("rate(1 hour)").period(), hours(1));
  EXPECT_EQ(must_parse("rate(12 hours)").period(), hours(12));
  EXPECT_EQ(must_parse("rate(1 day)").period(), days(1));
  EXPECT_EQ(must_parse("rate(2 days)").period(), days(2));
}

TEST(Rate, KeepsItsText) { EXPECT_EQ(must_parse("rate(2 days)").text(), "rate(2 days)"); }

TEST(Rate, FiresAtAnchorPlusWholePeriods) {
  const Expression rate = must_parse("rate(5 minutes)");
  const Time anchor = at(2025, 3, 1, 10, 0, 17);
  EXPECT_EQ(show(rate.next_after(at(2025, 3, 1, 10, 7), anchor)), "2025-03-01 10:10:17");
  // Strictly after: a fire time itself gives the one after it.
  EXPECT_EQ(show(rate.next_after(at(2025, 3, 1, 10, 10, 17), anchor)), "2025-03-01 10:15:17");
  EXPECT_EQ(show(rate.next_after(at(2025, 3, 2, 0, 0), anchor)), "2025-03-02 00:00:17");
}

TEST(Rate, HourAndDayPeriodsKeepTheAnchorsTimeOfDay) {
  const Time anchor = at(2025, 3, 1, 9, 30);
  EXPECT_EQ(show(must_parse("rate(1 hour)").next_after(at(2025, 3, 1, 14, 45), anchor)),
            "2025-03-01 15:30");
  EXPECT_EQ(show(must_parse("rate(2 days)").next_after(at(2025, 3, 2, 9, 30), anchor)),
            "2025-03-03 09:30");
  // Whole periods, not calendar months: 30 days from February 1st is March 3rd.
  EXPECT_EQ(show(must_parse("rate(30 days)").next_after(at(2025, 2, 1), at(2025, 2, 1))),
            "2025-03-03 00:00");
}

TEST(Rate, FirstFireIsTheAnchorItself) {
  const Expression rate = must_parse("rate(1 day)");
  const Time anchor = at(2025, 3, 1, 12);
  EXPECT_EQ(show(rate.next_after(at(2025, 2, 1), anchor)), "2025-03-01 12:00");
  EXPECT_EQ(show(rate.next_after(anchor - seconds(1), anchor)), "2025-03-01 12:00");
  EXPECT_EQ(show(rate.next_after(anchor, anchor)), "2025-03-02 12:00");
}

TEST(Rate, SingularAndPluralMustMatchTheValue) {
  EXPECT_EQ(failure("rate(1 minutes)"), "7: rate: a value of 1 takes the singular unit 'minute'");
  EXPECT_EQ(failure("rate(5 minute)"),
            "7: rate: a value other than 1 takes the plural unit 'minutes'");
  EXPECT_EQ(failure("rate(1 days)"), "7: rate: a value of 1 takes the singular unit 'day'");
  EXPECT_EQ(failure("rate(2 hour)"), "7: rate: a value other than 1 takes the plural unit 'hours'");
}

TEST(Rate, ValueMustBeAPositiveWholeNumber) {
  EXPECT_EQ(failure("rate(0 minutes)"), "5: rate: the value must be positive, not 0");
  EXPECT_EQ(failure("rate(-5 minutes)"),
            "5: rate: expected a positive whole number, as in rate(5 minutes)");
  EXPECT_EQ(failure("rate(1.5 hours)"), "6: rate: expected a space after the value");
  EXPECT_EQ(failure("rate(5000000000 minutes)"), "5: rate: the value is larger than 1000000000");
}

TEST(Rate, ExactlyOneSpaceAndAKnownLowerCaseUnit) {
  EXPECT_EQ(failure("rate(5  minutes)"),
            "7: rate: expected exactly one space between the value and the unit");
  EXPECT_EQ(failure("rate( 5 minutes)"),
            "5: rate: expected a positive whole number, as in rate(5 minutes)");
  EXPECT_EQ(failure("rate(5minutes)"), "6: rate: expected a space after the value");
  EXPECT_EQ(failure("rate(5 minutes )"), "14: rate: unexpected text after the unit");
  EXPECT_EQ(failure("rate(5 weeks)"),
            "7: rate: unknown unit 'weeks' (minute, minutes, hour, hours, day or days)");
  EXPECT_EQ(failure("rate(5 Minutes)"),
            "7: rate: unknown unit 'Minutes' (minute, minutes, hour, hours, day or days)");
  EXPECT_EQ(failure("rate(5)"), "6: rate: expected a space and a unit after the value");
  EXPECT_EQ(failure("rate()"), "5: rate: expected a positive whole number, as in rate(5 minutes)");
}

TEST(Expression, MustBeRateOrCronWithClosingParenthesis) {
  const std::string expected =
      "0: expected rate(value unit) or cron(minutes hours day-of-month month day-of-week year)";
  EXPECT_EQ(failure(""), expected);
  EXPECT_EQ(failure("at(2025-01-01T00:00:00)"), expected);
  EXPECT_EQ(failure("RATE(5 minutes)"), expected);
  EXPECT_EQ(failure(" rate(5 minutes)"), expected);
  EXPECT_EQ(failure("rate (5 minutes)"), expected);
  EXPECT_EQ(failure("rate(5 minutes"), "14: expected ')' to close rate(");
  EXPECT_EQ(failure("rate(5 minutes) "), "15: unexpected text after ')'");
  EXPECT_EQ(failure("cron(0 0 * * ? *))"), "17: unexpected text after ')'");
}

// ---------------------------------------------------------------- cron(): structure

TEST(Cron, HasNoPeriodAndKeepsItsText) {
  const Expression cron = must_parse("cron(0 20 * * ? *)");
  EXPECT_EQ(cron.period(), std::nullopt);
  EXPECT_EQ(cron.text(), "cron(0 20 * * ? *)");
}

TEST(Cron, NeedsSixFieldsOneSpaceApart) {
  EXPECT_EQ(failure("cron(0 0 * * ?)"),
            "14: expected 6 fields (minutes hours day-of-month month day-of-week year), found 5");
  EXPECT_EQ(failure("cron()"),
            "5: expected 6 fields (minutes hours day-of-month month day-of-week year), found 0");
  EXPECT_EQ(
      failure("cron(0 0 * * ? * *)"),
      "17: expected 6 fields (minutes hours day-of-month month day-of-week year), found more");
  EXPECT_EQ(failure("cron(0  0 * * ? *)"), "7: expected exactly one space between fields");
  EXPECT_EQ(failure("cron( 0 0 * * ? *)"), "5: unexpected space before the first field");
  EXPECT_EQ(failure("cron(0 0 * * ? * )"), "16: unexpected space after the last field");
  EXPECT_EQ(failure("cron(0 0 * * ? *"), "16: expected ')' to close cron(");
  EXPECT_EQ(failure("cron(0\t0 * * ? *)"),
            "6: fields are separated by single spaces, not tabs or line breaks");
}

TEST(Cron, ExactlyOneOfTheDayFieldsIsQuestionMark) {
  EXPECT_EQ(failure("cron(0 0 * * * *)"),
            "13: day-of-week: must be '?' when day-of-month is not (exactly one of them is '?')");
  EXPECT_EQ(failure("cron(0 0 1 * MON *)"),
            "13: day-of-week: must be '?' when day-of-month is not (exactly one of them is '?')");
  EXPECT_EQ(failure("cron(0 0 ? * ? *)"),
            "13: day-of-week: '?' in both day-of-month and day-of-week; exactly one of them must "
            "be '?'");
}

TEST(Cron, ValuesOutOfRangeNameTheFieldAndPointAtTheValue) {
  EXPECT_EQ(failure("cron(0 25 * * ? *)"), "7: hours: 25 is out of range 0-23");
  EXPECT_EQ(failure("cron(60 0 * * ? *)"), "5: minutes: 60 is out of range 0-59");
  EXPECT_EQ(failure("cron(0 0 32 * ? *)"), "9: day-of-month: 32 is out of range 1-31");
  EXPECT_EQ(failure("cron(0 0 0 * ? *)"), "9: day-of-month: 0 is out of range 1-31");
  EXPECT_EQ(failure("cron(0 0 1 1-13 ? *)"), "13: month: 13 is out of range 1-12");
  EXPECT_EQ(failure("cron(0 0 ? * 0 *)"), "13: day-of-week: 0 is out of range 1-7");
  EXPECT_EQ(failure("cron(0 0 ? * 2,8 *)"), "15: day-of-week: 8 is out of range 1-7");
  EXPECT_EQ(failure("cron(0 0 1 * ? 1969)"), "15: year: 1969 is out of range 1970-2199");
  EXPECT_EQ(failure("cron(0 0 1 * ? 2025,2200)"), "20: year: 2200 is out of range 1970-2199");
  EXPECT_EQ(failure("cron(0 0 1 * ? 99999999999)"),
            "15: year: 99999999999 is out of range 1970-2199");
}

TEST(Cron, UnknownNamesAndCharacters) {
  EXPECT_EQ(failure("cron(0 0 1 JUX ? *)"), "11: month: 'JUX' is not a name in JAN-DEC");
  EXPECT_EQ(failure("cron(0 0 1 JANUARY ? *)"), "11: month: 'JANUARY' is not a name in JAN-DEC");
  EXPECT_EQ(failure("cron(0 0 ? * FUN *)"), "13: day-of-week: 'FUN' is not a name in SUN-SAT");
  EXPECT_EQ(failure("cron(MON 0 ? * 2 *)"), "5: minutes: unexpected 'M'");
  EXPECT_EQ(failure("cron(0 0 1 * ? 2025x)"), "19: year: unexpected 'x'");
  EXPECT_EQ(failure("cron(*5 0 1 * ? *)"), "6: minutes: unexpected '5'");
  EXPECT_EQ(failure("cron(0 0 1\x01 * ? *)"), "10: day-of-month: unexpected character");
  EXPECT_EQ(failure("cron(? 0 1 * ? *)"),
            "5: minutes: '?' is allowed only in day-of-month and day-of-week");
  EXPECT_EQ(failure("cron(0 0 1,? * ? *)"), "11: day-of-month: '?' must be the whole field");
}

TEST(Cron, IncompleteListsAndRanges) {
  EXPECT_EQ(failure("cron(5- 0 1 * ? *)"), "7: minutes: expected a value");
  EXPECT_EQ(failure("cron(1, 0 1 * ? *)"), "7: minutes: expected a value after ','");
  EXPECT_EQ(failure("cron(1,,2 0 1 * ? *)"), "7: minutes: unexpected ','");
  EXPECT_EQ(failure("cron(0 0 1 * ? 2030-2025)"), "15: year: the range 2030-2025 goes backwards");
}

TEST(Cron, StepsAreOneUpToTheFieldSize) {
  EXPECT_EQ(failure("cron(0/0 0 1 * ? *)"), "7: minutes: step 0 is out of range 1-60");
  EXPECT_EQ(failure("cron(0/61 0 1 * ? *)"), "7: minutes: step 61 is out of range 1-60");
  EXPECT_EQ(failure("cron(0 */25 1 * ? *)"), "9: hours: step 25 is out of range 1-24");
  EXPECT_EQ(failure("cron(0/ 0 1 * ? *)"), "7: minutes: expected a step after '/'");
  // EventBridge's table has no '/' in day-of-week.
  EXPECT_EQ(failure("cron(0 0 ? * 1/2 *)"), "14: day-of-week: '/' is not allowed in this field");
}

TEST(Cron, DayOfMonthSpecialsStandAlone) {
  EXPECT_EQ(failure("cron(0 0 L-3 * ? *)"),
            "9: day-of-month: 'L-n' (days before the month's end) is not supported");
  EXPECT_EQ(failure("cron(0 0 1,L * ? *)"),
            "11: day-of-month: 'L' must be the whole field (L or LW)");
  EXPECT_EQ(failure("cron(0 0 1,15W * ? *)"),
            "10: day-of-month: 'W' must follow a single day, as in 15W");
  EXPECT_EQ(failure("cron(0 0 1-5W * ? *)"),
            "10: day-of-month: 'W' must follow a single day, as in 15W");
  EXPECT_EQ(failure("cron(0 0 W * ? *)"),
            "9: day-of-month: 'W' must follow a single day that is the whole field, as in 15W");
  EXPECT_EQ(failure("cron(0 0 32W * ? *)"), "9: day-of-month: 32 is out of range 1-31");
  EXPECT_EQ(failure("cron(0 0 15WX * ? *)"), "12: day-of-month: unexpected 'X'");
}

TEST(Cron, DayOfWeekSpecialsStandAlone) {
  EXPECT_EQ(failure("cron(0 0 ? * 3#1,6#3 *)"),
            "16: day-of-week: only one expression is allowed with '#'");
  EXPECT_EQ(
      failure("cron(0 0 ? * 2,3#1 *)"),
      "14: day-of-week: '#' takes a single weekday, as in 3#2 (only one expression with '#')");
  EXPECT_EQ(failure("cron(0 0 ? * 3#6 *)"), "15: day-of-week: occurrence 6 is out of range 1-5");
  EXPECT_EQ(failure("cron(0 0 ? * 3#0 *)"), "15: day-of-week: occurrence 0 is out of range 1-5");
  EXPECT_EQ(failure("cron(0 0 ? * 3# *)"),
            "15: day-of-week: expected the occurrence 1-5 after '#'");
  EXPECT_EQ(failure("cron(0 0 ? * 1-5L *)"),
            "14: day-of-week: 'L' must follow a single weekday, as in 6L, or stand alone");
  EXPECT_EQ(failure("cron(0 0 ? * 2W *)"), "14: day-of-week: unexpected 'W'");
  EXPECT_EQ(failure("cron(0 0 L * L *)"),
            "13: day-of-week: must be '?' when day-of-month is not (exactly one of them is '?')");
}

// ---------------------------------------------------------------- cron(): next_after

TEST(CronNext, NextWholeMinuteStrictlyAfter) {
  EXPECT_EQ(next("cron(* * * * ? *)", at(2025, 3, 1, 10, 7, 30)), "2025-03-01 10:08");
  EXPECT_EQ(next("cron(* * * * ? *)", at(2025, 3, 1, 10, 7, 0)), "2025-03-01 10:08");
  EXPECT_EQ(next("cron(* * * * ? *)", at(2025, 12, 31, 23, 59, 59)), "2026-01-01 00:00");
}

TEST(CronNext, DailyAtAnHour) {
  EXPECT_EQ(next("cron(0 20 * * ? *)", at(2025, 3, 1, 19, 59)), "2025-03-01 20:00");
  EXPECT_EQ(next("cron(0 20 * * ? *)", at(2025, 3, 1, 20, 0)), "2025-03-02 20:00");
}

TEST(CronNext, MinuteLists) {
  const char* const quarter = "cron(0,15,30,45 * * * ? *)";
  EXPECT_EQ(next(quarter, at(2025, 3, 1, 10, 15)), "2025-03-01 10:30");
  EXPECT_EQ(next(quarter, at(2025, 3, 1, 10, 46)), "2025-03-01 11:00");
}

TEST(CronNext, StepsFromAValueRunToTheFieldEnd) {
  EXPECT_EQ(next("cron(0/15 * * * ? *)", at(2025, 3, 1, 10, 46)), "2025-03-01 11:00");
  // AWS's own example: 1/10 is minutes 1, 11, 21, ... 51.
  EXPECT_EQ(next("cron(1/10 * * * ? *)", at(2025, 3, 1, 10, 1)), "2025-03-01 10:11");
  EXPECT_EQ(next("cron(1/10 * * * ? *)", at(2025, 3, 1, 10, 51)), "2025-03-01 11:01");
  EXPECT_EQ(next("cron(5/15 * * * ? *)", at(2025, 3, 1, 10, 50)), "2025-03-01 11:05");
  EXPECT_EQ(next("cron(*/20 * * * ? *)", at(2025, 3, 1, 10, 41)), "2025-03-01 11:00");
}

TEST(CronNext, StepsInsideARange) {
  const char* const even_hours = "cron(30 10-20/2 * * ? *)";
  EXPECT_EQ(next(even_hours, at(2025, 3, 1, 10, 31)), "2025-03-01 12:30");
  EXPECT_EQ(next(even_hours, at(2025, 3, 1, 20, 30)), "2025-03-02 10:30");
  EXPECT_EQ(next("cron(0 0 1/10 * ? *)", at(2025, 3, 22)), "2025-03-31 00:00");
  EXPECT_EQ(next("cron(0 0 1 1/4 ? *)", at(2025, 5, 2)), "2025-09-01 00:00");
}

TEST(CronNext, WrappingHourRange) {
  const char* const night = "cron(0 22-2 * * ? *)";
  EXPECT_EQ(next(night, at(2025, 3, 1, 12)), "2025-03-01 22:00");
  EXPECT_EQ(next(night, at(2025, 3, 1, 23, 30)), "2025-03-02 00:00");
  EXPECT_EQ(next(night, at(2025, 3, 2, 2)), "2025-03-02 22:00");
  EXPECT_EQ(next("cron(0 22-2/2 * * ? *)", at(2025, 3, 1, 22)), "2025-03-02 00:00");
}

TEST(CronNext, MonthNamesAnyCaseAndWrappingMonthRange) {
  EXPECT_EQ(next("cron(0 0 1 jan,Jul ? *)", at(2025, 3, 1)), "2025-07-01 00:00");
  EXPECT_EQ(next("cron(0 0 1 NOV-FEB ? *)", at(2025, 2, 2)), "2025-11-01 00:00");
  EXPECT_EQ(next("cron(0 0 1 NOV-FEB ? *)", at(2025, 12, 2)), "2026-01-01 00:00");
  EXPECT_EQ(next("cron(0 0 1 3-APR ? *)", at(2025, 3, 2)), "2025-04-01 00:00");
}

TEST(CronNext, WeekdayNamesNumbersAndWrappingRanges) {
  // 2025-03-01 is a Saturday.
  EXPECT_EQ(next("cron(0 9 ? * MON-FRI *)", at(2025, 3, 1)), "2025-03-03 09:00");
  EXPECT_EQ(next("cron(0 9 ? * 2-6 *)", at(2025, 3, 1)), "2025-03-03 09:00");
  EXPECT_EQ(next("cron(0 9 ? * sun *)", at(2025, 3, 1)), "2025-03-02 09:00");
  EXPECT_EQ(next("cron(0 9 ? * 1 *)", at(2025, 3, 1)), "2025-03-02 09:00");
  // FRI-MON wraps: Friday, Saturday, Sunday, Monday. 2025-03-04 is a Tuesday.
  EXPECT_EQ(next("cron(0 9 ? * FRI-MON *)", at(2025, 3, 4)), "2025-03-07 09:00");
  EXPECT_EQ(next("cron(0 9 ? * FRI-MON *)", at(2025, 3, 3, 9)), "2025-03-07 09:00");
  EXPECT_EQ(next("cron(0 9 ? * FRI-MON *)", at(2025, 3, 2, 9)), "2025-03-03 09:00");
}

TEST(CronNext, ThirtyFirstSkipsShorterMonths) {
  EXPECT_EQ(next("cron(0 0 31 * ? *)", at(2025, 4, 1)), "2025-05-31 00:00");
  EXPECT_EQ(next("cron(0 0 31 * ? *)", at(2025, 5, 31)), "2025-07-31 00:00");
  EXPECT_EQ(next("cron(0 0 31 * ? *)", at(2025, 2, 1)), "2025-03-31 00:00");
  EXPECT_EQ(next("cron(0 0 30 * ? *)", at(2025, 1, 30)), "2025-03-30 00:00");
}

TEST(CronNext, FebruaryTwentyNinthOnlyInLeapYears) {
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", at(2025, 3, 1)), "2028-02-29 00:00");
  EXPECT_EQ(next("cron(0 0 29 FEB ? *)", at(2028, 2, 29)), "2032-02-29 00:00");
  // 2100 is divisible by 100 and not by 400: no February 29th.
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", at(2096, 3, 1)), "2104-02-29 00:00");
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", at(1999, 3, 1)), "2000-02-29 00:00");
}

TEST(CronNext, LastDayOfMonth) {
  const char* const last = "cron(0 0 L * ? *)";
  EXPECT_EQ(next(last, at(2028, 2, 1)), "2028-02-29 00:00");
  EXPECT_EQ(next(last, at(2027, 2, 1)), "2027-02-28 00:00");
  EXPECT_EQ(next(last, at(2100, 2, 1)), "2100-02-28 00:00");
  EXPECT_EQ(next(last, at(2025, 4, 1)), "2025-04-30 00:00");
  EXPECT_EQ(next(last, at(2025, 4, 30)), "2025-05-31 00:00");
  EXPECT_EQ(next("cron(0 0 l 2 ? *)", at(2027, 3, 1)), "2028-02-29 00:00");
}

TEST(CronNext, NearestWeekdayInsideTheMonth) {
  // 15th a Saturday (2025-02-15): the Friday before; a Sunday (2025-06-15): the Monday after.
  EXPECT_EQ(next("cron(0 0 15W * ? *)", at(2025, 2, 1)), "2025-02-14 00:00");
  EXPECT_EQ(next("cron(0 0 15W * ? *)", at(2025, 6, 1)), "2025-06-16 00:00");
  EXPECT_EQ(next("cron(0 0 15W * ? *)", at(2025, 4, 1)), "2025-04-15 00:00");
  // The 1st a Saturday (2025-02-01): Monday the 3rd, not Friday in January.
  EXPECT_EQ(next("cron(0 0 1W * ? *)", at(2025, 1, 2)), "2025-02-03 00:00");
  // The 1st a Sunday (2025-06-01): Monday the 2nd.
  EXPECT_EQ(next("cron(0 0 1w * ? *)", at(2025, 5, 31)), "2025-06-02 00:00");
  // The 31st a Sunday (2025-08-31): Friday the 29th, not Monday in September.
  EXPECT_EQ(next("cron(0 0 31W * ? *)", at(2025, 8, 1)), "2025-08-29 00:00");
  // The 31st a Saturday (2025-05-31): Friday the 30th.
  EXPECT_EQ(next("cron(0 0 31W * ? *)", at(2025, 5, 1)), "2025-05-30 00:00");
  // No 31st in September: the next is October's (a Friday).
  EXPECT_EQ(next("cron(0 0 31W * ? *)", at(2025, 9, 1)), "2025-10-31 00:00");
}

TEST(CronNext, LastWeekdayOfMonth) {
  // Last day a Sunday (2025-08-31), a Saturday (2025-05-31), a Monday (2025-03-31).
  EXPECT_EQ(next("cron(0 18 LW * ? *)", at(2025, 8, 1)), "2025-08-29 18:00");
  EXPECT_EQ(next("cron(0 18 LW * ? *)", at(2025, 5, 1)), "2025-05-30 18:00");
  EXPECT_EQ(next("cron(0 18 LW * ? *)", at(2025, 3, 1)), "2025-03-31 18:00");
  // February 2026 ends on a Saturday.
  EXPECT_EQ(next("cron(0 18 lw 2 ? *)", at(2025, 3, 1)), "2026-02-27 18:00");
}

TEST(CronNext, NthWeekdayOfMonth) {
  // The second Tuesday of January 2025 (the 1st is a Wednesday).
  EXPECT_EQ(next("cron(0 9 ? * 3#2 *)", at(2025, 1, 1)), "2025-01-14 09:00");
  EXPECT_EQ(next("cron(0 9 ? * TUE#2 *)", at(2025, 1, 14, 9)), "2025-02-11 09:00");
  EXPECT_EQ(next("cron(0 9 ? * 1#1 *)", at(2025, 6, 1, 10)), "2025-07-06 09:00");
}

TEST(CronNext, FifthWeekdaySkipsMonthsWithoutOne) {
  // Fifth Mondays of 2025: March 31 and June 30 (January, February, April and May have four).
  EXPECT_EQ(next("cron(0 0 ? * 2#5 *)", at(2025, 1, 1)), "2025-03-31 00:00");
  EXPECT_EQ(next("cron(0 0 ? * MON#5 *)", at(2025, 4, 1)), "2025-06-30 00:00");
}

TEST(CronNext, LastGivenWeekdayOfMonth) {
  // Last Fridays: January 2025 ends on one, March 2025 ends on a Monday.
  EXPECT_EQ(next("cron(0 0 ? * 6L *)", at(2025, 1, 1)), "2025-01-31 00:00");
  EXPECT_EQ(next("cron(0 0 ? * 6L *)", at(2025, 3, 1)), "2025-03-28 00:00");
  EXPECT_EQ(next("cron(0 0 ? * FRIL *)", at(2025, 2, 1)), "2025-02-28 00:00");
  EXPECT_EQ(next("cron(0 0 ? * fril *)", at(2025, 2, 1)), "2025-02-28 00:00");
  EXPECT_EQ(next("cron(0 0 ? * 6l *)", at(2025, 2, 1)), "2025-02-28 00:00");
}

TEST(CronNext, SpecialsCombineWithMonthsAndYears) {
  // The last Friday of December 2025 only; then never again.
  EXPECT_EQ(next("cron(0 17 ? DEC fri#5 2025)", at(2025, 1, 1)), "never");
  EXPECT_EQ(next("cron(0 17 ? DEC 6L 2025)", at(2025, 1, 1)), "2025-12-26 17:00");
  EXPECT_EQ(next("cron(0 17 ? DEC 6L 2025)", at(2025, 12, 26, 17)), "never");
  // The last day of each quarter.
  EXPECT_EQ(next("cron(0 0 L 3,6,9,12 ? *)", at(2025, 4, 1)), "2025-06-30 00:00");
}

TEST(CronNext, LeadingZerosAreValues) {
  EXPECT_EQ(next("cron(05 09 01 01 ? *)", at(2025, 3, 1)), "2026-01-01 09:05");
}

TEST(CronNext, FullRangesEqualTheWildcard) {
  EXPECT_EQ(next("cron(0-59 0-23 1-31 JAN-DEC ? 1970-2199)", at(2025, 3, 1, 10, 7)),
            "2025-03-01 10:08");
  EXPECT_EQ(next("cron(0 12 ? 1-12 SUN-SAT *)", at(2025, 3, 1, 12)), "2025-03-02 12:00");
}

TEST(CronNext, LAloneInDayOfWeekIsSaturday) {
  // 2025-01-01 is a Wednesday.
  EXPECT_EQ(next("cron(0 0 ? * L *)", at(2025, 1, 1)), "2025-01-04 00:00");
}

TEST(CronNext, YearsBoundTheSchedule) {
  EXPECT_EQ(next("cron(0 0 1 1 ? 2030-2032)", at(2025, 6, 1)), "2030-01-01 00:00");
  EXPECT_EQ(next("cron(0 0 1 1 ? 2030-2032)", at(2032, 1, 1)), "never");
  EXPECT_EQ(next("cron(0 0 1 1 ? 2030/5)", at(2030, 1, 1)), "2035-01-01 00:00");
  EXPECT_EQ(next("cron(0 0 1 1 ? 2001,2010,2024)", at(2025, 1, 1)), "never");
  EXPECT_EQ(next("cron(59 23 31 12 ? 2199)", at(2199, 12, 31, 23, 58)), "2199-12-31 23:59");
  EXPECT_EQ(next("cron(* * * * ? *)", at(2199, 12, 31, 23, 59)), "never");
  EXPECT_EQ(next("cron(* * * * ? *)", at(2300, 1, 1)), "never");
  EXPECT_EQ(next("cron(0 0 1 1 ? *)", at(1900, 5, 5)), "1970-01-01 00:00");
}

TEST(CronNext, DaysOfWeekWithMonthsAndYears) {
  // Weekday mornings of January and July 2027 only (2027-01-01 is a Friday).
  const char* const cron = "cron(30 8 ? JAN,JUL MON-FRI 2027)";
  EXPECT_EQ(next(cron, at(2026, 5, 5)), "2027-01-01 08:30");
  EXPECT_EQ(next(cron, at(2027, 1, 1, 8, 30)), "2027-01-04 08:30");
  EXPECT_EQ(next(cron, at(2027, 1, 29, 9)), "2027-07-01 08:30");
  EXPECT_EQ(next(cron, at(2027, 7, 30, 9)), "never");
}

TEST(CronNext, DaysOfMonthWithMonthSteps) {
  const char* const cron = "cron(0 6 1,15 */3 ? *)";  // January, April, July, October
  EXPECT_EQ(next(cron, at(2025, 1, 15, 6)), "2025-04-01 06:00");
  EXPECT_EQ(next(cron, at(2025, 10, 15, 7)), "2026-01-01 06:00");
}

TEST(CronNext, ExpressionsThatNeverFireAgainEndQuickly) {
  // No February 30th and no 31st in 30-day months: the search walks to 2199 month by month
  // and gives up.
  const auto start = steady_clock::now();
  EXPECT_EQ(next("cron(0 0 30 2 ? *)", at(2025, 1, 1)), "never");
  EXPECT_EQ(next("cron(0 0 31W 4,6,9,11 ? *)", at(2025, 1, 1)), "never");
  EXPECT_EQ(next("cron(0 0 ? 2 2#5 1970-2199)", at(2196, 3, 1)), "never");
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

}  // namespace
}  // namespace ember::schedule
