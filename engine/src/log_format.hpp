// node.log_format json: one JSON object per log line, in Lambda's JSON log format, saying
// whose line it is. Function lines: {"timestamp", "level" (when the line shows one), "message",
// "requestId", "function", "source": "function"}. The platform's: the same with "source":
// "platform" and, for the lines Lambda has records for, "type" (platform.start,
// platform.runtimeDone, platform.report, platform.initReport, platform.logsDropped) and
// "record". What a function prints is only ever the "message" of a "source": "function" line.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ember::engine {

enum class LineSource { kFunction, kPlatform };

// `text` as the contents of a JSON string (no quotes): quotes, backslashes and every control
// character (C0, DEL, C1) escaped, bytes that are not UTF-8 replaced by U+FFFD, so the result
// is valid JSON and shows nothing a terminal obeys.
void append_json_string(std::string& out, std::string_view text);

// The JSON object (without newline) for one line. `request_id` may be empty (between
// invocations). Platform lines are ember's own (report.hpp's formats), parsed for their record.
std::string json_log_line(std::chrono::system_clock::time_point when, std::string_view function,
                          std::string_view request_id, LineSource source, std::string_view line);

// The level a function's line shows: "[INFO]\t..." (Lambda's text records) or a JSON object's
// "level"; empty when it shows none.
std::string line_level(std::string_view line);

}  // namespace ember::engine
