// Functions' HTTP routes (docs/event-sources.md): a plain HTTP listener whose requests invoke
// a function synchronously with an ALB target group's event or a Function URL's (payload
// format 2.0), and whose response document becomes the HTTP response, as those services do.
#pragma once

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

// The route with the longest path that is `path` itself or a prefix of it ending at a '/';
// null when none is.
const HttpRoute* match_route(const std::vector<HttpRoute>& routes, std::string_view path);

// The HttpApi of the routes' listener; `service` must outlive the server.
HttpApi make_http_routes_api(InvokeService& service, std::vector<HttpRoute> routes, HttpSite site);

// Headers as ALB takes them (64 KB), bodies up to a Function URL's 6 MB (ALB's 1 MB is checked
// per route).
ServerLimits http_routes_limits();

}  // namespace ember::runtime_api
