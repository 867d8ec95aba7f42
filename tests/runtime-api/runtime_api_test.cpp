// The Runtime API a worker's runtime calls, over real HTTP, against a small worker written
// here to the RuntimeApiHandler interface: routes, headers, refusals and body limits as the
// Lambda Runtime API defines them.
#include "ember/runtime_api/runtime_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <regex>
#include <set>

#include "ember/runtime_api/limits.hpp"
#include "loopback.hpp"

namespace ember::runtime_api::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// One worker's side as the spec describes it: initialising until the first `next`, then
// waiting for an event, holding it until it is answered, and never answering one twice.
class FakeWorker : public RuntimeApiHandler {
 public:
  struct Answer {
    std::string request_id;
    std::string kind;  // "response" or "error"
    std::string type;  // content type of a response, error type of an error
    std::string body;
  };

  explicit FakeWorker(Loop& loop) : wake_(loop.io) {}

  // Hands `event` to the runtime's waiting (or next) `next`.
  void assign(NextEvent event) {
    queued_ = std::move(event);
    wake_.cancel();
  }
  // The worker is torn down: a waiting `next` is refused.
  void end() {
    ended_ = true;
    wake_.cancel();
  }

  asio::awaitable<std::optional<NextEvent>> next(RuntimeRefusal& refusal) override {
    if (waiting_ || held_) {
      refusal = RuntimeRefusal::kInvalidStateTransition;
      co_return std::nullopt;
    }
    initialised_ = true;
    waiting_ = true;
    while (!queued_ && !ended_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    waiting_ = false;
    if (ended_) {
      refusal = RuntimeRefusal::kWorkerGone;
      co_return std::nullopt;
    }
    held_ = queued_->request_id;
    auto event = std::move(queued_);
    queued_.reset();
    co_return event;
  }

  std::optional<RuntimeRefusal> response(const std::string& request_id, std::string content_type,
                                         std::string body) override {
    return answer({request_id, "response", std::move(content_type), std::move(body)});
  }

  std::optional<RuntimeRefusal> error(const std::string& request_id, std::string error_type,
                                      std::string body) override {
    return answer({request_id, "error", std::move(error_type), std::move(body)});
  }

  void response_too_large(const std::string& request_id) override {
    too_large.push_back(request_id);
    if (held_ == request_id) {
      answered_.insert(request_id);
      held_.reset();
    }
  }

  std::optional<RuntimeRefusal> init_error(std::string error_type, std::string body) override {
    if (initialised_) return RuntimeRefusal::kInvalidStateTransition;
    init_errors.push_back({"", "init/error", std::move(error_type), std::move(body)});
    return std::nullopt;
  }

  // Streamed responses go to `stream_to` when a test sets it; else they are collected.
  StreamStart stream_response(const std::string& request_id,
                              const std::string& content_type) override {
    if (!stream_to) return {};
    if (held_ != request_id) return {RuntimeRefusal::kInvalidRequestId, nullptr};
    stream_content_type = content_type;
    return {std::nullopt, stream_to};
  }

  void stream_ended(const std::string& request_id, const StreamEnd& end) override {
    answered_.insert(request_id);
    held_.reset();
    stream_ends.push_back(end);
  }

  [[nodiscard]] bool waiting() const { return waiting_; }

  std::shared_ptr<ResponseStream> stream_to;
  std::string stream_content_type;
  std::vector<StreamEnd> stream_ends;
  std::vector<Answer> answers;
  std::vector<Answer> init_errors;
  std::vector<std::string> too_large;

 private:
  std::optional<RuntimeRefusal> answer(Answer a) {
    if (answered_.count(a.request_id) > 0) return RuntimeRefusal::kInvalidStateTransition;
    if (held_ != a.request_id) return RuntimeRefusal::kInvalidRequestId;
    answered_.insert(a.request_id);
    held_.reset();
    answers.push_back(std::move(a));
    return std::nullopt;
  }

  asio::steady_timer wake_;
  std::optional<NextEvent> queued_;
  std::optional<std::string> held_;
  std::set<std::string> answered_;
  bool initialised_ = false;
  bool waiting_ = false;
  bool ended_ = false;
};

constexpr std::string_view kBase = "/2018-06-01/runtime";

NextEvent event(const std::string& id) {
  return {.request_id = id,
          .deadline_epoch_ms = 1'700'000'003'000,
          .invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:echo",
          .trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793",
          .client_context = R"({"custom":{"k":"v"}})",
          .cognito_identity = R"({"cognitoIdentityId":"id"})",
          .payload = R"({"n":1})"};
}

Request post(const std::string& path, std::string body = "{}") {
  return request(http::verb::post, std::string(kBase) + path, std::move(body));
}

// A Runtime API refusal: status and the {"errorMessage","errorType"} body.
void expect_refusal(const std::optional<Response>& res, http::status status,
                    std::string_view error_type, std::string_view message_part) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), status) << res->body();
  EXPECT_EQ(res->at(http::field::content_type), "application/json");
  const auto parsed = boost::json::parse(res->body());
  const auto* body = parsed.if_object();
  ASSERT_TRUE(body && body->contains("errorType") && body->contains("errorMessage")) << res->body();
  EXPECT_EQ(std::string(body->at("errorType").as_string()), error_type);
  const std::string message(body->at("errorMessage").as_string());
  EXPECT_NE(message.find(message_part), std::string::npos) << message;
}

void expect_accepted(const std::optional<Response>& res) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::accepted) << res->body();
  EXPECT_EQ(res->body(), R"({"status":"OK"})");
}

class RuntimeApi : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(loop_, make_runtime_api(worker_), runtime_api_limits());
    runtime_ = connect();
  }
  void TearDown() override {
    if (worker_) worker_->end();
  }

  std::unique_ptr<RawClient> connect() {
    return std::make_unique<RawClient>(loop_, server_->endpoint());
  }

  // Sends `req` on the runtime's connection and waits for the answer.
  std::optional<Response> call(const Request& req) {
    runtime_->send(wire(req));
    return runtime_->receive();
  }

  // GET next, then hands out an event with `id`: the runtime now holds it.
  void hand_out(const std::string& id) {
    runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
    ASSERT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
    worker_->assign(event(id));
    const auto res = runtime_->receive();
    ASSERT_TRUE(res) << runtime_->last_error().message();
    ASSERT_EQ(res->result(), http::status::ok);
  }

  Loop loop_;
  std::shared_ptr<FakeWorker> worker_ = std::make_shared<FakeWorker>(loop_);
  std::optional<LoopbackServer> server_;
  std::unique_ptr<RawClient> runtime_;
};

TEST_F(RuntimeApi, NextWaitsForAnEventAndHandsItOutWithLambdasHeaders) {
  runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
  ASSERT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
  auto e = event("req-1");
  e.content_type = "application/x-custom";
  worker_->assign(e);
  const auto res = runtime_->receive();
  ASSERT_TRUE(res) << runtime_->last_error().message();
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_EQ(res->at("Lambda-Runtime-Aws-Request-Id"), "req-1");
  EXPECT_EQ(res->at("Lambda-Runtime-Deadline-Ms"), "1700000003000");
  EXPECT_EQ(res->at("Lambda-Runtime-Invoked-Function-Arn"),
            "arn:aws:lambda:us-east-1:000000000000:function:echo");
  EXPECT_EQ(res->at("Lambda-Runtime-Trace-Id"), "Root=1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(res->at("Lambda-Runtime-Client-Context"), R"({"custom":{"k":"v"}})");
  EXPECT_EQ(res->at("Lambda-Runtime-Cognito-Identity"), R"({"cognitoIdentityId":"id"})");
  EXPECT_EQ(res->at(http::field::content_type), "application/x-custom");
  EXPECT_EQ(res->body(), R"({"n":1})");
  EXPECT_TRUE(res->keep_alive());
}

TEST_F(RuntimeApi, NextLeavesOutHeadersWhoseValueIsEmpty) {
  runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
  ASSERT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
  auto e = event("req-1");
  e.trace_id.clear();
  e.client_context.clear();
  e.cognito_identity.clear();
  worker_->assign(e);
  const auto res = runtime_->receive();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->count("Lambda-Runtime-Trace-Id"), 0U);
  EXPECT_EQ(res->count("Lambda-Runtime-Client-Context"), 0U);
  EXPECT_EQ(res->count("Lambda-Runtime-Cognito-Identity"), 0U);
  EXPECT_EQ(res->at("Lambda-Runtime-Aws-Request-Id"), "req-1");
}

TEST_F(RuntimeApi, QueryStringDoesNotChangeTheRoute) {
  runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next?x=1")));
  EXPECT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
}

TEST_F(RuntimeApi, SecondNextWhileOneWaitsOrWhileAnEventIsHeldIs403) {
  runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
  ASSERT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
  auto other = connect();
  other->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
  expect_refusal(other->receive(), http::status::forbidden, "InvalidStateTransition",
                 "State transition is not allowed: next while an invocation is unanswered or "
                 "another next is waiting");
  worker_->assign(event("req-1"));
  ASSERT_TRUE(runtime_->receive());
  expect_refusal(call(request(http::verb::get, std::string(kBase) + "/invocation/next")),
                 http::status::forbidden, "InvalidStateTransition", "next while");
}

TEST_F(RuntimeApi, ResponseIsAcceptedWithItsContentTypeAndBodyPassedOn) {
  hand_out("req-1");
  auto req = post("/invocation/req-1/response", "plain text");
  req.set(http::field::content_type, "text/plain");
  expect_accepted(call(req));
  ASSERT_EQ(worker_->answers.size(), 1U);
  EXPECT_EQ(worker_->answers[0].request_id, "req-1");
  EXPECT_EQ(worker_->answers[0].kind, "response");
  EXPECT_EQ(worker_->answers[0].type, "text/plain");
  EXPECT_EQ(worker_->answers[0].body, "plain text");
}

TEST_F(RuntimeApi, ResponseModeBufferedOrStreamingIsAcceptedAndAnyOtherIs400BeforeTheIdIsLookedAt) {
  hand_out("req-1");
  auto chunky = post("/invocation/req-1/response");
  chunky.set("Lambda-Runtime-Function-Response-Mode", "chunky");
  expect_refusal(call(chunky), http::status::bad_request, "InvalidFunctionResponseMode",
                 "Response mode chunky is not supported");
  auto unknown_id = post("/invocation/nope/response");
  unknown_id.set("Lambda-Runtime-Function-Response-Mode", "chunky");
  expect_refusal(call(unknown_id), http::status::bad_request, "InvalidFunctionResponseMode",
                 "chunky");
  EXPECT_TRUE(worker_->answers.empty()) << "a refused mode leaves the invocation open";
  auto buffered = post("/invocation/req-1/response");
  buffered.set("Lambda-Runtime-Function-Response-Mode", "buffered");
  expect_accepted(call(buffered));
  EXPECT_EQ(worker_->answers.size(), 1U);
  // A streamed answer (here with a Content-Length body) to a worker that takes no stream is
  // collected into an ordinary response.
  hand_out("req-2");
  auto streaming = post("/invocation/req-2/response", "whole");
  streaming.set("Lambda-Runtime-Function-Response-Mode", "streaming");
  expect_accepted(call(streaming));
  ASSERT_EQ(worker_->answers.size(), 2U);
  EXPECT_EQ(worker_->answers[1].kind, "response");
  EXPECT_EQ(worker_->answers[1].body, "whole");
}

// The head of a chunked streamed response for `id`.
std::string streamed_head(const std::string& id) {
  return "POST " + std::string(kBase) + "/invocation/" + id +
         "/response HTTP/1.1\r\nHost: runtime\r\n"
         "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
         "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
         "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";
}

// The last chunk with the error trailers of {"errorMessage":"boom"}.
constexpr std::string_view kErrorTrailers =
    "0\r\nLambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n"
    "Lambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJib29tIn0=\r\n\r\n";

TEST_F(RuntimeApi, StreamedBodyWithErrorTrailersIsCollectedIntoAnErrorWhenTheCallerWantsItWhole) {
  hand_out("req-1");
  runtime_->send(streamed_head("req-1") + "5\r\nhello\r\n" + std::string(kErrorTrailers));
  expect_accepted(runtime_->receive());
  ASSERT_EQ(worker_->answers.size(), 1U);
  EXPECT_EQ(worker_->answers[0].kind, "error");
  EXPECT_EQ(worker_->answers[0].type, "Runtime.StreamError");
  EXPECT_EQ(worker_->answers[0].body, R"({"errorMessage":"boom"})");
}

TEST_F(RuntimeApi, StreamedBodyReachesTheStreamAsItArrivesAndItsTrailersEndIt) {
  worker_->stream_to = std::make_shared<ResponseStream>(loop_.io.get_executor(), "");
  std::vector<std::string> pieces;
  asio::co_spawn(
      loop_.io,
      [&, stream = worker_->stream_to]() -> asio::awaitable<void> {
        while (auto bytes = co_await stream->read()) pieces.push_back(*bytes);
      },
      asio::detached);
  hand_out("req-1");
  runtime_->send(streamed_head("req-1") + "3\r\none\r\n");
  // The first chunk is there before the runtime has sent the second.
  ASSERT_TRUE(loop_.run_until([&] { return !pieces.empty(); }));
  EXPECT_EQ(pieces, std::vector<std::string>{"one"});
  EXPECT_EQ(worker_->stream_content_type, "text/plain");
  EXPECT_TRUE(worker_->stream_ends.empty());
  runtime_->send("3\r\ntwo\r\n" + std::string(kErrorTrailers));
  expect_accepted(runtime_->receive());
  EXPECT_EQ(pieces, (std::vector<std::string>{"one", "two"}));
  ASSERT_EQ(worker_->stream_ends.size(), 1U);
  EXPECT_EQ(worker_->stream_ends[0].error_type, "Runtime.StreamError");
  EXPECT_EQ(worker_->stream_ends[0].error_details, R"({"errorMessage":"boom"})");
  EXPECT_TRUE(worker_->answers.empty());
}

TEST_F(RuntimeApi, StreamedBodyCutBeforeItsLastChunkIsATruncatedResponse) {
  worker_->stream_to = std::make_shared<ResponseStream>(loop_.io.get_executor(), "");
  hand_out("req-1");
  runtime_->send(streamed_head("req-1") + "3\r\none\r\n");
  ASSERT_TRUE(runtime_->finish_sending() == boost::system::error_code{});
  runtime_.reset();  // the runtime's connection closes mid-body
  ASSERT_TRUE(loop_.run_until([&] { return !worker_->stream_ends.empty(); }));
  EXPECT_EQ(worker_->stream_ends[0].error_type, "Runtime.TruncatedResponse");
}

TEST_F(RuntimeApi, SecondAnswerForAnIdIs403AndAnUnknownIdIs400) {
  hand_out("req-1");
  expect_accepted(call(post("/invocation/req-1/response")));
  expect_refusal(call(post("/invocation/req-1/response")), http::status::forbidden,
                 "InvalidStateTransition", "State transition is not allowed: req-1");
  expect_refusal(call(post("/invocation/req-1/error")), http::status::forbidden,
                 "InvalidStateTransition", "req-1");
  expect_refusal(call(post("/invocation/not-a-real-id/response")), http::status::bad_request,
                 "InvalidRequestID", "Invalid request ID: not-a-real-id");
  expect_refusal(call(post("/invocation/not-a-real-id/error")), http::status::bad_request,
                 "InvalidRequestID", "Invalid request ID: not-a-real-id");
  EXPECT_EQ(worker_->answers.size(), 1U);
}

TEST_F(RuntimeApi, ErrorIsAcceptedWithItsTypeNormalisedAndItsBodyPassedOn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Runtime.NoSuchHandler", "Runtime.NoSuchHandler"},
      {"Function.MyError", "Function.MyError"},
      {"Unhandled", "Runtime.Unknown"},
      {"FunctionBroke", "Function.Unknown"},
      {"", "Runtime.Unknown"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [header, type] = cases[i];
    SCOPED_TRACE(header);
    const std::string id = "req-" + std::to_string(i);
    hand_out(id);
    auto req = post("/invocation/" + id + "/error", R"({"errorMessage":"m","errorType":"T"})");
    if (!header.empty()) req.set("Lambda-Runtime-Function-Error-Type", header);
    expect_accepted(call(req));
    ASSERT_EQ(worker_->answers.size(), i + 1);
    EXPECT_EQ(worker_->answers[i].kind, "error");
    EXPECT_EQ(worker_->answers[i].type, type);
    EXPECT_EQ(worker_->answers[i].body, R"({"errorMessage":"m","errorType":"T"})");
  }
}

TEST(RuntimeApiErrorType, KeepsCategoryReasonAndNormalisesTheRest) {
  EXPECT_EQ(normalise_error_type("Runtime.ImportModuleError"), "Runtime.ImportModuleError");
  EXPECT_EQ(normalise_error_type("Function.MyError"), "Function.MyError");
  EXPECT_EQ(normalise_error_type("Unhandled"), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("FunctionBroken"), "Function.Unknown");
  EXPECT_EQ(normalise_error_type(""), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("Runtime.lowercase"), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("Other.Reason"), "Runtime.Unknown");
  EXPECT_EQ(normalise_error_type("Runtime.Two.Dots"), "Runtime.Unknown");
}

TEST(RuntimeApiErrorBody, ItsMessageIsReadBackOrTheFallbackWhenItIsNotOne) {
  EXPECT_EQ(error_message_of(error_body("T", "m \"quoted\""), "none"), "m \"quoted\"");
  EXPECT_EQ(error_message_of(R"({"errorType":"T"})", "none"), "none");
  EXPECT_EQ(error_message_of(R"({"errorMessage":7})", "none"), "none");
  EXPECT_EQ(error_message_of(R"(["errorMessage"])", "none"), "none");
  EXPECT_EQ(error_message_of("", "none"), "none");
  // Without a fallback: the text itself.
  EXPECT_EQ(error_message_of("Traceback: not JSON"), "Traceback: not JSON");
  EXPECT_EQ(error_message_of(R"({"errorMessage":"m"})"), "m");
}

TEST(RuntimeApiTraceId, HasXRaysFormAndDiffersEachTime) {
  const std::string id = new_trace_id();
  EXPECT_TRUE(std::regex_match(
      id, std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0")))
      << id;
  EXPECT_NE(new_trace_id(), id);
}

TEST_F(RuntimeApi, InitErrorIsAcceptedBeforeTheFirstNextAndRefusedAfter) {
  auto req = post("/init/error", R"({"errorMessage":"no handler","errorType":"x"})");
  req.set("Lambda-Runtime-Function-Error-Type", "Runtime.NoSuchHandler");
  expect_accepted(call(req));
  ASSERT_EQ(worker_->init_errors.size(), 1U);
  EXPECT_EQ(worker_->init_errors[0].type, "Runtime.NoSuchHandler");
  EXPECT_EQ(worker_->init_errors[0].body, R"({"errorMessage":"no handler","errorType":"x"})");

  hand_out("req-1");
  expect_refusal(call(post("/init/error")), http::status::forbidden, "InvalidStateTransition",
                 "State transition is not allowed: init/error after initialisation finished");
  EXPECT_EQ(worker_->init_errors.size(), 1U);
}

TEST_F(RuntimeApi, ResponseOver6MBIs413AndEndsTheInvocation) {
  hand_out("req-1");
  runtime_->send(wire(post("/invocation/req-1/response", std::string(kMaxPayloadBytes + 1, 'x'))));
  expect_refusal(runtime_->receive(), http::status::payload_too_large, "RequestEntityTooLarge",
                 "Request must be smaller than 6291456 bytes for the invoke operation");
  EXPECT_TRUE(runtime_->wait_closed());
  EXPECT_EQ(worker_->too_large, std::vector<std::string>{"req-1"});
  EXPECT_TRUE(worker_->answers.empty());
}

TEST_F(RuntimeApi, ErrorOver6MBIs413AndDoesNotEndTheInvocation) {
  hand_out("req-1");
  runtime_->send(wire(post("/invocation/req-1/error", std::string(kMaxPayloadBytes + 1, 'x'))));
  expect_refusal(runtime_->receive(), http::status::payload_too_large, "RequestEntityTooLarge",
                 "6291456");
  EXPECT_TRUE(worker_->too_large.empty());
  auto again = connect();
  again->send(wire(post("/invocation/req-1/error", "{}")));
  expect_accepted(again->receive());
}

TEST_F(RuntimeApi, ResponseOfExactly6MBIsAccepted) {
  hand_out("req-1");
  expect_accepted(call(post("/invocation/req-1/response", std::string(kMaxPayloadBytes, 'x'))));
  ASSERT_EQ(worker_->answers.size(), 1U);
  EXPECT_EQ(worker_->answers[0].body.size(), kMaxPayloadBytes);
}

TEST_F(RuntimeApi, OtherMethodsAndPathsAre404InvalidUri) {
  const std::vector<Request> cases = {
      request(http::verb::post, std::string(kBase) + "/invocation/next"),
      request(http::verb::get, std::string(kBase) + "/init/error"),
      request(http::verb::get, std::string(kBase) + "/invocation/req-1/response"),
      post("/invocation/req-1/other"),
      post("/invocation//response"),
      post("/invocation/req-1"),
      post("/something"),
      request(http::verb::get, "/2020-01-01/extension/event/next"),
      request(http::verb::get, "/"),
  };
  for (const auto& req : cases) {
    SCOPED_TRACE(req.target());
    expect_refusal(call(req), http::status::not_found, "InvalidURI",
                   "No Runtime API route for " + std::string(req.method_string()) + " " +
                       std::string(req.target()));
  }
  EXPECT_TRUE(worker_->answers.empty());
}

TEST_F(RuntimeApi, MalformedRequestIs400InvalidRequest) {
  runtime_->send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: x\r\n\r\n");
  expect_refusal(runtime_->receive(), http::status::bad_request, "InvalidRequest",
                 "bad Content-Length");
  EXPECT_TRUE(runtime_->wait_closed());
}

TEST_F(RuntimeApi, NextWaitingWhenTheWorkerEndsIs500) {
  runtime_->send(wire(request(http::verb::get, std::string(kBase) + "/invocation/next")));
  ASSERT_TRUE(loop_.run_until([&] { return worker_->waiting(); }));
  worker_->end();
  expect_refusal(runtime_->receive(), http::status::internal_server_error, "ServiceException",
                 "The worker is shutting down");
}

TEST_F(RuntimeApi, EveryCallAfterTheWorkerIsGoneIs500AndClosesTheConnection) {
  worker_.reset();
  for (const auto& req : {request(http::verb::get, std::string(kBase) + "/invocation/next"),
                          post("/invocation/req-1/response"), post("/init/error")}) {
    SCOPED_TRACE(req.target());
    auto client = connect();
    client->send(wire(req));
    expect_refusal(client->receive(), http::status::internal_server_error, "ServiceException",
                   "The worker is shutting down");
    EXPECT_TRUE(client->wait_closed());
  }
}

TEST(RuntimeApiLimits, BodiesUpTo6MBAndNoIdleLimitShorterThanTheLongestInvocation) {
  const auto limits = runtime_api_limits();
  EXPECT_EQ(limits.body_bytes, kMaxPayloadBytes);
  // A runtime may hold its connection through a whole 900 s invocation before answering.
  EXPECT_GT(limits.idle, std::chrono::seconds(900));
}

}  // namespace
}  // namespace ember::runtime_api::test
