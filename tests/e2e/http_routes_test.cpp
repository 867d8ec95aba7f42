// HTTP routes through a real `ember serve` and curl: the examples' ALB functions (the
// console's default document as a download, a text/html page, multi-value query strings), a
// Function URL route, the 502/504/404/405/413 answers, and many clients on kept-alive
// connections at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace ember::test {
namespace {

namespace json = boost::json;

// A response as curl printed it with -D - (headers, then the body), split up.
struct CurlReply {
  int status = 0;
  std::map<std::string, std::vector<std::string>> headers;  // lower-case names
  std::string body;

  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() || it->second.empty() ? std::string() : it->second.back();
  }
};

CurlReply parse_curl(std::string out) {
  CurlReply reply;
  // An interim "100 Continue" (curl sends Expect: 100-continue for large bodies) comes first.
  while (out.starts_with("HTTP/1.1 100")) out.erase(0, out.find("\r\n\r\n") + 4);
  const auto end = out.find("\r\n\r\n");
  if (end == std::string::npos) throw std::runtime_error("no response from curl: " + out);
  std::istringstream head(out.substr(0, end));
  std::string line;
  std::getline(head, line);
  reply.status = std::stoi(line.substr(line.find(' ') + 1, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name].push_back(line.substr(colon + 2));
  }
  reply.body = out.substr(end + 4);
  return reply;
}

class HttpRoutesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto examples = source_dir() / "examples";
    const auto app = testcases_dir() / "python" / "http_app";
    // Room for every client of ManyClientsAtOnce..., even while answered workers return.
    FunctionSpec hello{
        .name = "alb-hello", .code = examples / "alb-hello", .reserved_concurrency = 32};
    hello.http = {.path = "/hello", .methods = {"GET", "HEAD"}};
    FunctionSpec page{.name = "alb-page", .code = examples / "alb-page"};
    page.http = {.path = "/page", .multi_value_headers = true};
    // One worker each, so a second request while one runs is throttled.
    FunctionSpec alb{.name = "app-alb", .code = app, .timeout_s = 1, .reserved_concurrency = 1};
    alb.http = {.path = "/alb", .format = "alb"};
    FunctionSpec url{.name = "app-url", .code = app, .timeout_s = 1, .reserved_concurrency = 1};
    url.http = {.path = "/url", .format = "function_url"};
    node_ = new Node({hello, page, alb, url});
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  static CurlReply curl(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"curl", "-s", "-D", "-", "--max-time", "30"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(node_->http_endpoint() + path);
    const auto result = run(argv);
    if (result.exit_code != 0) {
      throw std::runtime_error("curl failed (" + std::to_string(result.exit_code) +
                               "): " + result.err + "\n" + node_->stdout_text());
    }
    return parse_curl(result.out);
  }

  static Node* node_;
};

Node* HttpRoutesE2E::node_ = nullptr;

TEST_F(HttpRoutesE2E, TheConsolesDefaultResponseIsADownload) {
  const auto reply = curl("/hello");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("content-type"), "application/octet-stream");
  EXPECT_EQ(reply.body, "\"Hello from Lambda!\"");
  EXPECT_EQ(reply.header("x-amzn-requestid").size(), 36U);

  // HEAD: GET's headers and length, no body, and the connection stays usable.
  const auto head =
      run({"curl", "-s", "-I", "-w", "%{http_code} %{num_connects}\\n",
           node_->http_endpoint() + "/hello", "-I", node_->http_endpoint() + "/hello"});
  EXPECT_EQ(head.exit_code, 0) << head.err;
  EXPECT_EQ(count(head.out, "Content-Length: 20\r\n"), 2U) << head.out;
  EXPECT_NE(head.out.find("200 1\n"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("200 0\n"), std::string::npos) << head.out;
}

TEST_F(HttpRoutesE2E, ATextHtmlDocumentIsAPageWithMultiValueQueryStrings) {
  const auto reply = curl("/page?tag=a&tag=b%20c&one=1");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(reply.body.find("<h1>Hello from Lambda!</h1>"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("<li>tag: a, b c</li>"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("<li>one: 1</li>"), std::string::npos) << reply.body;
}

TEST_F(HttpRoutesE2E, TheAlbEventReachesTheFunction) {
  const auto reply = curl(
      "/alb/echo?k=v&k=w",
      {"-H", "X-Two: 1", "-H", "Content-Type: application/json", "--data", R"({"sent":true})"});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto event = json::parse(reply.body).as_object();
  EXPECT_EQ(event.at("httpMethod"), "POST");
  EXPECT_EQ(event.at("path"), "/alb/echo");
  EXPECT_EQ(event.at("queryStringParameters"), json::parse(R"({"k":"w"})"));
  EXPECT_EQ(event.at("headers").at("x-two"), "1");
  EXPECT_EQ(event.at("headers").at("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(event.at("body"), R"({"sent":true})");
  EXPECT_EQ(event.at("isBase64Encoded"), false);
  EXPECT_TRUE(
      event.at("requestContext")
          .at("elb")
          .at("targetGroupArn")
          .as_string()
          .starts_with("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/app-alb/"));

  const auto binary = curl("/alb/binary");
  EXPECT_EQ(binary.header("content-type"), "image/png");
  EXPECT_EQ(binary.body, std::string("\x89PNG\r\n\x1a\n"));
}

TEST_F(HttpRoutesE2E, TheFunctionUrlEventAndResponsesFollowPayloadFormat2) {
  const auto reply = curl("/url/echo?p=1&p=2", {"-H", "Cookie: c1=v1; c2=v2"});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto event = json::parse(reply.body).as_object();
  EXPECT_EQ(event.at("version"), "2.0");
  EXPECT_EQ(event.at("rawPath"), "/url/echo");
  EXPECT_EQ(event.at("rawQueryString"), "p=1&p=2");
  EXPECT_EQ(event.at("cookies"), json::parse(R"(["c1=v1","c2=v2"])"));
  EXPECT_EQ(event.at("queryStringParameters"), json::parse(R"({"p":"1,2"})"));
  EXPECT_EQ(event.at("requestContext").at("http").at("method"), "GET");
  EXPECT_EQ(event.at("requestContext").at("http").at("sourceIp"), "127.0.0.1");
  EXPECT_EQ(event.at("requestContext").at("requestId").as_string(),
            reply.header("x-amzn-requestid"));

  const auto bare = curl("/url/bare");
  EXPECT_EQ(bare.status, 200);
  EXPECT_EQ(bare.header("content-type"), "application/json");
  EXPECT_EQ(bare.body, "\"Hello\"");

  const auto cookies = curl("/url/cookies");
  EXPECT_EQ(cookies.headers.at("set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(cookies.body, "with cookies");
}

TEST_F(HttpRoutesE2E, FailuresAnswer502AndTimeouts504) {
  const auto invalid = curl("/alb/invalid");
  EXPECT_EQ(invalid.status, 502);
  EXPECT_NE(invalid.header("x-ember-error").find("statusCode"), std::string::npos);
  EXPECT_EQ(curl("/url/fail").status, 502);
  EXPECT_EQ(curl("/alb/fail").status, 502);
  EXPECT_EQ(curl("/alb/slow").status, 504);
  EXPECT_EQ(curl("/url/slow").status, 504);
  // The node stays up and the route answers again.
  EXPECT_EQ(curl("/alb/echo").status, 200);
}

TEST_F(HttpRoutesE2E, RefusesUnknownPathsOtherMethodsAndAlbBodiesOver1MB) {
  EXPECT_EQ(curl("/nowhere").status, 404);
  const auto post = curl("/hello", {"-X", "POST"});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");

  TempDir dir("ember-test-body-");
  const auto big = dir.path() / "big";
  std::ofstream(big) << std::string(1024 * 1024 + 1, 'x');
  EXPECT_EQ(
      curl("/alb/echo", {"-H", "Content-Type: text/plain", "--data-binary", "@" + big.string()})
          .status,
      413);
}

TEST_F(HttpRoutesE2E, EmberPsListsEachRouteWithWhatItAnswered) {
  ASSERT_EQ(curl("/page").status, 200);
  ASSERT_EQ(curl("/alb/invalid").status, 502);
  const auto json_out =
      run({ember_exe().string(), "ps", "--json", "--endpoint", node_->endpoint()});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  std::map<std::string, json::object> routes;
  const json::value status = json::parse(json_out.out);
  for (const auto& f : status.at("functions").as_array()) {
    if (const auto* http = f.as_object().if_contains("http")) {
      routes[std::string(f.at("name").as_string())] = http->as_object();
    }
  }
  ASSERT_EQ(routes.size(), 4U) << json_out.out;
  EXPECT_EQ(routes.at("alb-page").at("path"), "/page");
  EXPECT_EQ(routes.at("alb-page").at("format"), "alb");
  EXPECT_GE(routes.at("alb-page").at("2xx").to_number<double>(), 1);
  EXPECT_GE(routes.at("app-alb").at("5xx").to_number<double>(), 1);
  EXPECT_EQ(routes.at("app-url").at("format"), "function_url");
  EXPECT_EQ(routes.at("alb-hello").at("methods"), json::parse(R"(["GET","HEAD"])"));

  const auto text = run({ember_exe().string(), "ps", "--endpoint", node_->endpoint()});
  EXPECT_NE(text.out.find("alb-hello                http GET,HEAD /hello (alb): requests "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("app-url                  http ANY /url (function_url): requests "),
            std::string::npos)
      << text.out;
}

// Status codes of requests curl sends at once, sorted.
std::vector<int> statuses_at_once(const std::vector<std::string>& urls) {
  std::vector<std::string> argv = {
      "curl", "-s", "--parallel", "--parallel-immediate", "-w", "%{http_code}\\n"};
  for (const auto& url : urls) argv.insert(argv.end(), {"-o", "/dev/null", url});
  const auto result = run(argv, {}, std::chrono::seconds(60));
  std::istringstream lines(result.out);
  std::vector<int> codes;
  for (int code = 0; lines >> code;) codes.push_back(code);
  std::sort(codes.begin(), codes.end());
  return codes;
}

TEST_F(HttpRoutesE2E, ThrottlesAnswer503BehindAnAlbAnd429BehindAFunctionUrl) {
  // Each function has one worker: while the first request runs (and times out), the second
  // is throttled.
  const std::string slow_alb = node_->http_endpoint() + "/alb/slow";
  EXPECT_EQ(statuses_at_once({slow_alb, slow_alb}), (std::vector<int>{503, 504}));
  const std::string slow_url = node_->http_endpoint() + "/url/slow";
  EXPECT_EQ(statuses_at_once({slow_url, slow_url}), (std::vector<int>{429, 504}));
}

TEST_F(HttpRoutesE2E, ManyClientsAtOnceOnKeptAliveConnections) {
  constexpr int kRequests = 200;
  constexpr int kConnections = 8;
  std::vector<std::string> argv = {"curl",
                                   "-s",
                                   "--parallel",
                                   "--parallel-max",
                                   std::to_string(kConnections),
                                   "-w",
                                   "%{http_code} %{num_connects}\\n"};
  for (int i = 0; i < kRequests; ++i) {
    argv.insert(argv.end(), {"-o", "/dev/null", node_->http_endpoint() + "/hello"});
  }
  const auto result = run(argv, {}, std::chrono::seconds(120));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  int ok = 0;
  int connects = 0;
  int code = 0;
  int connected = 0;
  while (lines >> code >> connected) {
    ok += code == 200 ? 1 : 0;
    connects += connected;
  }
  EXPECT_EQ(ok, kRequests) << result.out;
  // Connections are reused: far fewer than one per request.
  EXPECT_LE(connects, kConnections * 2) << result.out;
}

}  // namespace
}  // namespace ember::test
