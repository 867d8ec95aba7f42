#include "function_checks.hpp"

#include "ember/isolation/sandbox.hpp"

namespace ember::cli {

std::optional<std::string> seccomp_problem(const config::FunctionConfig& function) {
  const isolation::SeccompPolicy policy{function.seccomp_deny, function.seccomp_allow};
  if (auto ok = isolation::validate_seccomp_policy(policy); !ok) {
    return function.source + ": functions." + function.name + ".seccomp: " + ok.error().message();
  }
  return std::nullopt;
}

}  // namespace ember::cli
