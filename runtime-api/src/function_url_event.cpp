// Function URL events and responses: HTTP API payload format 2.0 (Lambda developer guide,
// "Invoking Lambda function URLs"; /work/shared/spec/event-sources.md §2).
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>

#include "http_formats.hpp"

namespace ember::runtime_api::http_event {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

// Repeated names joined with commas, as HTTP allows.
json::object joined(const Pairs& pairs) {
  json::object out;
  for (const auto& [name, value] : pairs) {
    if (auto* existing = out.if_contains(name)) {
      std::string both(existing->get_string());
      both += ',';
      both += value;
      *existing = both;
    } else {
      out[name] = value;
    }
  }
  return out;
}

// The Cookie header becomes `cookies` (split at "; "), and leaves `headers`.
json::array take_cookies(Pairs& headers) {
  json::array cookies;
  std::erase_if(headers, [&](const auto& header) {
    if (header.first != "cookie") return false;
    std::string_view rest = header.second;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      std::string_view cookie = rest.substr(0, end);
      while (cookie.starts_with(' ')) cookie.remove_prefix(1);
      if (!cookie.empty()) cookies.emplace_back(cookie);
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
    return true;
  });
  return cookies;
}

// "12/Mar/2020:19:03:58 +0000"
std::string clf_time(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 64> text{};
  std::strftime(text.data(), text.size(), "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return text.data();
}

std::optional<std::string> add_headers(Response& response, const json::object& document) {
  if (const auto* headers = document.if_contains("headers");
      headers != nullptr && !headers->is_null()) {
    if (!headers->is_object()) return "headers is not an object";
    for (const auto& [name, value] : headers->get_object()) {
      if (!value.is_string()) return "headers." + std::string(name) + " is not a string";
      if (!is_hop_by_hop(name)) response.insert(name, std::string_view(value.get_string()));
    }
  }
  if (const auto* cookies = document.if_contains("cookies");
      cookies != nullptr && !cookies->is_null()) {
    if (!cookies->is_array()) return "cookies is not a list";
    for (const auto& cookie : cookies->get_array()) {
      if (!cookie.is_string()) return "cookies holds a value that is not a string";
      response.insert(http::field::set_cookie, std::string_view(cookie.get_string()));
    }
  }
  return std::nullopt;
}

Converted document_response(const json::object& document) {
  json::error_code number_ec;
  const auto status = document.at("statusCode").to_number<std::int64_t>(number_ec);
  if (number_ec || status < 100 || status > 599) return "statusCode is not an HTTP status";
  Response response(static_cast<http::status>(status), 11);
  if (auto problem = add_headers(response, document)) return *problem;
  if (auto problem = put_document_body(response, document, "application/json")) return *problem;
  return response;
}

}  // namespace

std::string function_url_request(const Call& call, const HttpRoute& route, const HttpSite& site) {
  Pairs headers = forwarded_headers(call);
  json::array cookies = take_cookies(headers);
  const std::string_view query = raw_query(call.request);
  const std::string url_id = hex_id(site.account_id + site.region + route.function, 32);
  const auto epoch_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(call.received.time_since_epoch())
          .count();

  json::object event;
  event["version"] = "2.0";
  event["routeKey"] = "$default";
  event["rawPath"] = raw_path(call.request);
  event["rawQueryString"] = query;
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  const std::string user_agent(call.request[http::field::user_agent]);
  event["headers"] = joined(headers);
  if (!query.empty()) {
    Pairs decoded;
    for (auto& [key, value] : split_query(query)) {
      decoded.emplace_back(percent_decode(key), percent_decode(value));
    }
    event["queryStringParameters"] = joined(decoded);
  }
  event["requestContext"] = {{"accountId", "anonymous"},
                             {"apiId", url_id},
                             {"domainName", url_id + ".lambda-url." + site.region + ".on.aws"},
                             {"domainPrefix", url_id},
                             {"http",
                              {{"method", call.request.method_string()},
                               {"path", raw_path(call.request)},
                               {"protocol", call.request.version() == 10 ? "HTTP/1.0" : "HTTP/1.1"},
                               {"sourceIp", call.peer.remote.address().to_string()},
                               {"userAgent", user_agent}}},
                             {"requestId", call.request_id},
                             {"routeKey", "$default"},
                             {"stage", "$default"},
                             {"time", clf_time(call.received)},
                             {"timeEpoch", epoch_ms}};
  put_body(event, call.request, /*function_url=*/true, /*omit_empty=*/true);
  return json::serialize(event);
}

Converted function_url_response(std::string_view payload) {
  json::error_code ec;
  const json::value parsed = json::parse(payload, ec);
  if (ec) return "the response is not JSON";
  if (parsed.is_object() && parsed.get_object().contains("statusCode")) {
    return document_response(parsed.get_object());
  }
  // Anything else is the body of a 200, as the function returned it (a string keeps its quotes).
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, "application/json");
  response.body() = std::string(payload);
  return response;
}

namespace {

// One header of a prelude; false when its value is neither a string nor strings.
bool put_prelude_header(Response& response, std::string_view name, const json::value& value) {
  if (value.is_string()) {
    response.insert(name, value.get_string());
    return true;
  }
  if (!value.is_array()) return false;
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) return false;
    response.insert(name, item.get_string());
  }
  return true;
}

}  // namespace

Converted streaming_prelude_head(std::string_view prelude) {
  json::error_code ec;
  const json::value parsed = json::parse(prelude, ec);
  if (ec || !parsed.is_object()) return "the streaming prelude is not a JSON object";
  const auto& object = parsed.get_object();
  Response response(http::status::ok, 11);
  if (const auto* status = object.if_contains("statusCode")) {
    const auto code = status->is_int64() ? status->get_int64() : 0;
    if (code < 100 || code > 599) return "the prelude's statusCode is not an HTTP status";
    response.result(static_cast<unsigned>(code));
  }
  if (const auto* headers = object.if_contains("headers"); headers != nullptr) {
    if (!headers->is_object()) return "the prelude's headers are not an object";
    for (const auto& [name, value] : headers->get_object()) {
      if (!put_prelude_header(response, name, value)) {
        return "the prelude's header " + std::string(name) + " is not a string";
      }
    }
  }
  if (const auto* cookies = object.if_contains("cookies"); cookies != nullptr) {
    if (!put_prelude_header(response, "Set-Cookie", *cookies)) {
      return "the prelude's cookies are not strings";
    }
  }
  return response;
}

}  // namespace ember::runtime_api::http_event
