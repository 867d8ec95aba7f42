// The answer of GET /ember/v1/logs/NAME: a function's log lines from its files (across
// rotation, oldest first), then, with follow, the lines its streams write from then on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ember/runtime_api/log_api.hpp"
#include "function_log.hpp"

namespace ember::engine {

// Which lines a query keeps. request_id: text lines from that invocation's START through its
// REPORT in the stream that ran it; JSON lines whose "requestId" is it. since: JSON lines whose
// timestamp is not older; text lines carry no time of their own, so every line of the files
// written to since then.
class LogFilter {
 public:
  LogFilter(const runtime_api::LogQuery& query, std::chrono::system_clock::time_point now);

  // A file last written at `written`: whether any of its lines can be kept.
  [[nodiscard]] bool wants_file(std::chrono::system_clock::time_point written) const;
  // `line` (without newline) of stream `key`.
  bool keep(std::string_view key, std::string_view line);

 private:
  std::string request_id_;
  std::string json_request_field_;  // ,"requestId":"ID"
  std::string since_iso_;           // JSON: lines from this timestamp on
  std::chrono::system_clock::time_point since_{};
  bool has_since_ = false;
  std::unordered_map<std::string, bool> inside_;  // text: a stream is within the invocation
};

boost::asio::awaitable<bool> serve_logs(boost::asio::any_io_executor executor,
                                        std::shared_ptr<FunctionLog> log,
                                        runtime_api::LogQuery query,
                                        runtime_api::ResponseWriter& writer);

}  // namespace ember::engine
