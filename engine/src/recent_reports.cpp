#include "recent_reports.hpp"

#include <boost/json/object.hpp>

namespace ember::engine {

namespace {

double milliseconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

void RecentReports::record(std::string_view function, const ReportFields& report, Outcome outcome,
                           std::string_view error_type,
                           std::chrono::system_clock::time_point ended) {
  Slot& slot = slots_[recorded_ % kCapacity];
  ++recorded_;
  // assign() into strings that already held a name and an id of the same length: no allocation
  // once the ring has gone round.
  slot.function.assign(function);
  slot.request_id.assign(report.request_id);
  slot.error_type.assign(error_type);
  slot.ended = ended;
  slot.duration = report.duration;
  slot.init_duration = report.init_duration;
  slot.memory_size_mb = report.memory_size_mb;
  slot.max_memory_used_bytes = report.max_memory_used_bytes;
  slot.outcome = outcome;
  slot.sequence = recorded_;
}

boost::json::array RecentReports::to_json() const {
  boost::json::array out;
  const std::size_t held = recorded_ < kCapacity ? static_cast<std::size_t>(recorded_) : kCapacity;
  out.reserve(held);
  for (std::size_t i = 0; i < held; ++i) {
    const Slot& slot = slots_[(recorded_ - 1 - i) % kCapacity];
    boost::json::object o;
    o["sequence"] = slot.sequence;
    o["function"] = slot.function;
    o["request_id"] = slot.request_id;
    o["ended"] = iso8601_utc(slot.ended);
    o["duration_ms"] = milliseconds(slot.duration);
    o["billed_duration_ms"] = billed_ms(slot.duration);
    o["memory_size_mb"] = slot.memory_size_mb;
    o["max_memory_used_mb"] = memory_used_mb(slot.max_memory_used_bytes);
    if (slot.init_duration) {
      o["init_duration_ms"] = milliseconds(*slot.init_duration);
    } else {
      o["init_duration_ms"] = nullptr;
    }
    o["cold"] = slot.init_duration.has_value();
    o["outcome"] = outcome_name(slot.outcome);
    if (!slot.error_type.empty()) o["error_type"] = slot.error_type;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace ember::engine
