#include <utility>

#include "ember/schedule/schedule.hpp"
#include "parsers.hpp"

namespace ember::schedule {

Expression::Expression(std::string text, detail::Spec spec) : text_(std::move(text)), spec_(spec) {}

const std::string& Expression::text() const { return text_; }

std::optional<std::chrono::seconds> Expression::period() const {
  if (const auto* rate = std::get_if<detail::RatePeriod>(&spec_)) return rate->period;
  return std::nullopt;
}

std::optional<Time> Expression::next_after(Time after, Time anchor) const {
  if (const auto* cron = std::get_if<detail::CronFields>(&spec_)) {
    return next_cron_fire(*cron, after);
  }
  // The rate fires at the anchor itself (EventBridge starts a rate schedule as it is created)
  // and every period after it.
  const auto period = std::get<detail::RatePeriod>(spec_).period;
  if (after < anchor) return anchor;
  const auto periods_done = (after - anchor) / period;
  return anchor + (periods_done + 1) * period;
}

}  // namespace ember::schedule
