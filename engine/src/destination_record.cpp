#include "destination_record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ember/engine/report.hpp"

namespace ember::engine {
namespace {

namespace json = boost::json;

// A payload that is JSON goes in as JSON; anything else (a function may return plain text) as
// a string, as Lambda does.
json::value as_json(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec) return json::string(text);
  return value;
}

json::object string_attribute(std::string_view value, std::string_view type = "String") {
  return {{"dataType", type}, {"stringValue", value}};
}

}  // namespace

std::string_view condition_name(Condition condition) {
  switch (condition) {
    case Condition::kSuccess:
      return "Success";
    case Condition::kRetriesExhausted:
      return "RetriesExhausted";
    case Condition::kEventAgeExceeded:
      return "EventAgeExceeded";
  }
  return "Success";
}

std::string invocation_record(Condition condition, const queue::Event& event,
                              std::string_view function_arn, const AttemptAnswer* answer,
                              std::chrono::system_clock::time_point now) {
  json::object record;
  record["version"] = "1.0";
  record["timestamp"] = iso8601_utc(now);
  record["requestContext"] = json::object{
      {"requestId", event.id},
      {"functionArn", std::string(function_arn) + ":$LATEST"},
      {"condition", condition_name(condition)},
      {"approximateInvokeCount", event.attempts},
  };
  record["requestPayload"] = as_json(event.payload);
  if (answer != nullptr) {
    json::object response{{"statusCode", 200}, {"executedVersion", "$LATEST"}};
    if (!answer->function_error.empty()) response["functionError"] = answer->function_error;
    record["responseContext"] = std::move(response);
    record["responsePayload"] = as_json(answer->payload);
  }
  return json::serialize(record);
}

std::string dead_letter_message(const queue::Event& event, std::string_view error_message) {
  // ErrorCode is the status of the last Invoke: 200 when the function ran and failed, 429 when
  // the event never got a worker before its age ran out.
  const bool ran = !event.last_error.empty();
  json::object message{
      {"body", event.payload},
      {"messageAttributes",
       json::object{{"RequestID", string_attribute(event.id)},
                    {"ErrorCode", string_attribute(ran ? "200" : "429", "Number")},
                    {"ErrorMessage", string_attribute(error_message)}}},
  };
  return json::serialize(message);
}

}  // namespace ember::engine
