// Functions' HTTP routes (docs/event-sources.md): a plain HTTP listener whose requests invoke
// a function synchronously with an ALB target group's event or a Function URL's (payload
// format 2.0), and whose response document becomes the HTTP response, as those services do.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::runtime_api {

enum class HttpEventFormat { kAlb, kFunctionUrl };

struct HttpRoute {
  std::string path;                  // "/" or "/a/b": this path and every path below it
  std::vector<std::string> methods;  // upper case; empty: every method
  HttpEventFormat format = HttpEventFormat::kAlb;
  bool multi_value_headers = false;  // ALB's multi-value mode
  std::string function;              // invoked synchronously
};

// What events say about the node.
struct HttpSite {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// What each function's route answered since the node started, by status class.
class HttpRouteStats {
 public:
  void count(const std::string& function, unsigned status);
  // Adds "http": {path, format, methods, requests, 2xx, 3xx, 4xx, 5xx} to each function of a
  // node status (GET /ember/v1/functions) that has a route.
  void describe(boost::json::object& node_status, const std::vector<HttpRoute>& routes) const;

 private:
  struct Counts {
    std::uint64_t requests = 0;
    std::array<std::uint64_t, 4> by_class{};  // 2xx, 3xx, 4xx, 5xx
  };
  std::map<std::string, Counts, std::less<>> counts_;
};

// The route with the longest path that is `path` itself or a prefix of it ending at a '/';
// null when none is.
const HttpRoute* match_route(const std::vector<HttpRoute>& routes, std::string_view path);

// The HttpApi of the routes' listener; `service` must outlive the server. Answers are counted
// in `stats` when given.
HttpApi make_http_routes_api(InvokeService& service, std::vector<HttpRoute> routes, HttpSite site,
                             std::shared_ptr<HttpRouteStats> stats = nullptr);

// Headers as ALB takes them (64 KB), bodies up to a Function URL's 6 MB (ALB's 1 MB is checked
// per route).
ServerLimits http_routes_limits();

}  // namespace ember::runtime_api
