// The probe handler contract (docs/runtimes.md, "Checking a runtime"): the events `ember
// conform` sends to a cooperating handler, and how it reads their answers.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::cli::conform {

// The invoked function ARN every event carries (qualified, so a runtime that rebuilds it
// from the function name is caught).
inline constexpr std::string_view kInvokedArn =
    "arn:aws:lambda:us-east-1:000000000000:function:conform:live";

// An event for the probe handler: a fresh request id, kInvokedArn, a fresh trace id, the
// deadline `deadline_in` from now.
runtime_api::NextEvent probe_event(std::string payload, std::chrono::milliseconds deadline_in);

// {"conform":"echo",...}: the handler answers with the event.
std::string echo_payload(std::string_view fields);  // fields: `"k":v,...` after "conform"
// {"conform":"length","data":"aaa..."} of exactly `bytes` bytes: answers {"length":N}.
std::string length_payload(std::size_t bytes);
// The number of characters of "data" in length_payload(bytes).
std::size_t length_data_size(std::size_t bytes);
// A JSON array nested `depth` deep, with a string innermost.
std::string nested_arrays(std::size_t depth);

// JSON as a runtime may send it: deep nesting allowed; nullopt when not JSON (or not UTF-8).
std::optional<boost::json::value> parse_json(std::string_view text);
// At most `limit` bytes of `text`, non-printable bytes escaped, for a report line.
std::string excerpt(std::string_view text, std::size_t limit = 120);

}  // namespace ember::cli::conform
