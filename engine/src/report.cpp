#include "ember/engine/report.hpp"

#include <cstdio>
#include <ctime>

namespace ember::engine {

std::string format_ms(std::chrono::nanoseconds d) {
  // Round to the nearest hundredth of a millisecond using integer arithmetic.
  const std::int64_t hundredths = (d.count() + 5'000) / 10'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(hundredths / 100),
                static_cast<long long>(hundredths % 100));
  return buf;
}

std::int64_t billed_ms(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  const std::int64_t ms = (ns + 999'999) / 1'000'000;
  return ms < 1 ? 1 : ms;
}

std::uint64_t memory_used_mb(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  return (bytes + kMiB - 1) / kMiB;
}

std::string start_line(std::string_view request_id, std::string_view version) {
  std::string line = "START RequestId: ";
  line.append(request_id).append(" Version: ").append(version);
  return line;
}

std::string end_line(std::string_view request_id) {
  std::string line = "END RequestId: ";
  line.append(request_id);
  return line;
}

std::string report_line(const ReportFields& f) {
  std::string line = "REPORT RequestId: ";
  line.append(f.request_id);
  line.append("\tDuration: ").append(format_ms(f.duration)).append(" ms");
  line.append("\tBilled Duration: ").append(std::to_string(billed_ms(f.duration))).append(" ms");
  line.append("\tMemory Size: ").append(std::to_string(f.memory_size_mb)).append(" MB");
  line.append("\tMax Memory Used: ")
      .append(std::to_string(memory_used_mb(f.max_memory_used_bytes)))
      .append(" MB\t");
  if (f.init_duration) {
    line.append("Init Duration: ").append(format_ms(*f.init_duration)).append(" ms\t");
  }
  return line;
}

std::string init_error_report_line(std::chrono::nanoseconds init, std::string_view error_type) {
  std::string line = "INIT_REPORT Init Duration: ";
  line.append(format_ms(init)).append(" ms\tPhase: init\tStatus: error\tError Type: ");
  line.append(error_type);
  return line;
}

std::string timeout_message(std::chrono::seconds timeout) {
  return "Task timed out after " + std::to_string(timeout.count()) + ".00 seconds";
}

std::string iso8601_utc(std::chrono::system_clock::time_point when) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(ms % 1000));
  return stamp;
}

std::string timeout_line(std::chrono::system_clock::time_point when, std::string_view request_id,
                         std::chrono::seconds timeout) {
  std::string line = iso8601_utc(when);
  line.append(" ").append(request_id).append(" ").append(timeout_message(timeout));
  return line;
}

}  // namespace ember::engine
