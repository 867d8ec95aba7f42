// S3's event notification record (eventVersion 2.1) for an object of a local bucket, as S3
// sends it to Lambda: {"Records": [record]} (docs/event-sources.md, "Object notifications").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"

namespace ember::engine {

// What happened to one object.
struct ObjectEvent {
  enum class Kind { kCreated, kRemoved };
  Kind kind = Kind::kCreated;
  std::string bucket;
  std::string key;  // as the file's path below the bucket, not encoded
  std::chrono::system_clock::time_point time;
  std::uint64_t size = 0;  // kCreated only
  std::string etag;        // kCreated only: hex MD5 of the content
  std::string sequencer;   // s3_sequencer()
};

// "ObjectCreated:Put" or "ObjectRemoved:Delete", the record's eventName.
std::string_view s3_event_name(ObjectEvent::Kind kind);

// Whether a subscription's event type (`s3:ObjectCreated:*`, ...) covers `kind`.
bool s3_event_matches(std::string_view subscribed, ObjectEvent::Kind kind);

// The key as S3 writes it in records: form encoding (space as '+', every byte but A-Z a-z 0-9
// . - _ * as %XX, uppercase), with '/' kept.
std::string s3_key_encoding(std::string_view key);

// Fixed-width uppercase hex (18 digits, as S3's look), so comparing two is comparing strings.
std::string s3_sequencer(std::uint64_t value);

// "2019-09-03T19:37:27.192Z"
std::string iso8601_milliseconds(std::chrono::system_clock::time_point at);

// {"Records":[...]} for `event`, from the node's region and account, for the subscription
// `configuration_id`.
std::string s3_event_payload(const ObjectEvent& event, const config::NodeConfig& node,
                             std::string_view configuration_id);

}  // namespace ember::engine
