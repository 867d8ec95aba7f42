#include "log_format.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <utility>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/hex.hpp"

namespace ember::engine {

namespace {

void append_u00(std::string& out, unsigned value) {
  out.append("\\u00");
  runtime_api::append_hex(out, value, 2);
}

// Length of the UTF-8 sequence at `i`, 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned code = 0;
  if (lead >= 0xC2U && lead <= 0xDFU) {
    n = 2;
    min = 0x80U;
    code = lead & 0x1FU;
  } else if (lead >= 0xE0U && lead <= 0xEFU) {
    n = 3;
    min = 0x800U;
    code = lead & 0x0FU;
  } else if (lead >= 0xF0U && lead <= 0xF4U) {
    n = 4;
    min = 0x10000U;
    code = lead & 0x07U;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0U) != 0x80U) return 0;
    code = (code << 6U) | (c & 0x3FU);
  }
  if (code < min || code > 0x10FFFFU || (code >= 0xD800U && code <= 0xDFFFU)) return 0;
  return n;
}

// "Key: value" fields of a platform line, split on tabs.
std::string_view field(std::string_view line, std::string_view key) {
  std::size_t at = 0;
  while (at < line.size()) {
    auto end = line.find('\t', at);
    if (end == std::string_view::npos) end = line.size();
    auto part = line.substr(at, end - at);
    if (part.starts_with(key) && part.substr(key.size()).starts_with(": ")) {
      return part.substr(key.size() + 2);
    }
    at = end + 1;
  }
  return {};
}

// "2.42 ms" -> "2.42"; empty unless it is digits and a point (ember's own numbers).
std::string_view number_of(std::string_view value) {
  const auto space = value.find(' ');
  value = value.substr(0, space);
  if (value.empty()) return {};
  for (const char c : value) {
    if ((c < '0' || c > '9') && c != '.') return {};
  }
  return value;
}

void append_number(std::string& out, bool& first, std::string_view name, std::string_view value) {
  const auto n = number_of(value);
  if (n.empty()) return;
  if (!first) out.push_back(',');
  first = false;
  out.append("\"").append(name).append("\":").append(n);
}

void append_text(std::string& out, std::string_view name, std::string_view value) {
  out.append(",\"").append(name).append("\":\"");
  append_json_string(out, value);
  out.push_back('"');
}

// The type and record of one of ember's platform lines (report.hpp); empty when it has none.
std::pair<std::string_view, std::string> record_of(std::string_view line) {
  std::string record;
  if (line.starts_with("START RequestId: ")) {
    auto rest = line.substr(17);
    const auto space = rest.find(' ');
    record.append(R"({"requestId":")");
    append_json_string(record, rest.substr(0, space));
    record.push_back('"');
    const auto version = rest.find("Version: ");
    if (version != std::string_view::npos) append_text(record, "version", rest.substr(version + 9));
    record.push_back('}');
    return {"platform.start", std::move(record)};
  }
  if (line.starts_with("END RequestId: ")) {
    record.append(R"({"requestId":")");
    append_json_string(record, line.substr(15));
    record.append(R"("})");
    return {"platform.runtimeDone", std::move(record)};
  }
  if (line.starts_with("REPORT RequestId: ")) {
    auto id = line.substr(18);
    id = id.substr(0, id.find('\t'));
    record.append(R"({"requestId":")");
    append_json_string(record, id);
    record.append(R"(","metrics":{)");
    bool first = true;
    append_number(record, first, "durationMs", field(line, "Duration"));
    append_number(record, first, "billedDurationMs", field(line, "Billed Duration"));
    append_number(record, first, "memorySizeMB", field(line, "Memory Size"));
    append_number(record, first, "maxMemoryUsedMB", field(line, "Max Memory Used"));
    append_number(record, first, "initDurationMs", field(line, "Init Duration"));
    record.append("}}");
    return {"platform.report", std::move(record)};
  }
  if (line.starts_with("LOGS_DROPPED ")) {
    record.append(R"({"reason":")");
    append_json_string(record, field(line, "Reason"));
    record.push_back('"');
    bool first = false;
    append_number(record, first, "droppedRecords", field(line, "DroppedRecords"));
    append_number(record, first, "droppedBytes", field(line, "DroppedBytes"));
    const auto id = field(line.substr(13), "RequestId");
    if (!id.empty()) append_text(record, "requestId", id);
    record.push_back('}');
    return {"platform.logsDropped", std::move(record)};
  }
  if (line.starts_with("INIT_REPORT ")) {
    record.append(R"({"metrics":{)");
    bool first = true;
    append_number(record, first, "durationMs", field(line.substr(12), "Init Duration"));
    record.append("}");
    append_text(record, "phase", field(line, "Phase"));
    append_text(record, "status", field(line, "Status"));
    const auto error = field(line, "Error Type");
    if (!error.empty()) append_text(record, "errorType", error);
    record.push_back('}');
    return {"platform.initReport", std::move(record)};
  }
  return {};
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
    } else if (byte == '\n') {
      out.append("\\n");
    } else if (byte == '\t') {
      out.append("\\t");
    } else if (byte < 0x20U || byte == 0x7FU) {
      append_u00(out, byte);
    } else if (byte < 0x80U) {
      out.push_back(static_cast<char>(byte));
    } else if (const auto n = utf8_length(text, i); n == 0) {
      out.append("\\ufffd");
    } else if (byte == 0xC2U && static_cast<unsigned char>(text[i + 1]) <= 0x9FU) {
      append_u00(out, static_cast<unsigned char>(text[i + 1]));  // a C1 control
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n - 1;
    }
  }
}

std::string line_level(std::string_view line) {
  static constexpr std::array<std::string_view, 8> kLevels = {
      "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"};
  if (line.starts_with('[')) {
    const auto close = line.find(']');
    if (close != std::string_view::npos) {
      const auto word = line.substr(1, close - 1);
      for (const auto level : kLevels) {
        if (word == level) return std::string(level);
      }
    }
    return {};
  }
  if (line.starts_with('{') && line.size() < 64 * 1024) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) return {};
    if (const auto* level = value.as_object().if_contains("level");
        level != nullptr && level->is_string()) {
      return std::string(level->as_string());
    }
  }
  return {};
}

std::string json_log_line(std::chrono::system_clock::time_point when, std::string_view function,
                          std::string_view request_id, LineSource source, std::string_view line) {
  std::string out;
  out.reserve(line.size() + 160);
  out.append(R"({"timestamp":")").append(iso8601_utc(when)).push_back('"');
  std::pair<std::string_view, std::string> typed;
  if (source == LineSource::kFunction) {
    const auto level = line_level(line);
    if (!level.empty()) append_text(out, "level", level);
  } else {
    typed = record_of(line);
  }
  append_text(out, "message", line);
  if (!request_id.empty()) append_text(out, "requestId", request_id);
  append_text(out, "function", function);
  append_text(out, "source", source == LineSource::kFunction ? "function" : "platform");
  if (!typed.first.empty()) {
    append_text(out, "type", typed.first);
    out.append(",\"record\":").append(typed.second);
  }
  out.push_back('}');
  return out;
}

}  // namespace ember::engine
