// A telemetry subscriber's buffer: batches cut by maxItems and maxBytes, a bounded queue whose
// overflow is counted and reported as platform.logsDropped at the head of the next batch.
#include "telemetry_batcher.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace ember::engine {
namespace {

namespace json = boost::json;

constexpr std::string_view kTime = "2026-12-03T08:00:00.123Z";

runtime_api::TelemetryBuffering limits(std::uint32_t items, std::uint32_t bytes) {
  runtime_api::TelemetryBuffering b;
  b.max_items = items;
  b.max_bytes = bytes;
  return b;
}

// A function log line event whose record is `text`.
std::string line(const std::string& text) {
  return telemetry_event(kTime, "function", "\"" + text + "\"");
}

TEST(TelemetryEvent, IsTimeTypeAndRecord) {
  const auto event = json::parse(telemetry_event(kTime, "platform.start", R"({"requestId":"r"})"));
  EXPECT_EQ(event.at("time").as_string(), kTime);
  EXPECT_EQ(event.at("type"), "platform.start");
  EXPECT_EQ(event.at("record").at("requestId"), "r");
}

TEST(TelemetryBatcher, ABatchIsDueAtMaxItemsAndHoldsAtMostThat) {
  TelemetryBatcher batcher(limits(3, 1 << 20), 100, 1 << 20);
  EXPECT_TRUE(batcher.empty());
  batcher.add(line("a"));
  batcher.add(line("b"));
  EXPECT_FALSE(batcher.batch_due());
  batcher.add(line("c"));
  batcher.add(line("d"));
  EXPECT_TRUE(batcher.batch_due());
  const auto batch = batcher.take(kTime);
  EXPECT_EQ(batch.records, 3U);
  const auto array = json::parse(batch.body).as_array();
  ASSERT_EQ(array.size(), 3U);
  EXPECT_EQ(array[0].at("record"), "a");  // oldest first
  EXPECT_EQ(array[2].at("record"), "c");
  EXPECT_EQ(batcher.queued(), 1U);
  EXPECT_FALSE(batcher.batch_due());
  EXPECT_EQ(json::parse(batcher.take(kTime).body).as_array().at(0).at("record"), "d");
  EXPECT_TRUE(batcher.empty());
  EXPECT_TRUE(batcher.take(kTime).body.empty());
}

TEST(TelemetryBatcher, ABatchIsDueAtMaxBytesAndStaysWithinThem) {
  const auto event = line(std::string(100, 'x'));
  // Room for two events, their comma and the brackets, not three.
  const auto max_bytes = static_cast<std::uint32_t>(2 * event.size() + 3);
  TelemetryBatcher batcher(limits(1000, max_bytes), 100, 1 << 20);
  batcher.add(event);
  EXPECT_FALSE(batcher.batch_due());
  batcher.add(event);
  EXPECT_TRUE(batcher.batch_due());
  batcher.add(event);
  const auto batch = batcher.take(kTime);
  EXPECT_EQ(batch.records, 2U);
  EXPECT_LE(batch.body.size(), max_bytes);
  EXPECT_EQ(batch.bytes, 2 * event.size());
  EXPECT_EQ(batcher.queued(), 1U);
}

TEST(TelemetryBatcher, AnEventLargerThanMaxBytesStillGoesAlone) {
  TelemetryBatcher batcher(limits(1000, 50), 100, 1 << 20);
  batcher.add(line(std::string(200, 'y')));
  batcher.add(line("z"));
  const auto first = batcher.take(kTime);
  EXPECT_EQ(first.records, 1U);
  EXPECT_EQ(json::parse(first.body).as_array().size(), 1U);
  EXPECT_EQ(json::parse(batcher.take(kTime).body).as_array().at(0).at("record"), "z");
}

TEST(TelemetryBatcher, OverflowIsDroppedAndReportedFirstInTheNextBatch) {
  const auto event = line("e");
  TelemetryBatcher batcher(limits(1000, 1 << 20), 2, 1 << 20);
  EXPECT_TRUE(batcher.add(event));
  EXPECT_TRUE(batcher.add(event));
  EXPECT_FALSE(batcher.add(event));  // a slow subscriber: the buffer is full
  EXPECT_FALSE(batcher.add(event));
  EXPECT_EQ(batcher.dropped_records(), 2U);
  const auto array = json::parse(batcher.take(kTime).body).as_array();
  ASSERT_EQ(array.size(), 3U);
  EXPECT_EQ(array[0].at("type"), "platform.logsDropped");
  EXPECT_EQ(array[0].at("time").as_string(), kTime);
  EXPECT_EQ(array[0].at("record").at("droppedRecords"), 2);
  EXPECT_EQ(array[0].at("record").at("droppedBytes"), 2 * event.size());
  EXPECT_FALSE(array[0].at("record").at("reason").as_string().empty());
  EXPECT_EQ(array[1].at("type"), "function");
  EXPECT_EQ(batcher.dropped_records(), 0U);  // reported once
  EXPECT_TRUE(batcher.empty());
}

TEST(TelemetryBatcher, TheByteCapacityBoundsTheQueueToo) {
  const auto event = line(std::string(100, 'b'));
  TelemetryBatcher batcher(limits(1000, 1 << 20), 1000, 2 * event.size());
  EXPECT_TRUE(batcher.add(event));
  EXPECT_TRUE(batcher.add(event));
  EXPECT_FALSE(batcher.add(event));
  EXPECT_EQ(batcher.queued_bytes(), 2 * event.size());
}

TEST(TelemetryBatcher, AnUndeliveredBatchIsCountedAsDropped) {
  TelemetryBatcher batcher(limits(1000, 1 << 20), 100, 1 << 20);
  batcher.add(line("lost"));
  const auto batch = batcher.take(kTime);
  EXPECT_TRUE(batcher.empty());
  batcher.count_dropped(batch.records, batch.bytes);
  EXPECT_FALSE(batcher.empty());  // the report of the loss waits
  const auto array = json::parse(batcher.take(kTime).body).as_array();
  ASSERT_EQ(array.size(), 1U);
  EXPECT_EQ(array[0].at("record").at("droppedRecords"), 1);
}

}  // namespace
}  // namespace ember::engine
