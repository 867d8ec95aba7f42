#include "ember/runtime_api/log_api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

namespace ember::runtime_api {

namespace http = boost::beast::http;

bool is_logs_request(const Request& req) {
  return req.method() == http::verb::get && std::string_view(req.target()).starts_with(kLogsPath);
}

std::variant<LogQuery, std::string> parse_log_query(const Request& req) {
  const auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return std::string("the request target is not a URL path");
  LogQuery query;
  auto path = url->path();
  query.function = path.substr(kLogsPath.size());
  if (query.function.empty() || query.function.find('/') != std::string::npos) {
    return std::string("the path must be ") + std::string(kLogsPath) + "FUNCTION";
  }
  for (const auto& param : url->params()) {
    if (param.key == "since") {
      std::uint64_t seconds = 0;
      const auto& v = param.value;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
        return "since: '" + param.value + "' is not a whole number of seconds";
      }
      query.since = std::chrono::seconds(seconds);
    } else if (param.key == "request_id") {
      if (param.value.empty()) return std::string("request_id: empty");
      query.request_id = param.value;
    } else if (param.key == "follow") {
      if (param.value != "1" && param.value != "0") {
        return "follow: '" + param.value + "' is not 1 or 0";
      }
      query.follow = param.value == "1";
    } else {
      return "unknown parameter '" + param.key + "' (allowed: since, request_id, follow)";
    }
  }
  return query;
}

Response log_error_reply(http::status status, std::string_view type, std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set("x-amzn-ErrorType", type);
  boost::json::object body;
  body["Type"] = "User";
  body["Message"] = message;
  res.body() = boost::json::serialize(body);
  return res;
}

// Not a coroutine: it returns the awaitable of the answer it picked.
boost::asio::awaitable<bool> handle_logs_request(LogService& service, const Request& req,
                                                 ResponseWriter& writer) {
  auto parsed = parse_log_query(req);
  if (auto* problem = std::get_if<std::string>(&parsed)) {
    return writer.send(
        log_error_reply(http::status::bad_request, "InvalidParameterValueException", *problem));
  }
  return service.logs(std::get<LogQuery>(std::move(parsed)), writer);
}

}  // namespace ember::runtime_api
