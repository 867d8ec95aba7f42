// The platform log lines Lambda writes around every invocation, formatted exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ember::engine {

struct ReportFields {
  std::string request_id;
  std::chrono::nanoseconds duration{};
  std::uint32_t memory_size_mb = 128;
  std::uint64_t max_memory_used_bytes = 0;
  std::optional<std::chrono::nanoseconds> init_duration;  // cold starts only
};

// "2019-11-24T21:52:47.333Z": UTC with milliseconds, as Lambda's timestamps.
std::string iso8601_utc(std::chrono::system_clock::time_point when);

// "START RequestId: ID Version: $LATEST"
std::string start_line(std::string_view request_id, std::string_view version = "$LATEST");
// "END RequestId: ID"
std::string end_line(std::string_view request_id);
// "REPORT RequestId: ID\tDuration: 2.42 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t
//  Max Memory Used: 36 MB\t[Init Duration: 114.49 ms\t]"
std::string report_line(const ReportFields& fields);
// "INIT_REPORT Init Duration: 0.00 ms\tPhase: init\tStatus: error\tError Type: TYPE"
std::string init_error_report_line(std::chrono::nanoseconds init, std::string_view error_type);
// "2026-11-27T21:03:04.123Z ID Task timed out after 3.00 seconds"
std::string timeout_line(std::chrono::system_clock::time_point when, std::string_view request_id,
                         std::chrono::seconds timeout);
// "Task timed out after 3.00 seconds"
std::string timeout_message(std::chrono::seconds timeout);

// Milliseconds with two decimals, as REPORT prints them: 2.42
std::string format_ms(std::chrono::nanoseconds d);
// Billed Duration: the duration rounded up to a whole millisecond.
std::int64_t billed_ms(std::chrono::nanoseconds d);
// Max Memory Used: bytes rounded up to whole MiB.
std::uint64_t memory_used_mb(std::uint64_t bytes);

}  // namespace ember::engine
