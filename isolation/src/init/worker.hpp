// The worker: the child of pid 1 that drops every privilege and execs the runtime.
#pragma once

#include "step.hpp"

namespace ember::isolation::init {

// Runs in the forked child. report_fd (O_CLOEXEC) receives "T <ns>" right before execve and
// "E <errno>\n<step>\n<call>" on failure; a successful execve closes it. Never returns.
[[noreturn]] void run_worker(const InitConfig& config, int report_fd);

// pid 1's own hardening once the worker runs: no capabilities, no_new_privs, the same filter.
std::optional<StepFailed> restrict_init(const InitConfig& config);

}  // namespace ember::isolation::init
