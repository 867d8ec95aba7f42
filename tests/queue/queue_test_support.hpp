// Events and times for the queue's tests: times are explicit WallTime values (the tests never
// read the clock), and every queue lives in a file of a fresh temporary directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "ember/queue/event_queue.hpp"

namespace ember::queue::testing {

inline WallTime at_ms(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

inline Event make_event(std::string id, std::string target, std::int64_t due_ms,
                        std::string payload = R"({"key1":"value1"})") {
  return Event{.id = std::move(id),
               .target = std::move(target),
               .payload = std::move(payload),
               .enqueued_at = at_ms(due_ms),
               .due_at = at_ms(due_ms)};
}

}  // namespace ember::queue::testing
