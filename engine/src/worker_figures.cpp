#include "worker_figures.hpp"

namespace ember::engine {

ReportFields WorkerFigures::report(std::string request_id, std::uint32_t memory_mb, bool handed_out,
                                   Steady::time_point now) const {
  ReportFields report;
  report.request_id = std::move(request_id);
  report.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      now - (handed_out ? handed_out_at_ : assigned_at_));
  report.memory_size_mb = memory_mb;
  report.max_memory_used_bytes = peak_memory_bytes_;
  if (shows_init_) {
    report.init_duration =
        std::chrono::duration_cast<std::chrono::nanoseconds>(init_duration(init_done_at_));
  }
  return report;
}

std::vector<runtime_api::Phase> WorkerFigures::phases(const isolation::SandboxTimings& sandbox,
                                                      bool handed_out,
                                                      Steady::time_point now) const {
  std::vector<runtime_api::Phase> phases;
  if (shows_init_) {
    if (sandbox_source_ == SandboxSource::kPreparedAhead) {
      phases.push_back({"sandbox_prepared", sandbox_prepared_at_});
    }
    phases.push_back({"sandbox_begin", start_requested_at_});
    // Init observes the exec after the fact; when its report has not arrived yet, or says
    // later than the runtime's first `next`, that call bounds the exec.
    const bool seen = sandbox.spawned != Steady::time_point{};
    phases.push_back({"spawned", seen ? std::min(sandbox.spawned, init_done_at_) : init_done_at_});
    phases.push_back({"init_done", init_done_at_});
  }
  phases.push_back({"assigned", assigned_at_});
  if (handed_out) phases.push_back({"handed_out", handed_out_at_});
  phases.push_back({"answered", now});
  return phases;
}

}  // namespace ember::engine
