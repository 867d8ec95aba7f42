#include "s3_record.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cinttypes>
#include <cstdio>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {
namespace {

namespace chrono = std::chrono;

constexpr std::string_view kCreatedPrefix = "s3:ObjectCreated:";
constexpr std::string_view kRemovedPrefix = "s3:ObjectRemoved:";

bool kept_as_is(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '*' || c == '/';
}

// S3's request ids are 16 uppercase hex digits: taken from a fresh UUID's.
std::string request_id() {
  std::string out;
  for (const char c : runtime_api::new_request_id()) {
    if (c == '-') continue;
    out.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c);
    if (out.size() == 16) break;
  }
  return out;
}

}  // namespace

std::string_view s3_event_name(ObjectEvent::Kind kind) {
  return kind == ObjectEvent::Kind::kCreated ? "ObjectCreated:Put" : "ObjectRemoved:Delete";
}

bool s3_event_matches(std::string_view subscribed, ObjectEvent::Kind kind) {
  const std::string_view prefix =
      kind == ObjectEvent::Kind::kCreated ? kCreatedPrefix : kRemovedPrefix;
  if (!subscribed.starts_with(prefix)) return false;
  const std::string_view what = subscribed.substr(prefix.size());
  // ember makes Put and Delete only; ObjectCreated:Copy never matches.
  return what == "*" || what == (kind == ObjectEvent::Kind::kCreated ? "Put" : "Delete");
}

std::string s3_key_encoding(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    if (c == ' ') {
      out.push_back('+');
    } else if (kept_as_is(c)) {
      out.push_back(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out.append(hex);
    }
  }
  return out;
}

std::string s3_sequencer(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%018" PRIX64, value);
  return text;
}

std::string iso8601_milliseconds(chrono::system_clock::time_point at) {
  const auto ms = chrono::floor<chrono::milliseconds>(at);
  const auto day = chrono::floor<chrono::days>(ms);
  const chrono::year_month_day date{day};
  const chrono::hh_mm_ss time{ms - day};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02lld.%03lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()),
                static_cast<long long>(time.subseconds().count()));
  return text;
}

std::string s3_event_payload(const ObjectEvent& event, const config::NodeConfig& node,
                             std::string_view configuration_id) {
  boost::json::object object{{"key", s3_key_encoding(event.key)}};
  if (event.kind == ObjectEvent::Kind::kCreated) {
    object["size"] = event.size;
    object["eTag"] = event.etag;
  }
  object["sequencer"] = event.sequencer;
  const std::string id = request_id();
  boost::json::object record{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", node.region},
      {"eventTime", iso8601_milliseconds(event.time)},
      {"eventName", s3_event_name(event.kind)},
      {"userIdentity", {{"principalId", "AWS:" + node.account_id}}},
      {"requestParameters", {{"sourceIPAddress", "127.0.0.1"}}},
      {"responseElements",
       {{"x-amz-request-id", id}, {"x-amz-id-2", runtime_api::base64_encode(id + "/ember")}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", configuration_id},
        {"bucket",
         {{"name", event.bucket},
          {"ownerIdentity", {{"principalId", node.account_id}}},
          {"arn", "arn:aws:s3:::" + event.bucket}}},
        {"object", std::move(object)}}},
  };
  return boost::json::serialize(boost::json::object{{"Records", boost::json::array{record}}});
}

}  // namespace ember::engine
