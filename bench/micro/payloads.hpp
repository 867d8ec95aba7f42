// Inputs shared by the micro benchmarks.
#pragma once

#include <cstddef>
#include <string>

namespace ember::micro {

// A JSON object of exactly `bytes` bytes (at least ~60): a few keys and a padding string.
inline std::string json_event(std::size_t bytes) {
  std::string out = R"({"key1":"value1","key2":"value2","key3":"value3","padding":")";
  const std::string tail = "\"}";
  if (bytes > out.size() + tail.size()) out.append(bytes - out.size() - tail.size(), 'x');
  return out + tail;
}

// A JSON document of about `bytes` bytes shaped like real data: an array of small records
// (numbers, strings, a nested array), so the parser does more than scan one long string.
inline std::string json_records(std::size_t bytes) {
  std::string out = "{\"records\":[";
  for (std::size_t i = 0; out.size() + 80 < bytes; ++i) {
    if (i > 0) out += ',';
    const auto n = std::to_string(i);
    out += "{\"id\":" + n + ",\"name\":\"item-" + n + "\",\"tags\":[\"a\",\"b\"],\"score\":1.5}";
  }
  return out + "]}";
}

}  // namespace ember::micro
