// HTTP routes behind a real HttpServer on loopback: the events a function gets (checked
// field by field against the ALB and Function URL documentation, /work/shared/spec/
// event-sources.md §1-2) and what each response document, function error and service error
// becomes on the wire. The function is a recording InvokeService; the node behind real routes
// is tested in tests/e2e/http_routes_test.cpp.
#include "ember/runtime_api/http_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>

#include "ember/runtime_api/base64.hpp"
#include "loopback.hpp"

namespace ember::runtime_api::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

class RecordingService : public InvokeService {
 public:
  asio::awaitable<InvokeResult> invoke(InvokeRequest request) override {
    calls.push_back(std::move(request));
    co_return answer;
  }
  std::vector<InvokeRequest> calls;
  InvokeResult answer{.payload = R"({"statusCode":200,"body":"ok"})"};
};

HttpRoute route(std::string path, HttpEventFormat format, std::string function,
                bool multi_value_headers = false, std::vector<std::string> methods = {}) {
  HttpRoute out;
  out.path = std::move(path);
  out.format = format;
  out.function = std::move(function);
  out.multi_value_headers = multi_value_headers;
  out.methods = std::move(methods);
  return out;
}

class HttpRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpSite site;
    site.region = "eu-west-1";
    site.account_id = "123456789012";
    server_.emplace(loop_,
                    make_http_routes_api(
                        service_,
                        {route("/alb", HttpEventFormat::kAlb, "single", false, {"GET", "POST"}),
                         route("/multi", HttpEventFormat::kAlb, "multi", true),
                         route("/url", HttpEventFormat::kFunctionUrl, "url"),
                         route("/url/deeper", HttpEventFormat::kAlb, "deeper")},
                        site),
                    http_routes_limits());
    client_ = std::make_unique<RawClient>(loop_, server_->endpoint());
  }

  // Sends raw bytes, returns the response.
  Response exchange(const std::string& bytes) {
    client_->send(bytes);
    auto res = client_->receive();
    if (!res) throw std::runtime_error("no response: " + client_->last_error().message());
    return std::move(*res);
  }

  Response exchange(Request req) { return exchange(wire(std::move(req))); }

  // The event the function got on the last call.
  json::object last_event() {
    if (service_.calls.empty()) throw std::runtime_error("the function was not invoked");
    return json::parse(service_.calls.back().payload).as_object();
  }

  Response answering(std::string payload, Request req) {
    service_.answer = InvokeResult{.payload = std::move(payload)};
    return exchange(std::move(req));
  }

  Loop loop_;
  RecordingService service_;
  std::optional<LoopbackServer> server_;
  std::unique_ptr<RawClient> client_;
};

std::string text(const json::value& v) { return std::string(v.as_string()); }

TEST(MatchRoute, TakesTheLongestPrefixEndingAtASlash) {
  const std::vector<HttpRoute> routes = {route("/", HttpEventFormat::kAlb, "root"),
                                         route("/a", HttpEventFormat::kAlb, "a"),
                                         route("/a/b", HttpEventFormat::kAlb, "ab")};
  const auto name = [&](std::string_view path) {
    const HttpRoute* r = match_route(routes, path);
    return r == nullptr ? std::string("-") : r->function;
  };
  EXPECT_EQ(name("/a"), "a");
  EXPECT_EQ(name("/a/"), "a");
  EXPECT_EQ(name("/a/x"), "a");
  EXPECT_EQ(name("/a/b"), "ab");
  EXPECT_EQ(name("/a/b/c/d"), "ab");
  EXPECT_EQ(name("/ab"), "root");
  EXPECT_EQ(name("/"), "root");
  const std::vector<HttpRoute> only_a = {route("/a", HttpEventFormat::kAlb, "a")};
  EXPECT_EQ(match_route(only_a, "/ab"), nullptr);
  EXPECT_EQ(match_route(only_a, "/"), nullptr);
}

TEST_F(HttpRoutes, AlbEventHasEveryFieldOfTheTargetGroupEvent) {
  auto req = request(http::verb::post, "/alb/x%20y?k=v%20w&k=last&flag&e=", R"({"a":1})");
  req.set("Content-Type", "application/json");
  req.insert("X-Custom", "first");
  req.insert("X-Custom", "second");
  req.set("X-Forwarded-For", "203.0.113.9");
  exchange(std::move(req));
  ASSERT_EQ(service_.calls.size(), 1U);
  EXPECT_EQ(service_.calls[0].function.name, "single");
  EXPECT_EQ(service_.calls[0].type, InvocationType::kRequestResponse);
  const json::object event = last_event();

  EXPECT_TRUE(std::regex_match(
      text(event.at("requestContext").at("elb").at("targetGroupArn")),
      std::regex("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/single/"
                 "[0-9a-f]{16}")));
  EXPECT_EQ(text(event.at("httpMethod")), "POST");
  EXPECT_EQ(text(event.at("path")), "/alb/x%20y");
  // Not decoded; the last of repeated keys; a key without '=' is "".
  EXPECT_EQ(event.at("queryStringParameters"), json::parse(R"({"k":"last","flag":"","e":""})"));
  const auto& headers = event.at("headers").as_object();
  EXPECT_EQ(text(headers.at("x-custom")), "second");
  EXPECT_EQ(text(headers.at("content-type")), "application/json");
  EXPECT_EQ(text(headers.at("x-forwarded-for")), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(text(headers.at("x-forwarded-port")), std::to_string(server_->endpoint().port()));
  EXPECT_EQ(text(headers.at("x-forwarded-proto")), "http");
  EXPECT_TRUE(std::regex_match(text(headers.at("x-amzn-trace-id")),
                               std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24}")));
  for (const auto& [name, value] : headers) {
    EXPECT_TRUE(std::none_of(name.begin(), name.end(), [](char c) { return std::isupper(c); }))
        << name;
  }
  EXPECT_FALSE(event.contains("multiValueHeaders"));
  EXPECT_FALSE(event.contains("multiValueQueryStringParameters"));
  EXPECT_EQ(text(event.at("body")), R"({"a":1})");
  EXPECT_EQ(event.at("isBase64Encoded"), false);
}

TEST_F(HttpRoutes, AlbEventBase64EncodesBinaryBodiesAndSendsEmptyOnesAsEmptyText) {
  const std::string png("\x89PNG\r\n\x1a\n\0\xff", 10);
  auto req = request(http::verb::post, "/alb", png);
  req.set("Content-Type", "image/png");
  exchange(std::move(req));
  json::object event = last_event();
  EXPECT_EQ(text(event.at("body")), base64_encode(png));
  EXPECT_EQ(event.at("isBase64Encoded"), true);

  // Text types that are not valid UTF-8 cannot be a JSON string either.
  auto latin1 = request(http::verb::post, "/alb", "caf\xe9");
  latin1.set("Content-Type", "text/plain; charset=iso-8859-1");
  exchange(std::move(latin1));
  EXPECT_EQ(last_event().at("isBase64Encoded"), true);

  for (const char* type : {"text/html", "application/javascript", "application/xml"}) {
    auto typed = request(http::verb::post, "/alb", "<x/>");
    typed.set("Content-Type", type);
    exchange(std::move(typed));
    EXPECT_EQ(last_event().at("isBase64Encoded"), false) << type;
  }

  exchange(request(http::verb::get, "/alb"));
  event = last_event();
  EXPECT_EQ(text(event.at("body")), "");
  EXPECT_EQ(event.at("isBase64Encoded"), false);
  EXPECT_EQ(event.at("queryStringParameters"), json::object());
}

TEST_F(HttpRoutes, AlbMultiValueModeCarriesEveryValueInArrays) {
  auto req = request(http::verb::get, "/multi/page?tag=a&tag=b&one=1");
  req.insert("X-Custom", "first");
  req.insert("X-Custom", "second");
  exchange(std::move(req));
  const json::object event = last_event();
  EXPECT_EQ(service_.calls.back().function.name, "multi");
  EXPECT_FALSE(event.contains("headers"));
  EXPECT_FALSE(event.contains("queryStringParameters"));
  EXPECT_EQ(event.at("multiValueQueryStringParameters"),
            json::parse(R"({"tag":["a","b"],"one":["1"]})"));
  EXPECT_EQ(event.at("multiValueHeaders").at("x-custom"), json::parse(R"(["first","second"])"));
  EXPECT_EQ(event.at("multiValueHeaders").at("x-forwarded-proto"), json::parse(R"(["http"])"));
}

TEST_F(HttpRoutes, AlbServesTheConsolesDefaultDocumentAsADownload) {
  const auto res = answering(R"({"statusCode": 200, "body": "\"Hello from Lambda!\""})",
                             request(http::verb::get, "/alb"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  EXPECT_EQ(res.body(), "\"Hello from Lambda!\"");
  EXPECT_EQ(res["X-Amzn-RequestId"], service_.calls.back().request_id);
}

TEST_F(HttpRoutes, AlbConvertsAPageDocumentWithItsHeadersAndDescription) {
  const auto res = answering(
      R"({"statusCode": 201, "statusDescription": "201 Made It",
          "headers": {"Content-Type": "text/html", "Set-Cookie": "s=1", "Connection": "close",
                      "Transfer-Encoding": "chunked"},
          "body": "<h1>hi</h1>", "isBase64Encoded": false})",
      request(http::verb::get, "/alb"));
  EXPECT_EQ(res.result(), http::status::created);
  EXPECT_EQ(res.reason(), "Made It");
  EXPECT_EQ(res[http::field::content_type], "text/html");
  EXPECT_EQ(res[http::field::set_cookie], "s=1");
  EXPECT_EQ(res[http::field::transfer_encoding], "");
  EXPECT_EQ(res.body(), "<h1>hi</h1>");
  EXPECT_TRUE(res.keep_alive());  // hop-by-hop headers of the document are ignored

  const auto binary = answering(
      R"({"statusCode": 200, "headers": {"Content-Type": "image/gif"},
          "body": ")" +
          base64_encode(std::string("GIF\0\x01", 5)) + R"(", "isBase64Encoded": true})",
      request(http::verb::get, "/alb"));
  EXPECT_EQ(binary.body(), std::string("GIF\0\x01", 5));
}

TEST_F(HttpRoutes, AlbMultiValueDocumentsUseMultiValueHeaders) {
  const auto res = answering(
      R"({"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"],
          "Content-Type": ["text/plain"]}, "headers": {"X-Ignored": "yes"}, "body": "x"})",
      request(http::verb::get, "/multi"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  std::vector<std::string> cookies;
  for (auto it = res.find(http::field::set_cookie);
       it != res.end() && it->name() == http::field::set_cookie; ++it) {
    cookies.emplace_back(it->value());
  }
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(res["X-Ignored"], "");
}

TEST_F(HttpRoutes, AlbAnswers502ForEveryInvalidDocument) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"("just a string")", "not a JSON object"},
      {R"({"body": "no status"})", "statusCode is missing"},
      {R"({"statusCode": "200"})", "statusCode is missing or not a number"},
      {R"({"statusCode": 99})", "not an HTTP status"},
      {R"({"statusCode": 200, "headers": {"X": 1}})", "headers.X is not a string"},
      {R"({"statusCode": 200, "headers": "x"})", "headers is not an object"},
      {R"({"statusCode": 200, "body": 5})", "body is not a string"},
      {R"({"statusCode": 200, "body": "***", "isBase64Encoded": true})", "not base64"},
      {R"({"statusCode": 200, "body": ")" + std::string(1024 * 1024, 'x') + R"("})",
       "larger than 1 MB"},
  };
  for (const auto& [document, why] : cases) {
    SCOPED_TRACE(document.substr(0, 80));
    const auto res = answering(document, request(http::verb::get, "/alb"));
    EXPECT_EQ(res.result(), http::status::bad_gateway);
    EXPECT_NE(std::string(res["X-Ember-Error"]).find(why), std::string::npos)
        << res["X-Ember-Error"];
    EXPECT_EQ(res[http::field::content_type], "text/html");
    EXPECT_NE(res.body().find("502 Bad Gateway"), std::string::npos);
  }
}

TEST_F(HttpRoutes, FunctionErrorsTimeoutsAndThrottlesBecomeTheServicesStatuses) {
  service_.answer = InvokeResult{.function_error = "Unhandled",
                                 .payload = R"({"errorType":"KeyError","errorMessage":"x"})"};
  EXPECT_EQ(exchange(request(http::verb::get, "/alb")).result(), http::status::bad_gateway);
  EXPECT_EQ(exchange(request(http::verb::get, "/url")).result(), http::status::bad_gateway);

  service_.answer =
      InvokeResult{.function_error = "Unhandled",
                   .payload = R"({"errorType":"Sandbox.Timedout","errorMessage":"timed out"})"};
  EXPECT_EQ(exchange(request(http::verb::get, "/alb")).result(), http::status::gateway_timeout);
  EXPECT_EQ(exchange(request(http::verb::get, "/url")).result(), http::status::gateway_timeout);

  service_.answer = InvokeResult{.service_error = ServiceError::kTooManyRequests,
                                 .message = "Rate Exceeded.",
                                 .retry_after_seconds = 1};
  const auto alb = exchange(request(http::verb::get, "/alb"));
  EXPECT_EQ(alb.result(), http::status::service_unavailable);
  const auto url = exchange(request(http::verb::get, "/url"));
  EXPECT_EQ(url.result(), http::status::too_many_requests);
  EXPECT_EQ(url["Retry-After"], "1");
  EXPECT_EQ(url[http::field::content_type], "application/json");

  service_.answer =
      InvokeResult{.service_error = ServiceError::kServiceUnavailable, .message = "shutting down"};
  EXPECT_EQ(exchange(request(http::verb::get, "/url")).result(), http::status::service_unavailable);
}

TEST_F(HttpRoutes, RefusesUnknownPathsOtherMethodsWebSocketsAndLargeAlbBodies) {
  const auto missing = exchange(request(http::verb::get, "/nowhere"));
  EXPECT_EQ(missing.result(), http::status::not_found);
  const auto method = exchange(request(http::verb::delete_, "/alb"));
  EXPECT_EQ(method.result(), http::status::method_not_allowed);
  EXPECT_EQ(method[http::field::allow], "GET, POST");
  auto upgrade = request(http::verb::get, "/multi");
  upgrade.set(http::field::upgrade, "websocket");
  upgrade.set(http::field::connection, "Upgrade");
  EXPECT_EQ(exchange(std::move(upgrade)).result(), http::status::bad_request);
  // ALB's 1 MB; a Function URL takes up to Lambda's 6 MB event.
  const std::string over = std::string(1024 * 1024 + 1, 'x');
  auto big = request(http::verb::post, "/alb", over);
  big.set("Content-Type", "text/plain");
  EXPECT_EQ(exchange(std::move(big)).result(), http::status::payload_too_large);
  EXPECT_TRUE(service_.calls.empty());
  auto url_big = request(http::verb::post, "/url", over);
  url_big.set("Content-Type", "text/plain");
  EXPECT_EQ(exchange(std::move(url_big)).result(), http::status::ok);
  EXPECT_EQ(service_.calls.size(), 1U);
}

TEST_F(HttpRoutes, TheLongestRouteWinsOverItsParent) {
  exchange(request(http::verb::get, "/url/deeper/x"));
  EXPECT_EQ(service_.calls.back().function.name, "deeper");
  exchange(request(http::verb::get, "/url/deep"));
  EXPECT_EQ(service_.calls.back().function.name, "url");
}

TEST_F(HttpRoutes, FunctionUrlEventHasEveryFieldOfPayloadFormat2) {
  auto req = request(http::verb::post, "/url/my/path?p1=v1&p1=v2&p2=a%20b", "hello");
  req.set("Content-Type", "text/plain");
  req.set("User-Agent", "agent/1.0");
  req.insert("Cookie", "c1=v1; c2=v2");
  req.insert("X-Repeat", "a");
  req.insert("X-Repeat", "b");
  exchange(std::move(req));
  const json::object event = last_event();
  const InvokeRequest& call = service_.calls.back();

  EXPECT_EQ(text(event.at("version")), "2.0");
  EXPECT_EQ(text(event.at("routeKey")), "$default");
  EXPECT_EQ(text(event.at("rawPath")), "/url/my/path");
  EXPECT_EQ(text(event.at("rawQueryString")), "p1=v1&p1=v2&p2=a%20b");
  EXPECT_EQ(event.at("cookies"), json::parse(R"(["c1=v1","c2=v2"])"));
  const auto& headers = event.at("headers").as_object();
  EXPECT_FALSE(headers.contains("cookie"));
  EXPECT_EQ(text(headers.at("x-repeat")), "a,b");
  EXPECT_EQ(text(headers.at("user-agent")), "agent/1.0");
  EXPECT_EQ(text(headers.at("x-forwarded-proto")), "http");
  EXPECT_EQ(event.at("queryStringParameters"), json::parse(R"({"p1":"v1,v2","p2":"a b"})"));
  const auto& context = event.at("requestContext").as_object();
  EXPECT_EQ(text(context.at("accountId")), "anonymous");
  const std::string url_id = text(context.at("apiId"));
  EXPECT_TRUE(std::regex_match(url_id, std::regex("[0-9a-z]{32}")));
  EXPECT_EQ(text(context.at("domainName")), url_id + ".lambda-url.eu-west-1.on.aws");
  EXPECT_EQ(text(context.at("domainPrefix")), url_id);
  EXPECT_EQ(context.at("http"), json::parse(R"({"method":"POST","path":"/url/my/path",
      "protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"agent/1.0"})"));
  EXPECT_EQ(text(context.at("requestId")), call.request_id);
  EXPECT_EQ(text(context.at("routeKey")), "$default");
  EXPECT_EQ(text(context.at("stage")), "$default");
  EXPECT_TRUE(std::regex_match(text(context.at("time")),
                               std::regex(R"(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)")));
  const auto epoch_ms = context.at("timeEpoch").as_int64();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LE(epoch_ms, now_ms);
  EXPECT_GT(epoch_ms, now_ms - 60'000);
  EXPECT_EQ(text(event.at("body")), "hello");
  EXPECT_EQ(event.at("isBase64Encoded"), false);

  exchange(request(http::verb::get, "/url"));
  const json::object bare = last_event();
  EXPECT_FALSE(bare.contains("cookies"));
  EXPECT_FALSE(bare.contains("queryStringParameters"));
  EXPECT_FALSE(bare.contains("body"));
  EXPECT_EQ(text(bare.at("rawQueryString")), "");
  EXPECT_EQ(text(bare.at("requestContext").at("apiId")), url_id);  // stable per function
}

TEST_F(HttpRoutes, FunctionUrlResponsesFollowLambdasInference) {
  const auto document = answering(
      R"({"statusCode": 302, "headers": {"Location": "/there"}, "cookies": ["a=1", "b=2; Secure"],
          "body": "moved"})",
      request(http::verb::get, "/url"));
  EXPECT_EQ(document.result(), http::status::found);
  EXPECT_EQ(document[http::field::location], "/there");
  EXPECT_EQ(document[http::field::content_type], "application/json");
  std::vector<std::string> cookies;
  for (auto it = document.find(http::field::set_cookie);
       it != document.end() && it->name() == http::field::set_cookie; ++it) {
    cookies.emplace_back(it->value());
  }
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2; Secure"}));
  EXPECT_EQ(document.body(), "moved");

  const auto bare_string = answering(R"("Hello")", request(http::verb::get, "/url"));
  EXPECT_EQ(bare_string.result(), http::status::ok);
  EXPECT_EQ(bare_string[http::field::content_type], "application/json");
  EXPECT_EQ(bare_string.body(), R"("Hello")");

  const auto object = answering(R"({"message": "hi"})", request(http::verb::get, "/url"));
  EXPECT_EQ(object.result(), http::status::ok);
  EXPECT_EQ(object.body(), R"({"message": "hi"})");

  const auto invalid = answering("not json", request(http::verb::get, "/url"));
  EXPECT_EQ(invalid.result(), http::status::bad_gateway);
  EXPECT_EQ(invalid[http::field::content_type], "application/json");
}

TEST_F(HttpRoutes, KeepsTheConnectionAcrossRequests) {
  for (int i = 0; i < 5; ++i) {
    const auto res = exchange(request(http::verb::get, "/alb?i=" + std::to_string(i)));
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(service_.calls.size(), 5U);
}

TEST_F(HttpRoutes, AnswersMalformedRequestsWith400) {
  const auto res = exchange("GET /alb HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_TRUE(service_.calls.empty());
}

}  // namespace
}  // namespace ember::runtime_api::test
