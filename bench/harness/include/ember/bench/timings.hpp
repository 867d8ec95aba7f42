// The engine's X-Ember-Timings answer header, read generically: phase names in the order the
// engine sent them, so a backend that adds phases (cgroup_created, ...) needs no change here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::bench {

struct PhaseStamp {
  std::string name;
  double us = 0;  // microseconds since the engine received the request; negative = before
};

struct EngineTimings {
  bool cold = false;
  std::vector<PhaseStamp> phases;  // in the header's order

  // The stamp of a phase, if the engine sent it.
  [[nodiscard]] std::optional<double> at(std::string_view name) const;
};

// "cold=1;sandbox_begin=12;spawned=850;..." -> EngineTimings; nullopt when malformed.
std::optional<EngineTimings> parse_timings(std::string_view header);

// One step between two consecutive stamps, named "from->to".
struct PhaseSpan {
  std::string name;
  double us = 0;
};

// The steps of one invocation as the client saw it: "request->FIRST" (from the engine
// receiving the request to its first stamp at or after it), each consecutive pair, and
// "LAST->client" (the last stamp to the client having the whole answer). Stamps before the
// request (a warm worker's start) are left out. The spans add up to client_total_us minus
// the time the request took to reach the engine, which the client cannot see.
std::vector<PhaseSpan> spans(const EngineTimings& timings, double client_total_us);

}  // namespace ember::bench
