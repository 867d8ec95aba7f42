// node.log_format json's lines: valid JSON whatever the function printed, its words apart from
// the platform's, and the records of ember's own platform lines.
#include "log_format.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ember::engine {
namespace {

boost::json::object parsed(const std::string& line) {
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  return ec ? boost::json::object{} : value.as_object();
}

const auto kWhen =
    std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));

TEST(JsonLogLine, EscapesEveryControlAndKeepsUtf8) {
  const std::string nasty =
      "a\"b\\c\x1b[2J\r\x7f\xc2\x9b"
      "31m \xc3\xa9 \xff end";
  const auto line = json_log_line(kWhen, "f", "id", LineSource::kFunction, nasty);
  for (const char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20U) << line;
  EXPECT_EQ(line.find("\x7f"), std::string::npos);
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos);
  const auto o = parsed(line);
  EXPECT_EQ(o.at("timestamp").as_string(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(o.at("message").as_string(),
            "a\"b\\c\x1b[2J\r\x7f\xc2\x9b"
            "31m \xc3\xa9 \xef\xbf\xbd end");
  EXPECT_EQ(o.at("source").as_string(), "function");
  EXPECT_EQ(o.at("requestId").as_string(), "id");
  EXPECT_FALSE(o.contains("type"));
}

TEST(JsonLogLine, AFunctionsPlatformLookAlikeStaysItsMessage) {
  const auto o = parsed(json_log_line(kWhen, "f", "id", LineSource::kFunction,
                                      "REPORT RequestId: forged\tDuration: 1.00 ms"));
  EXPECT_EQ(o.at("source").as_string(), "function");
  EXPECT_FALSE(o.contains("type"));
  EXPECT_FALSE(o.contains("record"));
}

TEST(JsonLogLine, PlatformLinesCarryLambdasRecords) {
  auto o = parsed(json_log_line(kWhen, "f", "r1", LineSource::kPlatform,
                                "START RequestId: r1 Version: $LATEST"));
  EXPECT_EQ(o.at("type").as_string(), "platform.start");
  EXPECT_EQ(o.at("record").at("requestId").as_string(), "r1");
  EXPECT_EQ(o.at("record").at("version").as_string(), "$LATEST");
  o = parsed(json_log_line(kWhen, "f", "r1", LineSource::kPlatform, "END RequestId: r1"));
  EXPECT_EQ(o.at("type").as_string(), "platform.runtimeDone");
  o = parsed(
      json_log_line(kWhen, "f", "r1", LineSource::kPlatform,
                    "REPORT RequestId: r1\tDuration: 2.42 ms\tBilled Duration: 3 ms\t"
                    "Memory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 114.49 ms\t"));
  EXPECT_EQ(o.at("type").as_string(), "platform.report");
  const auto& metrics = o.at("record").at("metrics").as_object();
  EXPECT_DOUBLE_EQ(metrics.at("durationMs").to_number<double>(), 2.42);
  EXPECT_EQ(metrics.at("billedDurationMs").to_number<int>(), 3);
  EXPECT_EQ(metrics.at("memorySizeMB").to_number<int>(), 128);
  EXPECT_EQ(metrics.at("maxMemoryUsedMB").to_number<int>(), 36);
  EXPECT_DOUBLE_EQ(metrics.at("initDurationMs").to_number<double>(), 114.49);
  o = parsed(json_log_line(kWhen, "f", "r1", LineSource::kPlatform,
                           "LOGS_DROPPED RequestId: r1\tReason: log_bytes_per_invocation (1024 "
                           "bytes) reached\tDroppedRecords: 7\tDroppedBytes: 700"));
  EXPECT_EQ(o.at("type").as_string(), "platform.logsDropped");
  EXPECT_EQ(o.at("record").at("droppedRecords").to_number<int>(), 7);
  EXPECT_EQ(o.at("record").at("droppedBytes").to_number<int>(), 700);
  EXPECT_EQ(o.at("record").at("requestId").as_string(), "r1");
  o = parsed(json_log_line(kWhen, "f", "", LineSource::kPlatform,
                           "INIT_REPORT Init Duration: 12.50 ms\tPhase: init\tStatus: error\t"
                           "Error Type: Runtime.ExitError"));
  EXPECT_EQ(o.at("type").as_string(), "platform.initReport");
  EXPECT_EQ(o.at("record").at("errorType").as_string(), "Runtime.ExitError");
  EXPECT_FALSE(o.contains("requestId"));
  o = parsed(json_log_line(kWhen, "f", "", LineSource::kPlatform, "ember: something"));
  EXPECT_FALSE(o.contains("type"));
  EXPECT_EQ(o.at("source").as_string(), "platform");
}

TEST(LineLevel, ReadsTextAndJsonRecords) {
  EXPECT_EQ(line_level("[ERROR]\t2026-01-01T00:00:00Z\tid\tboom"), "ERROR");
  EXPECT_EQ(line_level(R"({"level":"WARN","message":"m"})"), "WARN");
  EXPECT_EQ(line_level("[victim] REPORT"), "");
  EXPECT_EQ(line_level("plain"), "");
  EXPECT_EQ(line_level("{not json"), "");
}

}  // namespace
}  // namespace ember::engine
