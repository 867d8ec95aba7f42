#include "schedule_runner.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {
namespace {

namespace chrono = std::chrono;

// "2015-10-08T16:53:06Z", as EventBridge writes `time`.
std::string utc_text(schedule::Time at) {
  const chrono::year_month_day day{chrono::floor<chrono::days>(at)};
  const chrono::hh_mm_ss time{at - chrono::floor<chrono::days>(at)};
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ",
                static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                static_cast<unsigned>(day.day()), static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()));
  return text;
}

}  // namespace

ScheduleRunner::ScheduleRunner(EngineContext& context, const config::Config& config,
                               AsyncDispatcher& async)
    : context_(context),
      config_(config),
      async_(async),
      utc_base_(chrono::floor<chrono::seconds>(chrono::system_clock::now())),
      clock_base_(context.clock.now()) {
  const auto now = utc_now();
  for (const auto& function : config_.functions) {
    for (const auto& rule : function.schedules) {
      if (!rule.enabled) continue;
      auto parsed = schedule::parse(rule.expression);
      // The configuration was checked when it was loaded; a rule that does not parse here
      // would be a bug, and it is skipped with a message rather than taking the node down.
      if (auto* error = std::get_if<schedule::ParseError>(&parsed)) {
        if (context_.echo) {
          context_.echo(function.name,
                        "ember: schedule " + rule.name + " is skipped: " + error->message);
        }
        continue;
      }
      auto expression = std::get<schedule::Expression>(std::move(parsed));
      const auto next = expression.next_after(now, utc_base_);
      rules_.push_back(Rule{&function, &rule, std::move(expression), next, 0});
    }
  }
}

schedule::Time ScheduleRunner::utc_now() const {
  return utc_base_ + chrono::duration_cast<chrono::seconds>(context_.clock.now() - clock_base_);
}

std::string ScheduleRunner::scheduled_event(const Rule& rule, schedule::Time at) const {
  const auto& node = config_.node;
  boost::json::object event{
      {"version", "0"},
      {"id", runtime_api::new_request_id()},
      {"detail-type", "Scheduled Event"},
      {"source", "aws.events"},
      {"account", node.account_id},
      {"time", utc_text(at)},
      {"region", node.region},
      {"resources", boost::json::array{"arn:aws:events:" + node.region + ":" + node.account_id +
                                       ":rule/" + rule.config->name}},
      {"detail", boost::json::object{}},
  };
  return boost::json::serialize(event);
}

void ScheduleRunner::tick() {
  const auto now = utc_now();
  for (auto& rule : rules_) {
    if (!rule.next || *rule.next > now) continue;
    const auto at = *rule.next;
    std::string payload =
        rule.config->input.empty() ? scheduled_event(rule, at) : rule.config->input;
    ++rule.fired;
    async_.submit(rule.function->name, std::move(payload), "schedule",
                  [echo = context_.echo, function = rule.function->name,
                   name = rule.config->name](const std::string& error) {
                    if (!echo) return;
                    std::string line = "ember: schedule ";
                    line.append(name).append(" could not queue its event: ").append(error);
                    echo(function, line);
                  });
    // From `now`, not from `at`: ticks the node slept through are not replayed.
    rule.next = rule.expression.next_after(now, utc_base_);
  }
}

boost::json::array ScheduleRunner::describe(std::string_view function) const {
  boost::json::array out;
  for (const auto& rule : rules_) {
    if (rule.function->name != function) continue;
    boost::json::object o{{"name", rule.config->name},
                          {"expression", rule.config->expression},
                          {"fired", rule.fired}};
    if (rule.next) {
      o["next"] = utc_text(*rule.next);
    } else {
      o["next"] = nullptr;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace ember::engine
