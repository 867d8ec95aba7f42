#include "function_metrics.hpp"

namespace ember::engine {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kError:
      return "error";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kCrash:
      return "crash";
    case Outcome::kInitError:
      return "init_error";
    case Outcome::kThrottle:
      return "throttle";
    case Outcome::kServiceError:
      return "service_error";
  }
  return "unknown";
}

bool is_function_error(Outcome outcome) {
  return outcome == Outcome::kError || outcome == Outcome::kTimeout || outcome == Outcome::kCrash ||
         outcome == Outcome::kInitError;
}

void FunctionMetrics::merge(const FunctionMetrics& other) {
  for (std::size_t i = 0; i < kOutcomes; ++i) invocations[i] += other.invocations[i];
  duration.merge(other.duration);
  init_duration.merge(other.init_duration);
  billed.add(other.billed);
}

}  // namespace ember::engine
