#include "probe.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include "ember/runtime_api/hex.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::cli::conform {

namespace {

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

constexpr std::string_view kLengthHead = R"({"conform":"length","data":")";
constexpr std::string_view kLengthTail = R"("})";

}  // namespace

runtime_api::NextEvent probe_event(std::string payload, std::chrono::milliseconds deadline_in) {
  runtime_api::NextEvent event;
  event.request_id = runtime_api::new_request_id();
  const auto now = std::chrono::system_clock::now();
  event.deadline_epoch_ms = epoch_ms(now + deadline_in);
  event.invoked_function_arn = std::string(kInvokedArn);
  event.trace_id = runtime_api::new_trace_id();
  event.payload = std::move(payload);
  return event;
}

std::string echo_payload(std::string_view fields) {
  std::string out = R"({"conform":"echo")";
  if (!fields.empty()) out.append(",").append(fields);
  return out + "}";
}

std::size_t length_data_size(std::size_t bytes) {
  return bytes - kLengthHead.size() - kLengthTail.size();
}

std::string length_payload(std::size_t bytes) {
  std::string out(kLengthHead);
  out.append(length_data_size(bytes), 'a');
  out.append(kLengthTail);
  return out;
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + R"("deep")" + std::string(depth, ']');
}

std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 4096;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec) return std::nullopt;
  return value;
}

std::string excerpt(std::string_view text, std::size_t limit) {
  std::string out;
  for (const char c : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      runtime_api::append_hex(out, byte, 2);
    } else {
      out += c;
    }
  }
  if (text.size() > limit) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace ember::cli::conform
