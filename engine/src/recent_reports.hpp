// The node's last REPORTs, for the status page (GET /) and GET /ember/v1/functions' "recent":
// a fixed ring owned by the engine thread, written where an invocation ends. No lock, no atomic,
// and, once every slot has been used, no allocation: a slot's strings keep their capacity.
#pragma once

#include <array>
#include <boost/json/array.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ember/engine/report.hpp"
#include "function_metrics.hpp"

namespace ember::engine {

class RecentReports {
 public:
  static constexpr std::size_t kCapacity = 50;

  // One invocation that ran on a worker: its REPORT's figures, how it ended, and the error type
  // when it failed (a timeout's, a crash's, or whatever type the runtime gave).
  void record(std::string_view function, const ReportFields& report, Outcome outcome,
              std::string_view error_type, std::chrono::system_clock::time_point ended);

  // Newest first: {function, request_id, ended, duration_ms, billed_duration_ms,
  // memory_size_mb, max_memory_used_mb, init_duration_ms (null when warm), cold, outcome,
  // error_type (when it failed), sequence}.
  [[nodiscard]] boost::json::array to_json() const;
  // Reports recorded since the node started (more than the ring holds, once it wrapped).
  [[nodiscard]] std::uint64_t recorded() const { return recorded_; }

 private:
  struct Slot {
    std::string function;
    std::string request_id;
    std::string error_type;
    std::chrono::system_clock::time_point ended{};
    std::chrono::nanoseconds duration{};
    std::optional<std::chrono::nanoseconds> init_duration;
    std::uint32_t memory_size_mb = 0;
    std::uint64_t max_memory_used_bytes = 0;
    Outcome outcome = Outcome::kSuccess;
    std::uint64_t sequence = 0;  // 1 for the node's first report
  };

  std::array<Slot, kCapacity> slots_{};
  std::uint64_t recorded_ = 0;  // the next slot is recorded_ % kCapacity
};

}  // namespace ember::engine
