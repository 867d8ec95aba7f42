// ALB target group events and response documents (ELB user guide, "Lambda functions as
// targets"; /work/shared/spec/event-sources.md §1).
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "ember/runtime_api/base64.hpp"
#include "http_formats.hpp"

namespace ember::runtime_api::http_event {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

// Single-value mode keeps the last value of a repeated name, multi-value mode all of them.
json::object by_name(const Pairs& pairs, bool multi_value) {
  json::object out;
  for (const auto& [name, value] : pairs) {
    if (!multi_value) {
      out[name] = value;
      continue;
    }
    auto& list = out[name];
    if (!list.is_array()) list = json::array();
    list.as_array().emplace_back(value);
  }
  return out;
}

// Header values in a document are strings; ALB refuses others.
bool add_header(Response& response, std::string_view name, const json::value& value) {
  if (!value.is_string()) return false;
  if (!is_hop_by_hop(name)) response.insert(name, std::string_view(value.get_string()));
  return true;
}

std::optional<std::string> add_headers(Response& response, const json::object& document,
                                       bool multi_value_headers) {
  if (multi_value_headers) {
    const auto* headers = document.if_contains("multiValueHeaders");
    if (headers == nullptr || headers->is_null()) return std::nullopt;
    if (!headers->is_object()) return "multiValueHeaders is not an object";
    for (const auto& [name, values] : headers->get_object()) {
      if (!values.is_array()) return "multiValueHeaders." + std::string(name) + " is not a list";
      for (const auto& value : values.get_array()) {
        if (!add_header(response, name, value)) {
          return "multiValueHeaders." + std::string(name) + " holds a value that is not a string";
        }
      }
    }
    return std::nullopt;
  }
  const auto* headers = document.if_contains("headers");
  if (headers == nullptr || headers->is_null()) return std::nullopt;
  if (!headers->is_object()) return "headers is not an object";
  for (const auto& [name, value] : headers->get_object()) {
    if (!add_header(response, name, value)) {
      return "headers." + std::string(name) + " is not a string";
    }
  }
  return std::nullopt;
}

// "200 OK" gives the reason "OK"; the code in it is not checked against statusCode, as ALB.
void set_reason(Response& response, const json::object& document) {
  const auto* description = document.if_contains("statusDescription");
  if (description == nullptr || !description->is_string()) return;
  const std::string_view text = description->get_string();
  const auto space = text.find(' ');
  if (space != std::string_view::npos) response.reason(text.substr(space + 1));
}

}  // namespace

std::optional<std::string> put_document_body(Response& response, const json::object& document,
                                             std::string_view default_type) {
  std::string body;
  if (const auto* text = document.if_contains("body"); text != nullptr && !text->is_null()) {
    if (!text->is_string()) return "body is not a string";
    body = text->get_string();
  }
  if (const auto* encoded = document.if_contains("isBase64Encoded");
      encoded != nullptr && encoded->is_bool() && encoded->get_bool()) {
    auto decoded = base64_decode(body);
    if (!decoded) return "isBase64Encoded is true but body is not base64";
    body = std::move(*decoded);
  }
  if (response[http::field::content_type].empty()) {
    response.set(http::field::content_type, default_type);
  }
  response.body() = std::move(body);
  return std::nullopt;
}

std::string alb_request(const Call& call, const HttpRoute& route, const HttpSite& site) {
  const bool multi = route.multi_value_headers;
  json::object event;
  event["requestContext"] = {
      {"elb",
       {{"targetGroupArn", "arn:aws:elasticloadbalancing:" + site.region + ":" + site.account_id +
                               ":targetgroup/" + route.function.substr(0, 32) + "/" +
                               hex_id(site.account_id + route.path + route.function, 16)}}}};
  event["httpMethod"] = call.request.method_string();
  event["path"] = raw_path(call.request);
  // ALB passes query keys and values as sent; the function decodes them.
  event[multi ? "multiValueQueryStringParameters" : "queryStringParameters"] =
      by_name(split_query(raw_query(call.request)), multi);
  event[multi ? "multiValueHeaders" : "headers"] = by_name(forwarded_headers(call), multi);
  put_body(event, call.request, /*function_url=*/false, /*omit_empty=*/false);
  return json::serialize(event);
}

Converted alb_response(std::string_view payload, bool multi_value_headers) {
  if (payload.size() > kAlbMaxBytes) return "the response is larger than 1 MB";
  json::error_code ec;
  const json::value parsed = json::parse(payload, ec);
  if (ec || !parsed.is_object()) return "the response is not a JSON object";
  const json::object& document = parsed.get_object();
  const auto* code = document.if_contains("statusCode");
  if (code == nullptr || !code->is_number()) return "statusCode is missing or not a number";
  json::error_code number_ec;
  const auto status = code->to_number<std::int64_t>(number_ec);
  if (number_ec || status < 100 || status > 599) return "statusCode is not an HTTP status";

  Response response(static_cast<http::status>(status), 11);
  set_reason(response, document);
  if (auto problem = add_headers(response, document, multi_value_headers)) return *problem;
  // Without a Content-Type, what makes the console's default document a download.
  if (auto problem = put_document_body(response, document, "application/octet-stream")) {
    return *problem;
  }
  return response;
}

}  // namespace ember::runtime_api::http_event
