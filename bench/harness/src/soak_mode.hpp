// `ember bench soak`: a mixed load for --duration (BenchOptions::duration_s; 0: 10 minutes),
// the node's fds, RSS, threads, sandbox cgroups, mounts and log bytes sampled each second and
// compared after the warm-up (soak_mode.cpp, docs/benchmarks.md#soak).
#pragma once

#include "ember/bench/report.hpp"
#include "ember/bench/session.hpp"

namespace ember::bench::detail {

void run_soak_mode(const BenchOptions& o, Report& report);

}  // namespace ember::bench::detail
