// The exposition format's escaping and layout; `promtool check metrics` reads a real node's
// whole output in tests/e2e/metrics_test.cpp.
#include "ember/metrics/text_format.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace ember::metrics {
namespace {

TEST(TextFormat, EscapesBackslashAndNewlineInHelp) {
  EXPECT_EQ(escape_help(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escape_help("line one\nline two"), R"(line one\nline two)");
  // A double quote needs no escape in HELP.
  EXPECT_EQ(escape_help(R"(say "hi")"), R"(say "hi")");
}

TEST(TextFormat, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(escape_label_value(R"(C:\dir)"), R"(C:\\dir)");
  EXPECT_EQ(escape_label_value(R"(a "b")"), R"(a \"b\")");
  EXPECT_EQ(escape_label_value("x\ny"), R"(x\ny)");
  EXPECT_EQ(escape_label_value("plain-name_1"), "plain-name_1");
}

TEST(TextFormat, WritesFamilyHeaderAndLabelledSamples) {
  TextWriter out;
  out.family("ember_function_invocations_total", Type::kCounter,
             "Invocations\\by outcome\nsince start");
  out.sample("ember_function_invocations_total", {{"function", "he\"llo"}, {"outcome", "success"}},
             std::uint64_t{3});
  out.family("ember_node_workers", Type::kGauge, "Live workers");
  out.sample("ember_node_workers", {}, std::uint64_t{2});
  EXPECT_EQ(out.text(),
            "# HELP ember_function_invocations_total Invocations\\\\by outcome\\nsince start\n"
            "# TYPE ember_function_invocations_total counter\n"
            "ember_function_invocations_total{function=\"he\\\"llo\",outcome=\"success\"} 3\n"
            "# HELP ember_node_workers Live workers\n"
            "# TYPE ember_node_workers gauge\n"
            "ember_node_workers 2\n");
}

TEST(TextFormat, FormatsSpecialAndShortestValues) {
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(3.0), "3");
  EXPECT_EQ(format_value(0.0000166667), "1.66667e-05");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TextFormat, ChecksNames) {
  EXPECT_TRUE(is_metric_name("ember_x:rate5m"));
  EXPECT_FALSE(is_metric_name("9lives"));
  EXPECT_FALSE(is_metric_name("with-dash"));
  EXPECT_FALSE(is_metric_name(""));
  EXPECT_TRUE(is_label_name("function"));
  EXPECT_FALSE(is_label_name("a:b"));
}

TEST(TextFormat, WritesHistogramsCumulativelyWithInfSumAndCount) {
  static constexpr std::array<double, 3> kBounds = {0.25, 0.5, 1};
  Histogram h(kBounds);
  h.observe(0.125);
  h.observe(0.25);  // on a bound: in that bucket ("le")
  h.observe(0.75);
  h.observe(7);
  TextWriter out;
  out.histogram("d_seconds", {{"function", "f"}}, h);
  EXPECT_EQ(out.text(),
            "d_seconds_bucket{function=\"f\",le=\"0.25\"} 2\n"
            "d_seconds_bucket{function=\"f\",le=\"0.5\"} 2\n"
            "d_seconds_bucket{function=\"f\",le=\"1\"} 3\n"
            "d_seconds_bucket{function=\"f\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{function=\"f\"} 8.125\n"
            "d_seconds_count{function=\"f\"} 4\n");
}

TEST(Histogram, MergesAnotherShardsCopy) {
  Histogram a(kDurationBuckets);
  Histogram b(kDurationBuckets);
  a.observe(0.0002);
  b.observe(0.0002);
  b.observe(1000);
  a.merge(b);
  EXPECT_EQ(a.count(), 3U);
  EXPECT_EQ(a.cumulative(1), 2U);  // le=0.00025
  EXPECT_EQ(a.cumulative(kDurationBuckets.size() - 1), 2U);
  EXPECT_EQ(a.cumulative(kDurationBuckets.size()), 3U);  // +Inf
}

}  // namespace
}  // namespace ember::metrics
