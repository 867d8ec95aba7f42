// A named setup step inside the sandbox, and how it fails: "step: call: errno".
#pragma once

#include <cerrno>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

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

// A step of init's own (its configuration is the whole InitConfig) or of arming a worker
// (arm.hpp: ArmSpec).
template <class Config>
struct BasicStep {
  const char* name;
  StepResult (*run)(const Config&);
};
using Step = BasicStep<InitConfig>;

// Runs steps in order; the first failure stops the list. (Config is taken from `config`, so
// an array of steps converts to the span.)
template <class Config>
std::optional<StepFailed> run_steps(std::span<const BasicStep<std::type_identity_t<Config>>> steps,
                                    const Config& config) {
  for (const auto& step : steps) {
    if (auto failed = step.run(config)) return StepFailed{failed->err, step.name, failed->call};
  }
  return std::nullopt;
}

std::int64_t monotonic_ns();

}  // namespace ember::isolation::init
