// One HTTP request with libcurl, for the CLI's client commands.
#pragma once

#include <string>
#include <vector>

namespace ember::cli {

struct HttpReply {
  long status = 0;
  std::string body;
  std::string function_error;  // X-Amz-Function-Error
  std::string log_result;      // X-Amz-Log-Result
  std::string error_type;      // x-amzn-ErrorType
  std::string request_id;      // x-amzn-RequestId
  std::string error;           // set when no answer came (connection refused, ...)
};

// POST when body is set, GET otherwise.
HttpReply http_request(const std::string& url, const std::string* body,
                       const std::vector<std::string>& headers = {});

}  // namespace ember::cli
