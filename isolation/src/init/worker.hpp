// The worker: the child of pid 1 that drops every privilege and execs the runtime.
#pragma once

#include "step.hpp"

namespace ember::isolation::init {

// Runs in the forked child, while the sandbox is prepared: arms itself (arm.hpp), writes
// "A <ns>" (armed) to report_fd, then reads the Launch from kLaunchFd to EOF (the engine writes
// it and closes the pipe), changes to its working directory, writes "T" and execs. Failures
// write "E <errno>\n<step>\n<call>" to report_fd; a successful execve closes it (O_CLOEXEC).
// An empty Launch (the sandbox was never used) ends it quietly. Never returns.
[[noreturn]] void run_worker(const InitConfig& config, int report_fd);

}  // namespace ember::isolation::init
