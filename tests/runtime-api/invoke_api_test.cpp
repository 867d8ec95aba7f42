// The Invoke API front door: handle_invoke_request called with Beast requests for every
// branch, and make_invoke_api behind a real HttpServer for what only the server sees (payload
// size, malformed HTTP, the status route). Answers are checked against Lambda's Invoke API.
#include "ember/runtime_api/invoke_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/limits.hpp"
#include "loopback.hpp"

namespace ember::runtime_api::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Records every validated request and answers each with `answer`.
class RecordingService : public InvokeService {
 public:
  asio::awaitable<InvokeResult> invoke(InvokeRequest request) override {
    calls.push_back(std::move(request));
    InvokeResult result = answer;
    if (answer_phases) {
      // Phases at fixed offsets from when the front door had the request.
      const auto received = calls.back().received;
      result.phases = {{"assigned", received + std::chrono::microseconds(5)},
                       {"answered", received + std::chrono::microseconds(1'234)}};
    }
    co_return result;
  }

  std::vector<InvokeRequest> calls;
  InvokeResult answer{.payload = R"({"ok":true})"};
  bool answer_phases = false;
};

class Status : public StatusService {
 public:
  asio::awaitable<boost::json::object> status() override {
    co_return boost::json::object{{"functions", boost::json::array{}}};
  }
};

Response handle(InvokeService& service, Request req, const std::string& only_function = {}) {
  asio::io_context io;
  std::optional<Response> out;
  asio::co_spawn(io, handle_invoke_request(service, req, only_function),
                 [&](const std::exception_ptr& error, Response res) {
                   if (error) std::rethrow_exception(error);
                   out = std::move(res);
                 });
  io.run();
  return std::move(out).value();
}

// POST /2015-03-31/functions/{function}/invocations, with `query` (e.g. "?Qualifier=1") after.
Request invoke_request(const std::string& function, std::string body = "{}",
                       const std::string& query = "") {
  return request(http::verb::post, "/2015-03-31/functions/" + function + "/invocations" + query,
                 std::move(body));
}

// Status, x-amzn-ErrorType, request id and the {"Type","Message"} body of a service error.
void expect_service_error(const Response& res, http::status status, std::string_view error_type,
                          std::string_view message_part, std::string_view origin = "User") {
  EXPECT_EQ(res.result(), status) << res.body();
  EXPECT_EQ(res["x-amzn-ErrorType"], error_type);
  EXPECT_EQ(res["x-amzn-RequestId"].size(), 36U);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  const auto parsed = boost::json::parse(res.body());
  const auto* body = parsed.if_object();
  ASSERT_TRUE(body && body->contains("Type") && body->contains("Message")) << res.body();
  EXPECT_EQ(std::string(body->at("Type").as_string()), origin);
  const std::string message(body->at("Message").as_string());
  EXPECT_NE(message.find(message_part), std::string::npos) << message;
}

TEST(InvokeApiHandler, ValidCallReachesTheServiceAndItsAnswerTheCaller) {
  RecordingService service;
  const auto res = handle(service, invoke_request("echo", R"({"a":[1,2]})"));
  ASSERT_EQ(service.calls.size(), 1U);
  const auto& call = service.calls[0];
  EXPECT_EQ(call.function.name, "echo");
  EXPECT_FALSE(call.function.qualifier);
  EXPECT_EQ(call.type, InvocationType::kRequestResponse);
  EXPECT_FALSE(call.log_tail);
  EXPECT_EQ(call.client_context, "");
  EXPECT_EQ(call.payload, R"({"a":[1,2]})");
  EXPECT_FALSE(call.want_timings);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"ok":true})");
  EXPECT_EQ(res["x-amzn-RequestId"], call.request_id);
  EXPECT_EQ(call.request_id.size(), 36U);
  EXPECT_EQ(res["X-Amz-Executed-Version"], "$LATEST");
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res.count("X-Amz-Function-Error"), 0U);
  EXPECT_EQ(res.count("X-Amz-Log-Result"), 0U);
  EXPECT_EQ(res.count("X-Ember-Timings"), 0U);
}

TEST(InvokeApiHandler, EveryRequestGetsItsOwnRequestId) {
  RecordingService service;
  const auto first = handle(service, invoke_request("echo"));
  const auto second = handle(service, invoke_request("echo"));
  const auto refused = handle(service, invoke_request("bad name"));
  EXPECT_NE(first["x-amzn-RequestId"], second["x-amzn-RequestId"]);
  EXPECT_NE(refused["x-amzn-RequestId"], first["x-amzn-RequestId"]);
  EXPECT_NE(refused["x-amzn-RequestId"], second["x-amzn-RequestId"]);
}

TEST(InvokeApiHandler, FunctionNameFormsArePercentDecodedAndParsed) {
  struct Case {
    std::string path;
    std::string name;
    std::optional<std::string> qualifier;
    std::optional<std::string> region;
    std::optional<std::string> account;
  };
  const std::vector<Case> cases = {
      {"echo", "echo", {}, {}, {}},
      {"echo:$LATEST", "echo", "$LATEST", {}, {}},
      {"echo%3A%24LATEST", "echo", "$LATEST", {}, {}},
      {"echo:prod", "echo", "prod", {}, {}},
      {"arn:aws:lambda:eu-west-1:123456789012:function:echo",
       "echo",
       {},
       "eu-west-1",
       "123456789012"},
      {"arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho%3A7", "echo", "7",
       "us-east-1", "000000000000"},
      {"123456789012:function:echo", "echo", {}, {}, "123456789012"},
      {"123456789012:function:echo:prod", "echo", "prod", {}, "123456789012"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    RecordingService service;
    const auto res = handle(service, invoke_request(c.path));
    EXPECT_EQ(res.result(), http::status::ok) << res.body();
    ASSERT_EQ(service.calls.size(), 1U);
    const auto& ref = service.calls[0].function;
    EXPECT_EQ(ref.name, c.name);
    EXPECT_EQ(ref.qualifier, c.qualifier);
    EXPECT_EQ(ref.region, c.region);
    EXPECT_EQ(ref.account_id, c.account);
  }
}

TEST(InvokeApiHandler, InvalidFunctionNameIs400InvalidParameterValueWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad%20name", "letters, digits, hyphens and underscores"},
      {std::string(65, 'a'), "1-64 characters"},
      {std::string(171, 'a'), "longer than 170 characters"},
      {"a:b:c", "too many ':' parts"},
      {"arn:aws:s3:::bucket", "is not a function ARN"},
      {"echo:bad%20qualifier", "is not a version or alias name"},
  };
  for (const auto& [path, reason] : cases) {
    SCOPED_TRACE(path);
    RecordingService service;
    const auto res = handle(service, invoke_request(path));
    expect_service_error(res, http::status::bad_request, "InvalidParameterValueException",
                         "Invalid FunctionName: ");
    EXPECT_NE(res.body().find(reason), std::string::npos) << res.body();
    EXPECT_TRUE(service.calls.empty());
  }
}

TEST(InvokeApiHandler, QualifierFromTheQueryIsUsedWhenItAgreesWithTheName) {
  RecordingService service;
  EXPECT_EQ(handle(service, invoke_request("echo", "{}", "?Qualifier=%24LATEST")).result(),
            http::status::ok);
  EXPECT_EQ(handle(service, invoke_request("echo:prod", "{}", "?Qualifier=prod")).result(),
            http::status::ok);
  ASSERT_EQ(service.calls.size(), 2U);
  EXPECT_EQ(service.calls[0].function.qualifier, "$LATEST");
  EXPECT_EQ(service.calls[1].function.qualifier, "prod");
}

TEST(InvokeApiHandler, QualifierFromTheQueryThatDiffersFromTheNameIs400) {
  RecordingService service;
  expect_service_error(handle(service, invoke_request("echo:prod", "{}", "?Qualifier=dev")),
                       http::status::bad_request, "InvalidParameterValueException",
                       "The derived qualifier from the function name does not match the "
                       "specified qualifier.");
  EXPECT_TRUE(service.calls.empty());
}

TEST(InvokeApiHandler, QualifierFromTheQueryIsValidatedLikeOneInTheName) {
  RecordingService service;
  expect_service_error(handle(service, invoke_request("echo", "{}", "?Qualifier=bad%20qualifier")),
                       http::status::bad_request, "InvalidParameterValueException",
                       "qualifier 'bad qualifier' is not a version or alias name");
  EXPECT_TRUE(service.calls.empty());
}

TEST(InvokeApiHandler, EmptyQualifierInTheQueryMeansNone) {
  // Lambda's Qualifier pattern is (|[a-zA-Z0-9$_-]+): empty is allowed and names no version.
  RecordingService service;
  EXPECT_EQ(handle(service, invoke_request("echo", "{}", "?Qualifier=")).result(),
            http::status::ok);
  ASSERT_EQ(service.calls.size(), 1U);
  EXPECT_FALSE(service.calls[0].function.qualifier);
}

TEST(InvokeApiHandler, InvocationTypeHeaderSelectsTheTypeAndAnUnknownOneIs400) {
  const std::vector<std::pair<std::string, InvocationType>> known = {
      {"", InvocationType::kRequestResponse},
      {"RequestResponse", InvocationType::kRequestResponse},
      {"Event", InvocationType::kEvent},
      {"DryRun", InvocationType::kDryRun},
  };
  for (const auto& [header, type] : known) {
    SCOPED_TRACE(header);
    RecordingService service;
    auto req = invoke_request("echo");
    if (!header.empty()) req.set("X-Amz-Invocation-Type", header);
    EXPECT_EQ(handle(service, req).result(), http::status::ok);
    ASSERT_EQ(service.calls.size(), 1U);
    EXPECT_EQ(service.calls[0].type, type);
  }
  for (const std::string header : {"Sometimes", "event", "dryrun"}) {
    SCOPED_TRACE(header);
    RecordingService service;
    auto req = invoke_request("echo");
    req.set("X-Amz-Invocation-Type", header);
    expect_service_error(
        handle(service, req), http::status::bad_request, "InvalidParameterValueException",
        "X-Amz-Invocation-Type '" + header + "' must be one of RequestResponse, Event, DryRun");
    EXPECT_TRUE(service.calls.empty());
  }
}

TEST(InvokeApiHandler, LogTypeTailAsksForTheTailAndAnythingButNoneIs400) {
  for (const std::string header : {"", "None", "Tail"}) {
    SCOPED_TRACE(header);
    RecordingService service;
    auto req = invoke_request("echo");
    if (!header.empty()) req.set("X-Amz-Log-Type", header);
    EXPECT_EQ(handle(service, req).result(), http::status::ok);
    ASSERT_EQ(service.calls.size(), 1U);
    EXPECT_EQ(service.calls[0].log_tail, header == "Tail");
  }
  RecordingService service;
  auto req = invoke_request("echo");
  req.set("X-Amz-Log-Type", "Everything");
  expect_service_error(handle(service, req), http::status::bad_request,
                       "InvalidParameterValueException",
                       "X-Amz-Log-Type 'Everything' must be None or Tail");
  EXPECT_TRUE(service.calls.empty());
}

TEST(InvokeApiHandler, LogResultIsTheBase64OfTheLast4KBOfTheTailAndOnlyWhenAsked) {
  RecordingService service;
  service.answer.log_tail = std::string(1000, 'a') + std::string(kLogTailBytes, 'z');
  auto req = invoke_request("echo");
  req.set("X-Amz-Log-Type", "Tail");
  const auto res = handle(service, req);
  const auto decoded = base64_decode(res["X-Amz-Log-Result"]);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, std::string(kLogTailBytes, 'z'));

  service.answer.log_tail = "short log\n";
  const auto whole = base64_decode(handle(service, req)["X-Amz-Log-Result"]);
  EXPECT_EQ(whole, "short log\n");

  EXPECT_EQ(handle(service, invoke_request("echo")).count("X-Amz-Log-Result"), 0U);
}

TEST(InvokeApiHandler, ClientContextIsBase64DecodedForTheService) {
  RecordingService service;
  auto req = invoke_request("echo");
  req.set("X-Amz-Client-Context", base64_encode(R"({"custom":{"k":"v"}})"));
  EXPECT_EQ(handle(service, req).result(), http::status::ok);
  ASSERT_EQ(service.calls.size(), 1U);
  EXPECT_EQ(service.calls[0].client_context, R"({"custom":{"k":"v"}})");
}

TEST(InvokeApiHandler, ClientContextThatIsNotBase64OfJsonIs400InvalidRequestContent) {
  for (const auto& header :
       {std::string("not base64!"), std::string("e30"), base64_encode("{not json")}) {
    SCOPED_TRACE(header);
    RecordingService service;
    auto req = invoke_request("echo");
    req.set("X-Amz-Client-Context", header);
    expect_service_error(handle(service, req), http::status::bad_request,
                         "InvalidRequestContentException",
                         "Client context must be a valid Base64-encoded JSON object.");
    EXPECT_TRUE(service.calls.empty());
  }
}

TEST(InvokeApiHandler, ClientContextOverItsSizeLimitIs400InvalidParameterValue) {
  // Base64 comes in groups of four: 3580 characters is the largest that fits in 3583.
  auto context_of_size = [](std::size_t encoded) {
    const std::size_t raw = encoded / 4 * 3;
    return base64_encode("\"" + std::string(raw - 2, 'x') + "\"");
  };
  RecordingService service;
  auto req = invoke_request("echo");
  req.set("X-Amz-Client-Context", context_of_size(3580));
  ASSERT_EQ(req["X-Amz-Client-Context"].size(), 3580U);
  EXPECT_EQ(handle(service, req).result(), http::status::ok);

  req.set("X-Amz-Client-Context", context_of_size(3584));
  ASSERT_EQ(req["X-Amz-Client-Context"].size(), 3584U);
  expect_service_error(handle(service, req), http::status::bad_request,
                       "InvalidParameterValueException",
                       "X-Amz-Client-Context is 3584 bytes; the limit is 3583");
  EXPECT_EQ(service.calls.size(), 1U);
}

TEST(InvokeApiHandler, EmptyBodyIsAnEmptyObjectAndAnyJsonValueIsAPayload) {
  RecordingService service;
  for (const std::string body : {"", "{}", "42", "\"text\"", "[1,2]", "null", " {\"a\": 1} "}) {
    EXPECT_EQ(handle(service, invoke_request("echo", body)).result(), http::status::ok) << body;
  }
  ASSERT_EQ(service.calls.size(), 7U);
  EXPECT_EQ(service.calls[0].payload, "{}");
  EXPECT_EQ(service.calls[3].payload, "\"text\"");
  EXPECT_EQ(service.calls[6].payload, " {\"a\": 1} ") << "the payload is passed on unchanged";
}

TEST(InvokeApiHandler, BodyThatIsNotJsonIs400InvalidRequestContent) {
  for (const std::string body : {"{not json", "{} {}", "nope", "{\"a\":}", " "}) {
    SCOPED_TRACE(body);
    RecordingService service;
    expect_service_error(handle(service, invoke_request("echo", body)), http::status::bad_request,
                         "InvalidRequestContentException",
                         "Could not parse request body into json: ");
    EXPECT_TRUE(service.calls.empty());
  }
}

TEST(InvokeApiHandler, OtherMethodsAndPathsAre404ResourceNotFound) {
  const std::vector<std::pair<Request, std::string>> cases = {
      {request(http::verb::get, "/2015-03-31/functions/echo/invocations"),
       "No route for GET /2015-03-31/functions/echo/invocations"},
      {request(http::verb::put, "/2015-03-31/functions/echo/invocations"),
       "No route for PUT /2015-03-31/functions/echo/invocations"},
      {request(http::verb::post, "/2015-03-31/functions/echo"),
       "No route for POST /2015-03-31/functions/echo; invoke is POST "
       "/2015-03-31/functions/{FunctionName}/invocations"},
      {request(http::verb::post, "/2015-03-31/functions/echo/invocations/more"),
       "No route for POST"},
      {request(http::verb::post, "/2016-01-01/functions/echo/invocations"), "No route for POST"},
      {request(http::verb::post, "/"), "No route for POST /;"},
  };
  for (const auto& [req, message] : cases) {
    SCOPED_TRACE(req.target());
    RecordingService service;
    expect_service_error(handle(service, req), http::status::not_found, "ResourceNotFoundException",
                         message);
    EXPECT_TRUE(service.calls.empty());
  }
}

TEST(InvokeApiHandler, TargetThatIsNotAnOriginFormIs400) {
  RecordingService service;
  expect_service_error(
      handle(service, request(http::verb::post, "2015-03-31/functions/echo/invocations", "{}")),
      http::status::bad_request, "InvalidParameterValueException", "Malformed request target");
  EXPECT_TRUE(service.calls.empty());
}

TEST(InvokeApiHandler, ServiceErrorsHaveLambdasStatusErrorTypeAndOrigin) {
  struct Case {
    ServiceError error;
    http::status status;
    std::string type;
    std::string origin;
  };
  const std::vector<Case> cases = {
      {ServiceError::kResourceNotFound, http::status::not_found, "ResourceNotFoundException",
       "User"},
      {ServiceError::kInvalidParameterValue, http::status::bad_request,
       "InvalidParameterValueException", "User"},
      {ServiceError::kInvalidRequestContent, http::status::bad_request,
       "InvalidRequestContentException", "User"},
      {ServiceError::kRequestTooLarge, http::status::payload_too_large, "RequestTooLargeException",
       "User"},
      {ServiceError::kServiceUnavailable, http::status::service_unavailable, "ServiceException",
       "Service"},
      {ServiceError::kService, http::status::internal_server_error, "ServiceException", "Service"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    RecordingService service;
    service.answer = {.service_error = c.error, .message = "why it failed"};
    const auto res = handle(service, invoke_request("echo"));
    expect_service_error(res, c.status, c.type, "why it failed", c.origin);
    EXPECT_EQ(res["x-amzn-RequestId"], service.calls.at(0).request_id);
    EXPECT_EQ(boost::json::parse(res.body()).as_object().count("Reason"), 0U);
    EXPECT_EQ(res.count(http::field::retry_after), 0U);
    EXPECT_EQ(res.count("X-Amz-Executed-Version"), 0U);
  }
}

TEST(InvokeApiHandler, TooManyRequestsCarriesReasonAndRetryAfter) {
  RecordingService service;
  service.answer = {.service_error = ServiceError::kTooManyRequests,
                    .message = "Rate Exceeded.",
                    .reason = "ReservedFunctionConcurrentInvocationLimitExceeded",
                    .retry_after_seconds = 1};
  const auto res = handle(service, invoke_request("echo"));
  expect_service_error(res, http::status::too_many_requests, "TooManyRequestsException",
                       "Rate Exceeded.");
  EXPECT_EQ(boost::json::parse(res.body()).at("Reason"),
            "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_EQ(res[http::field::retry_after], "1");
}

TEST(InvokeApiHandler, DryRunAnswerIs204WithNoBody) {
  RecordingService service;
  service.answer = {.dry_run = true, .payload = "ignored"};
  auto req = invoke_request("echo");
  req.set("X-Amz-Invocation-Type", "DryRun");
  const auto res = handle(service, req);
  EXPECT_EQ(res.result(), http::status::no_content);
  EXPECT_EQ(res.body(), "");
  EXPECT_EQ(res["x-amzn-RequestId"].size(), 36U);
  EXPECT_EQ(res.count("X-Amz-Executed-Version"), 0U);
}

TEST(InvokeApiHandler, AcceptedEventIs202WithOnlyTheRequestId) {
  RecordingService service;
  service.answer = {.accepted = true, .payload = "ignored"};
  auto req = invoke_request("echo", R"({"key1":"value1"})");
  req.set("X-Amz-Invocation-Type", "Event");
  const auto res = handle(service, req);
  EXPECT_EQ(res.result(), http::status::accepted);
  EXPECT_EQ(res.body(), "");
  EXPECT_EQ(res["x-amzn-RequestId"], service.calls.at(0).request_id);
  EXPECT_EQ(res.count("X-Amz-Executed-Version"), 0U);
  EXPECT_EQ(service.calls.at(0).type, InvocationType::kEvent);
}

TEST(InvokeApiHandler, EventPayloadIsLimitedTo256KBAndASyncOneIsNot) {
  RecordingService service;
  // A JSON string of exactly the limit is accepted; one byte more is 413 and reaches no one.
  const std::string at_limit = "\"" + std::string(kMaxAsyncPayloadBytes - 2, 'x') + "\"";
  auto req = invoke_request("echo", at_limit);
  req.set("X-Amz-Invocation-Type", "Event");
  EXPECT_EQ(handle(service, req).result(), http::status::ok);
  ASSERT_EQ(service.calls.size(), 1U);

  const std::string over = "\"" + std::string(kMaxAsyncPayloadBytes - 1, 'x') + "\"";
  req = invoke_request("echo", over);
  req.set("X-Amz-Invocation-Type", "Event");
  const auto res = handle(service, req);
  expect_service_error(res, http::status::payload_too_large, "RequestTooLargeException",
                       "Request must be smaller than 262144 bytes for the InvokeAsync operation "
                       "(got 262145 bytes)");
  EXPECT_EQ(service.calls.size(), 1U);

  EXPECT_EQ(handle(service, invoke_request("echo", over)).result(), http::status::ok);
  EXPECT_EQ(service.calls.size(), 2U);
}

TEST(InvokeApiHandler, FunctionErrorStays200WithXAmzFunctionError) {
  RecordingService service;
  service.answer = {.function_error = "Unhandled",
                    .payload = R"({"errorMessage":"boom","errorType":"ValueError"})"};
  const auto res = handle(service, invoke_request("echo"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res["X-Amz-Function-Error"], "Unhandled");
  EXPECT_EQ(res.body(), R"({"errorMessage":"boom","errorType":"ValueError"})");
}

TEST(InvokeApiHandler, ContentTypeAndExecutedVersionComeFromTheResult) {
  RecordingService service;
  service.answer = {.content_type = "text/plain", .payload = "plain", .executed_version = "7"};
  auto res = handle(service, invoke_request("echo"));
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  EXPECT_EQ(res["X-Amz-Executed-Version"], "7");
  service.answer = {.content_type = "", .payload = "{}"};
  res = handle(service, invoke_request("echo"));
  EXPECT_EQ(res[http::field::content_type], "application/json") << "the default when none is set";
}

TEST(InvokeApiHandler, TimingsAreMicrosecondsSinceReceiptAndOnlyWhenAsked) {
  RecordingService service;
  service.answer.cold = true;
  service.answer_phases = true;
  auto req = invoke_request("echo");
  req.set("X-Ember-Timings", "1");
  const auto res = handle(service, req);
  EXPECT_TRUE(service.calls.at(0).want_timings);
  EXPECT_EQ(res["X-Ember-Timings"], "cold=1;assigned=5;answered=1234");
  EXPECT_EQ(handle(service, invoke_request("echo")).count("X-Ember-Timings"), 0U);
}

TEST(InvokeApiHandler, OnlyFunctionTakesEveryRequestWhateverItsPathNamesKeepingTheQualifier) {
  RecordingService service;
  for (const std::string name : {"function", "other", "other:7"}) {
    EXPECT_EQ(handle(service, invoke_request(name), "resizer").result(), http::status::ok) << name;
  }
  ASSERT_EQ(service.calls.size(), 3U);
  for (const auto& call : service.calls) EXPECT_EQ(call.function.name, "resizer");
  EXPECT_EQ(service.calls[2].function.qualifier, "7");
}

// make_invoke_api behind a real server: what only the server sees.
class InvokeApiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(loop_, make_invoke_api(service_, {.status = &status_}), invoke_api_limits());
    client_ = std::make_unique<RawClient>(loop_, server_->endpoint());
  }

  Loop loop_;
  RecordingService service_;
  Status status_;
  std::optional<LoopbackServer> server_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(InvokeApiServer, PayloadOver6MBIs413RequestTooLargeAndTheConnectionCloses) {
  client_->send(wire(invoke_request("echo", std::string(kMaxPayloadBytes + 1, ' '))));
  const auto res = client_->receive();
  ASSERT_TRUE(res) << client_->last_error().message();
  expect_service_error(*res, http::status::payload_too_large, "RequestTooLargeException",
                       "Request must be smaller than 6291456 bytes for the InvokeFunction "
                       "operation (got 6291457 bytes)");
  EXPECT_TRUE(client_->wait_closed());
  EXPECT_TRUE(service_.calls.empty());
}

TEST_F(InvokeApiServer, ChunkedPayloadOver6MBIs413WithoutALength) {
  std::string chunked =
      "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string megabyte(1024 * 1024, ' ');
  for (int i = 0; i < 7; ++i) chunked += "100000\r\n" + megabyte + "\r\n";
  client_->send(chunked + "0\r\n\r\n");
  const auto res = client_->receive();
  ASSERT_TRUE(res) << client_->last_error().message();
  expect_service_error(*res, http::status::payload_too_large, "RequestTooLargeException",
                       "for the InvokeFunction operation");
  EXPECT_EQ(res->body().find("(got"), std::string::npos) << res->body();
  EXPECT_TRUE(service_.calls.empty());
}

TEST_F(InvokeApiServer, PayloadOfExactly6MBIsInvoked) {
  const std::string payload = "\"" + std::string(kMaxPayloadBytes - 2, 'x') + "\"";
  client_->send(wire(invoke_request("echo", payload)));
  const auto res = client_->receive();
  ASSERT_TRUE(res) << client_->last_error().message();
  EXPECT_EQ(res->result(), http::status::ok);
  ASSERT_EQ(service_.calls.size(), 1U);
  EXPECT_EQ(service_.calls[0].payload.size(), kMaxPayloadBytes);
}

TEST_F(InvokeApiServer, MalformedHttpIs400InvalidRequestContentAndTheConnectionCloses) {
  client_->send(
      "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nContent-Length: x\r\n\r\n");
  const auto res = client_->receive();
  ASSERT_TRUE(res) << client_->last_error().message();
  expect_service_error(*res, http::status::bad_request, "InvalidRequestContentException",
                       "Malformed HTTP request: ");
  EXPECT_TRUE(client_->wait_closed());
}

TEST_F(InvokeApiServer, StatusRouteAnswersGetWithTheNodesStatus) {
  client_->send(wire(request(http::verb::get, "/ember/v1/functions")));
  const auto res = client_->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_EQ(res->body(), R"({"functions":[]})");
  client_->send(wire(request(http::verb::post, "/ember/v1/functions", "{}")));
  const auto post = client_->receive();
  ASSERT_TRUE(post);
  expect_service_error(*post, http::status::not_found, "ResourceNotFoundException",
                       "No route for POST /ember/v1/functions");
}

TEST(InvokeApiWithoutStatus, StatusRouteIs404) {
  Loop loop;
  RecordingService service;
  LoopbackServer server(loop, make_invoke_api(service), invoke_api_limits());
  RawClient client(loop, server.endpoint());
  client.send(wire(request(http::verb::get, "/ember/v1/functions")));
  const auto res = client.receive();
  ASSERT_TRUE(res);
  expect_service_error(*res, http::status::not_found, "ResourceNotFoundException",
                       "No route for GET /ember/v1/functions");
}

}  // namespace
}  // namespace ember::runtime_api::test
