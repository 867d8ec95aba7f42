// One telemetry subscriber's buffer: events (each one serialised JSON object) wait here until a
// batch is due by Lambda's buffering limits, and leave as one JSON array. The buffer is bounded;
// what does not fit is dropped and counted, and the next batch opens with a
// `platform.logsDropped` event saying how much. No I/O and no clock: the subscriber owns both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "ember/runtime_api/telemetry_api.hpp"

namespace ember::engine {

// What one POST to the subscriber carries.
struct TelemetryBatch {
  std::string body;         // a JSON array; empty when nothing waited
  std::size_t records = 0;  // of the buffered events (a logsDropped event not counted)
  std::size_t bytes = 0;    // their bytes
};

class TelemetryBatcher {
 public:
  // At most `capacity_items` events and `capacity_bytes` bytes wait at once.
  TelemetryBatcher(runtime_api::TelemetryBuffering buffering, std::size_t capacity_items,
                   std::size_t capacity_bytes);

  // Queues one event; false when the buffer is full and it was dropped.
  bool add(std::string event);
  // maxItems or maxBytes worth of events wait (timeoutMs is the owner's timer).
  [[nodiscard]] bool batch_due() const;
  [[nodiscard]] bool empty() const { return events_.empty() && dropped_records_ == 0; }

  // The oldest events, at most maxItems of them and (but for a single larger event) at most
  // maxBytes, as one JSON array; a `platform.logsDropped` event stamped `time` comes first when
  // events were dropped since the last batch.
  TelemetryBatch take(std::string_view time);
  // Counts a batch that could not be delivered as dropped (it goes out in the next batch's
  // `platform.logsDropped`).
  void count_dropped(std::uint64_t records, std::uint64_t bytes);

  [[nodiscard]] std::size_t queued() const { return events_.size(); }
  [[nodiscard]] std::size_t queued_bytes() const { return bytes_; }
  [[nodiscard]] std::uint64_t dropped_records() const { return dropped_records_; }

 private:
  runtime_api::TelemetryBuffering buffering_;
  std::size_t capacity_items_;
  std::size_t capacity_bytes_;
  std::deque<std::string> events_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_records_ = 0;  // since the last batch
  std::uint64_t dropped_bytes_ = 0;
};

// One telemetry event: {"time": TIME, "type": TYPE, "record": RECORD}, RECORD being JSON text.
std::string telemetry_event(std::string_view time, std::string_view type, std::string_view record);

}  // namespace ember::engine
