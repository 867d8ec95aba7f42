#include "telemetry_batcher.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace ember::engine {

TelemetryBatcher::TelemetryBatcher(runtime_api::TelemetryBuffering buffering,
                                   std::size_t capacity_items, std::size_t capacity_bytes)
    : buffering_(buffering), capacity_items_(capacity_items), capacity_bytes_(capacity_bytes) {}

bool TelemetryBatcher::add(std::string event) {
  if (events_.size() >= capacity_items_ || bytes_ + event.size() > capacity_bytes_) {
    ++dropped_records_;
    dropped_bytes_ += event.size();
    return false;
  }
  bytes_ += event.size();
  events_.push_back(std::move(event));
  return true;
}

bool TelemetryBatcher::batch_due() const {
  // The array's brackets and commas count too: what the subscriber receives is what is limited.
  return events_.size() >= buffering_.max_items ||
         bytes_ + events_.size() + 1 >= buffering_.max_bytes;
}

void TelemetryBatcher::count_dropped(std::uint64_t records, std::uint64_t bytes) {
  dropped_records_ += records;
  dropped_bytes_ += bytes;
}

TelemetryBatch TelemetryBatcher::take(std::string_view time) {
  TelemetryBatch batch;
  if (empty()) return batch;
  std::string& out = batch.body;
  out.push_back('[');  // (assigning "[" trips GCC 12's -Wrestrict false positive)
  std::size_t items = 0;
  if (dropped_records_ != 0) {
    boost::json::object record;
    record["reason"] =
        "Some events were dropped because the subscriber did not keep up or could not be reached";
    record["droppedRecords"] = dropped_records_;
    record["droppedBytes"] = dropped_bytes_;
    out += telemetry_event(time, "platform.logsDropped", boost::json::serialize(record));
    ++items;
    dropped_records_ = 0;
    dropped_bytes_ = 0;
  }
  while (!events_.empty() && items < buffering_.max_items) {
    const auto& event = events_.front();
    // A single event larger than maxBytes still goes, alone: holding it would stop the stream.
    if (items > 0 && out.size() + 1 + event.size() + 1 > buffering_.max_bytes) break;
    if (items > 0) out.push_back(',');
    out += event;
    bytes_ -= event.size();
    batch.bytes += event.size();
    ++batch.records;
    events_.pop_front();
    ++items;
  }
  out.push_back(']');
  return batch;
}

std::string telemetry_event(std::string_view time, std::string_view type, std::string_view record) {
  std::string out = R"({"time":)";
  out += boost::json::serialize(boost::json::string(time));
  out += R"(,"type":)";
  out += boost::json::serialize(boost::json::string(type));
  out += R"(,"record":)";
  out += record;
  out.push_back('}');
  return out;
}

}  // namespace ember::engine
