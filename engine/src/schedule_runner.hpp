// Functions' `schedules` (docs/event-sources.md): at each tick of a rule's expression the
// function gets EventBridge's "Scheduled Event" (or the rule's `input`) as an asynchronous
// invocation, through the durable queue. Time is the scheduler's clock (sped up by
// `--time-scale`) mapped onto UTC at the node's start. A tick missed while the node was down
// is not replayed, as EventBridge does not replay them; neither is one the node's ticker
// skipped over (a very high --time-scale): the rule fires once and moves on.
#pragma once

#include <boost/json/array.hpp>
#include <string>
#include <vector>

#include "async_dispatcher.hpp"
#include "ember/config/config.hpp"
#include "ember/schedule/schedule.hpp"
#include "engine_context.hpp"

namespace ember::engine {

class ScheduleRunner {
 public:
  ScheduleRunner(EngineContext& context, const config::Config& config, AsyncDispatcher& async);

  // Fires the rules whose time has come; the node's ticker calls it.
  void tick();

  // The function's rules for GET /ember/v1/functions: name, expression, next time (UTC), and
  // how many times each fired since start.
  [[nodiscard]] boost::json::array describe(std::string_view function) const;

 private:
  struct Rule {
    const config::FunctionConfig* function = nullptr;
    const config::ScheduleConfig* config = nullptr;
    schedule::Expression expression;
    std::optional<schedule::Time> next;  // none: it never fires again
    std::uint64_t fired = 0;
  };

  [[nodiscard]] schedule::Time utc_now() const;
  [[nodiscard]] std::string scheduled_event(const Rule& rule, schedule::Time at) const;

  EngineContext& context_;
  const config::Config& config_;
  AsyncDispatcher& async_;
  schedule::Time utc_base_;
  Clock::TimePoint clock_base_;
  std::vector<Rule> rules_;
};

}  // namespace ember::engine
