#include "ember/engine/report.hpp"

#include <gtest/gtest.h>

namespace ember::engine {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(ReportLine, ColdStartCarriesInitDurationAndTrailingTab) {
  ReportFields f;
  f.request_id = "8f5d3e0c-0000-4000-8000-000000000001";
  f.duration = microseconds(2'421);
  f.memory_size_mb = 128;
  f.max_memory_used_bytes = 36ULL * 1024 * 1024;
  f.init_duration = microseconds(114'490);
  EXPECT_EQ(report_line(f),
            "REPORT RequestId: 8f5d3e0c-0000-4000-8000-000000000001\tDuration: 2.42 ms\t"
            "Billed Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\t"
            "Init Duration: 114.49 ms\t");
}

TEST(ReportLine, WarmStartHasNoInitDuration) {
  ReportFields f;
  f.request_id = "id";
  f.duration = milliseconds(10);
  f.memory_size_mb = 512;
  f.max_memory_used_bytes = 1;
  EXPECT_EQ(report_line(f),
            "REPORT RequestId: id\tDuration: 10.00 ms\tBilled Duration: 10 ms\t"
            "Memory Size: 512 MB\tMax Memory Used: 1 MB\t");
}

TEST(ReportLine, BilledDurationRoundsUpToWholeMilliseconds) {
  EXPECT_EQ(billed_ms(nanoseconds(1)), 1);
  EXPECT_EQ(billed_ms(microseconds(1'000)), 1);
  EXPECT_EQ(billed_ms(microseconds(1'001)), 2);
  EXPECT_EQ(billed_ms(milliseconds(3'000)), 3'000);
  // Lambda bills at least one millisecond.
  EXPECT_EQ(billed_ms(nanoseconds(0)), 1);
}

TEST(ReportLine, DurationsPrintWithTwoDecimals) {
  EXPECT_EQ(format_ms(nanoseconds(0)), "0.00");
  EXPECT_EQ(format_ms(microseconds(5)), "0.01");  // rounds half up
  EXPECT_EQ(format_ms(microseconds(4)), "0.00");
  EXPECT_EQ(format_ms(microseconds(1'234'567)), "1234.57");
}

TEST(ReportLine, MemoryRoundsUpToWholeMebibytes) {
  EXPECT_EQ(memory_used_mb(0), 0U);
  EXPECT_EQ(memory_used_mb(1), 1U);
  EXPECT_EQ(memory_used_mb(1024 * 1024), 1U);
  EXPECT_EQ(memory_used_mb(1024 * 1024 + 1), 2U);
}

TEST(PlatformLines, StartEndAndTimeoutMatchLambda) {
  EXPECT_EQ(start_line("abc"), "START RequestId: abc Version: $LATEST");
  EXPECT_EQ(end_line("abc"), "END RequestId: abc");
  const auto when = std::chrono::system_clock::time_point(milliseconds(1'700'000'000'123));
  EXPECT_EQ(timeout_line(when, "abc", std::chrono::seconds(3)),
            "2023-11-14T22:13:20.123Z abc Task timed out after 3.00 seconds");
}

}  // namespace
}  // namespace ember::engine
