// A named setup step inside the sandbox, and how it fails: "step: call: errno".
#pragma once

#include <cerrno>
#include <optional>
#include <span>
#include <string>

#include "../init_protocol.hpp"

namespace ember::isolation::init {

struct CallFailed {
  std::string call;  // the system call and its arguments
  int err = 0;
};
using StepResult = std::optional<CallFailed>;  // nullopt: the step succeeded

// rc < 0 -> the call failed with errno.
inline StepResult check(long rc, std::string call) {
  if (rc >= 0) return std::nullopt;
  return CallFailed{std::move(call), errno};
}

struct Step {
  const char* name;
  StepResult (*run)(const InitConfig&);
};

// Runs steps in order; the first failure stops the list.
inline std::optional<StepFailed> run_steps(std::span<const Step> steps, const InitConfig& config) {
  for (const auto& step : steps) {
    if (auto failed = step.run(config)) return StepFailed{failed->err, step.name, failed->call};
  }
  return std::nullopt;
}

std::int64_t monotonic_ns();

}  // namespace ember::isolation::init
