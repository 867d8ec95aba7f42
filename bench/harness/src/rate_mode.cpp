// `ember bench rate`: sandboxes created per second to the first `next`. A function with
// max_reuse: 1 gets every invocation on a fresh sandbox; C clients make N invocations in
// all, and the rate is the cold starts over the wall time. Baseline: the same bootstrap
// started with posix_spawn to its first `next`, N times from C threads.
#include <algorithm>
#include <limits>

#include "ember/bench/progress.hpp"
#include "modes.hpp"

namespace ember::bench::detail {

void run_rate_mode(const BenchOptions& o, Report& report) {
  auto f = function_for(o, "rate");
  f.max_reuse = 1;
  f.reserved_concurrency =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(o.concurrency, 1, 1000));
  std::unique_ptr<client::LocalNode> node;
  const auto [endpoint, name] = given_or_own_node(o, f, node);
  ConcurrentRuns result;
  {
    Progress progress("rate", o.n);
    result = run_concurrent(o.client, endpoint, name, event_payload(o.payload_bytes), o.concurrency,
                            o.n, &progress);
  }
  node.reset();  // stops the node before the baseline runs, so it has the machine

  add_measured(report, "rate", result.runs, true);
  // Creation proper, without the wait for the engine's thread before it starts: from
  // sandbox_begin to the first `next`; and every creation on one time line (client clock).
  Series creation{"rate", "sandbox_begin->first next", SeriesKind::kFigure, {}};
  std::size_t cold = 0;
  std::size_t errors = 0;
  double first_begin = std::numeric_limits<double>::max();
  double last_ready = 0;
  for (std::size_t i = 0; i < result.runs.size(); ++i) {
    const auto& m = result.runs[i];
    if (!m.ok) ++errors;
    if (!m.ok || !m.engine.cold) continue;
    ++cold;
    const auto begin = m.engine.at("sandbox_begin");
    const auto ready = m.engine.at("init_done");
    if (!begin || !ready) continue;
    creation.values.push_back(*ready - *begin);
    first_begin = std::min(first_begin, result.received_s[i] + *begin / 1e6);
    last_ready = std::max(last_ready, result.received_s[i] + *ready / 1e6);
  }
  report.series.push_back(std::move(creation));
  // Within the run: an invocation can be served by a worker another one started earlier
  // (sandbox_begin before its own request), and the stamps sit on the client's clock only to
  // within the requests' way in.
  first_begin = std::max(first_begin, 0.0);
  last_ready = std::min(last_ready, result.wall_s);
  const double window_s = last_ready > first_begin ? last_ready - first_begin : 0;
  const double per_s = result.wall_s > 0 ? static_cast<double>(cold) / result.wall_s : 0;
  report.figures.emplace_back("sandboxes_per_s", per_s);
  report.figures.emplace_back("sandboxes_per_s_creation_window",
                              window_s > 0 ? static_cast<double>(cold) / window_s : 0);
  report.figures.emplace_back("sandboxes", static_cast<double>(cold));
  report.figures.emplace_back("invocations", static_cast<double>(result.runs.size()));
  report.figures.emplace_back("clients", static_cast<double>(o.concurrency));
  report.figures.emplace_back("wall_s", result.wall_s);
  report.figures.emplace_back("creation_window_s", window_s);
  report.figures.emplace_back("errors", static_cast<double>(errors));

  if (!o.baselines) return;
  SpawnRate spawned;
  {
    Progress progress("baseline posix_spawn", o.n);
    spawned = spawn_rate(bootstrap_command(o), o.n, o.concurrency, &progress);
  }
  const double spawn_per_s =
      spawned.wall_s > 0 ? static_cast<double>(spawned.us.size()) / spawned.wall_s : 0;
  report.series.push_back(
      {"baseline", "posix_spawn->first next", SeriesKind::kBaseline, std::move(spawned.us)});
  report.figures.emplace_back("baseline_spawns_per_s", spawn_per_s);
  report.figures.emplace_back("sandboxes_per_s_over_spawns_per_s",
                              spawn_per_s > 0 ? per_s / spawn_per_s : 0);
  report.add_ratio("rate: received->first next", kSpawnBaseline);
  report.add_ratio("rate: sandbox_begin->first next", kSpawnBaseline);
}

}  // namespace ember::bench::detail
