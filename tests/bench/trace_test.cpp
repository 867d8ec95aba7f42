// The trace parsers on the shipped samples (tests/bench/data, cut from the Azure traces) and
// on tiny inline files whose timestamps are known by hand.
#include "ember/bench/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace ember::bench {
namespace {

const std::string kData = EMBER_BENCH_TEST_DATA;

std::vector<std::size_t> per_function(const Trace& t) {
  std::vector<std::size_t> counts(t.functions.size());
  for (const auto& e : t.events) ++counts.at(e.function);
  return counts;
}

bool ascending(const Trace& t) {
  return std::is_sorted(t.events.begin(), t.events.end(),
                        [](const TraceEvent& a, const TraceEvent& b) { return a.at_s < b.at_s; });
}

TEST(Azure2019, ReadsTheSampleWithItsPerFunctionCounts) {
  const auto t = load_trace(kData + "/azure2019_sample.csv", TraceFormat::kAzure2019);
  ASSERT_EQ(t.functions.size(), 4U);
  EXPECT_EQ(t.functions[0].substr(0, 8), "1779fd33");
  EXPECT_EQ(t.events.size(), 271U);
  EXPECT_EQ(per_function(t), (std::vector<std::size_t>{168, 0, 102, 1}));
  EXPECT_DOUBLE_EQ(t.span_s, 3600);
  EXPECT_TRUE(ascending(t));
  // Function 0 has 14 calls in minute 1: the first at (0 + 0.5) * 60 / 14 s.
  EXPECT_NEAR(t.events.front().at_s, 30.0 / 14, 1e-9);
  // Function 3's single call is in minute 17: the middle of it.
  const auto last_of_3 = std::find_if(t.events.rbegin(), t.events.rend(),
                                      [](const TraceEvent& e) { return e.function == 3; });
  EXPECT_DOUBLE_EQ(last_of_3->at_s, 16 * 60 + 30);
}

TEST(Azure2019, SpreadsEachMinuteEvenlyAndAcceptsNumericMinuteColumns) {
  std::istringstream in("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,0,2\n");
  const auto t = parse_trace(in, TraceFormat::kAzure2019);
  ASSERT_EQ(t.events.size(), 2U);
  EXPECT_DOUBLE_EQ(t.events[0].at_s, 75);
  EXPECT_DOUBLE_EQ(t.events[1].at_s, 105);
  EXPECT_DOUBLE_EQ(t.span_s, 120);
}

TEST(Azure2019, LimitsCutTheTraceByTimeAndFunctions) {
  const auto path = kData + "/azure2019_sample.csv";
  EXPECT_EQ(load_trace(path, TraceFormat::kAzure2019, {.max_span_s = 600}).events.size(), 48U);
  const auto two = load_trace(path, TraceFormat::kAzure2019, {.max_functions = 2});
  EXPECT_EQ(two.functions.size(), 2U);
  EXPECT_EQ(two.events.size(), 168U);
}

TEST(Azure2019, NamesTheLineOfABadCount) {
  std::istringstream in("HashFunction,minute_1\nf,1\ng,x\n");
  try {
    parse_trace(in, TraceFormat::kAzure2019);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(Azure2021, ReadsTheSampleWithStartTimesSorted) {
  const auto t = load_trace(kData + "/azure2021_sample.csv", TraceFormat::kAzure2021);
  EXPECT_EQ(t.events.size(), 40U);
  EXPECT_EQ(t.functions.size(), 25U);
  EXPECT_TRUE(ascending(t));
  EXPECT_NEAR(t.events.front().at_s, 0.0014909, 1e-6);  // 0.0794909 - 0.078
  EXPECT_NEAR(t.events.back().at_s, 15.353194, 1e-5);
}

TEST(Azure2021, StartIsEndMinusDuration) {
  std::istringstream in("app,func,end_timestamp,duration\na,f,10.5,0.5\na,g,3,2\nb,f,4,1\n");
  const auto t = parse_trace(in, TraceFormat::kAzure2021);
  ASSERT_EQ(t.events.size(), 3U);
  EXPECT_EQ(t.functions.size(), 3U);  // the same hash under two apps is two functions
  EXPECT_DOUBLE_EQ(t.events[0].at_s, 1);
  EXPECT_DOUBLE_EQ(t.events[1].at_s, 3);
  EXPECT_DOUBLE_EQ(t.events[2].at_s, 10);
  EXPECT_EQ(t.functions[t.events[2].function], "a/f");
}

TEST(TraceFormat, ParsesItsNamesAndRefusesOthers) {
  EXPECT_EQ(parse_trace_format("azure2019"), TraceFormat::kAzure2019);
  EXPECT_EQ(parse_trace_format("azure2021"), TraceFormat::kAzure2021);
  EXPECT_FALSE(parse_trace_format("csv"));
}

}  // namespace
}  // namespace ember::bench
