// What ember serve checks of a function beyond its file's rules, at start and at a reload.
#pragma once

#include <optional>
#include <string>

#include "ember/config/config.hpp"

namespace ember::cli {

// "FILE:LINE:COL: functions.NAME.seccomp: problem" when the sandbox could not apply the
// function's seccomp changes (an unknown syscall, a denial that cannot be lifted).
std::optional<std::string> seccomp_problem(const config::FunctionConfig& function);

}  // namespace ember::cli
