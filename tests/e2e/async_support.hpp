// What the asynchronous-invocation tests send and read back: Event invocations over HTTP, the
// records a `dir:` destination holds, and a function's "async" object of
// GET /ember/v1/functions.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ember::test {

// POST .../invocations with X-Amz-Invocation-Type: Event.
HttpReply send_event(const Node& node, const std::string& function, const std::string& payload);

struct DestinationRecord {
  std::filesystem::path file;
  boost::json::object json;
  [[nodiscard]] std::string request_id() const;     // requestContext.requestId
  [[nodiscard]] std::int64_t invoke_count() const;  // requestContext.approximateInvokeCount
};

// The records in `dir` (none when it does not exist), by file name; files being written
// (their temporary names start with '.') are left out.
std::vector<DestinationRecord> read_records(const std::filesystem::path& dir);
std::size_t record_count(const std::filesystem::path& dir);

// The records once `dir` holds at least `n` (all there are when `bound` passed first).
std::vector<DestinationRecord> wait_for_records(
    const std::filesystem::path& dir, std::size_t n,
    std::chrono::seconds bound = std::chrono::seconds(30));

// The function's "async" object; empty when the node does not answer or has no such function.
boost::json::object async_status(const Node& node, const std::string& function);
std::int64_t async_counter(const Node& node, const std::string& function, const std::string& key);

}  // namespace ember::test
