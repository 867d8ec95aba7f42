// What a worker's REPORT, INIT_REPORT and X-Ember-Timings phases are made of: when its start
// was asked for and its sandbox made, when its init ended, when each invocation was assigned,
// handed out and answered, and its peak memory. On the steady clock: these figures measure,
// they schedule nothing (deadlines run on the node's injected clock).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/engine/report.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

// Where a worker's sandbox came from, for `ember ps` and the "sandbox_prepared" phase.
enum class SandboxSource {
  kMadeAtStart,    // made for this start (by the worker, or for it on a preparer's thread)
  kPreparedAhead,  // made ahead of time by the pool's preparer, before anything waited for it
};

// Whether an invocation waited for its worker's start: the worker's first turn, right after
// its init. Only such an invocation of an on-demand worker shows Init Duration (as in Lambda).
enum class Turn { kWarm, kFirst };

class WorkerFigures {
 public:
  using Steady = std::chrono::steady_clock;

  // --- the start
  void start_requested(Steady::time_point at) { start_requested_at_ = at; }
  void sandbox_prepared_ahead(Steady::time_point ready_at) {
    sandbox_source_ = SandboxSource::kPreparedAhead;
    sandbox_prepared_at_ = ready_at;
  }
  void sandbox_made_at_start() { sandbox_source_ = SandboxSource::kMadeAtStart; }
  void init_done(Steady::time_point at) { init_done_at_ = at; }
  [[nodiscard]] SandboxSource sandbox_source() const { return sandbox_source_; }
  // From the start being asked for until `until` (the init's end, or its failure).
  [[nodiscard]] std::chrono::nanoseconds init_duration(Steady::time_point until) const {
    return until - start_requested_at_;
  }

  // --- each invocation
  // shows_init: the worker is on-demand (provisioned and pre-warmed inits are nobody's).
  void assigned(Steady::time_point at, Turn turn, bool shows_init) {
    assigned_at_ = at;
    shows_init_ = turn == Turn::kFirst && shows_init;
  }
  void handed_out(Steady::time_point at) { handed_out_at_ = at; }
  void answered(Steady::time_point at) { answered_at_ = at; }
  // Since the last answer until `now`: with extensions, Lambda's PostRuntimeExtensionsDuration
  // once they all finished the invocation.
  [[nodiscard]] std::chrono::nanoseconds since_answer(Steady::time_point now) const {
    return now - answered_at_;
  }
  // The invocation waited for the start (the caller saw a cold start) and shows Init Duration.
  [[nodiscard]] bool cold() const { return shows_init_; }
  void sample_memory(std::uint64_t peak_bytes) {
    peak_memory_bytes_ = std::max(peak_memory_bytes_, peak_bytes);
  }
  [[nodiscard]] std::uint64_t peak_memory_bytes() const { return peak_memory_bytes_; }

  // The REPORT of the invocation that ends at `now`; Duration runs from the hand-out, or
  // from the assignment when the event never reached the runtime.
  [[nodiscard]] ReportFields report(std::string request_id, std::uint32_t memory_mb,
                                    bool handed_out, Steady::time_point now) const;
  // X-Ember-Timings: the start's phases (cold invocations only), then the invocation's.
  [[nodiscard]] std::vector<runtime_api::Phase> phases(const isolation::SandboxTimings& sandbox,
                                                       bool handed_out,
                                                       Steady::time_point now) const;

 private:
  Steady::time_point start_requested_at_{};  // Init Duration counts from here
  SandboxSource sandbox_source_ = SandboxSource::kMadeAtStart;
  Steady::time_point sandbox_prepared_at_{};  // kPreparedAhead only
  Steady::time_point init_done_at_{};
  Steady::time_point assigned_at_{};
  Steady::time_point handed_out_at_{};
  Steady::time_point answered_at_{};
  bool shows_init_ = false;
  std::uint64_t peak_memory_bytes_ = 0;
};

}  // namespace ember::engine
