// GET /ember/v1/logs/NAME[?since=SECONDS][&request_id=ID][&follow=1]: a function's log lines,
// streamed (`ember logs`; docs/operating.md#logs).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ember/runtime_api/http_server.hpp"

namespace ember::runtime_api {

struct LogQuery {
  std::string function;
  std::optional<std::chrono::seconds> since;  // lines of the last this long
  std::string request_id;                     // only that invocation's lines (START..REPORT)
  bool follow = false;                        // then new lines as they are written
};

// The node's side: answers with a chunked 200 of lines, or an error (404 for an unknown
// function) through `writer`.
class LogService {
 public:
  LogService() = default;
  LogService(const LogService&) = delete;
  LogService& operator=(const LogService&) = delete;
  LogService(LogService&&) = delete;
  LogService& operator=(LogService&&) = delete;
  virtual ~LogService() = default;

  virtual boost::asio::awaitable<bool> logs(LogQuery query, ResponseWriter& writer) = 0;
};

inline constexpr std::string_view kLogsPath = "/ember/v1/logs/";

[[nodiscard]] bool is_logs_request(const Request& req);
// The query of a logs request, or what is wrong with it (naming the parameter).
std::variant<LogQuery, std::string> parse_log_query(const Request& req);
// An error answer in Lambda's shape ({"Type": "User", "Message": ...}, x-amzn-ErrorType).
Response log_error_reply(boost::beast::http::status status, std::string_view type,
                         std::string_view message);
// Parses the request and hands it to the service; a bad query is answered with 400.
boost::asio::awaitable<bool> handle_logs_request(LogService& service, const Request& req,
                                                 ResponseWriter& writer);

}  // namespace ember::runtime_api
