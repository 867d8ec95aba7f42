// The Invoke API's answers, checked over real HTTP against a real node.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <string>

#include "../support/eventually.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

FunctionSpec echo() { return {.name = "echo", .code = testcases_dir() / "python" / "echo"}; }

boost::json::object json_object(const std::string& text) {
  return boost::json::parse(text).as_object();
}

TEST(InvokeApi, RequestResponseReturnsPayloadWithLambdaHeaders) {
  Node node({echo()});
  const auto reply = node.invoke("echo", R"({"a":[1,2,3]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(boost::json::parse(reply.body), boost::json::parse(R"({"a":[1,2,3]})"));
  EXPECT_EQ(reply.header("x-amz-executed-version"), "$LATEST");
  EXPECT_EQ(reply.header("x-amzn-requestid").size(), 36U);
  EXPECT_EQ(reply.header("x-amz-function-error"), "");
  EXPECT_EQ(reply.header("x-amz-log-result"), "") << "no tail unless asked for";
}

// A slow-loris: 2,000 connections from one address, each holding a request head it never
// finishes. Another client's invocations are still served: the attacker gets only its
// address's share of the connections, and each of those is cut at the header limit.
TEST(InvokeApi, ASlowLorisFromOneClientDoesNotStopAnothersInvocations) {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  constexpr rlim_t kNeeded = 2'000 + 256;
  if (files.rlim_cur < kNeeded) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 8192);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  ASSERT_GE(files.rlim_cur, kNeeded);
  Node node({echo()});
  const auto port =
      static_cast<std::uint16_t>(std::stoi(node.endpoint().substr(node.endpoint().rfind(':') + 1)));
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in attacker{};
  attacker.sin_family = AF_INET;
  attacker.sin_addr.s_addr = htonl(0x7F000002);  // 127.0.0.2: another client of this host
  const std::string partial =
      "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  std::vector<isolation::UniqueFd> held;
  for (int i = 0; i < 2'000; ++i) {
    isolation::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&attacker), sizeof attacker), 0);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
      continue;  // a full backlog refuses some; the rest hold their slots
    }
    (void)::send(fd.get(), partial.data(), partial.size(), MSG_NOSIGNAL);
    held.push_back(std::move(fd));
  }
  ASSERT_GT(held.size(), 1'024U) << "the attack did not reach the node's connection cap";
  for (int i = 0; i < 20; ++i) {
    const auto reply = node.invoke("echo", R"({"i":)" + std::to_string(i) + "}");
    ASSERT_EQ(reply.status, 200) << "invocation " << i << " during the slow-loris: " << reply.body;
  }
}

TEST(InvokeApi, AcceptsNameQualifierArnAndUrlEncodedForms) {
  Node node({echo()});
  for (const std::string path :
       {"echo", "echo:$LATEST", "echo%3A%24LATEST", "echo?Qualifier=%24LATEST",
        "arn:aws:lambda:us-east-1:000000000000:function:echo",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho",
        "000000000000:function:echo"}) {
    EXPECT_EQ(node.invoke(path, "{}").status, 200) << path;
  }
}

TEST(InvokeApi, UnknownFunctionQualifierOrAccountIs404) {
  Node node({echo()});
  for (const std::string path :
       {"nope", "echo:7", "arn:aws:lambda:us-east-1:111111111111:function:echo",
        "arn:aws:lambda:eu-west-1:000000000000:function:echo"}) {
    const auto reply = node.invoke(path, "{}");
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.header("x-amzn-errortype"), "ResourceNotFoundException");
    const auto body = json_object(reply.body);
    EXPECT_EQ(body.at("Type"), "User");
    EXPECT_NE(
        std::string(body.at("Message").as_string()).find("Function not found: arn:aws:lambda:"),
        std::string::npos);
  }
}

TEST(InvokeApi, MalformedFunctionNameIs400) {
  Node node({echo()});
  const auto reply = node.invoke("bad%20name", "{}");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.header("x-amzn-errortype"), "InvalidParameterValueException");
}

TEST(InvokeApi, PayloadThatIsNotJsonIs400) {
  Node node({echo()});
  const auto reply = node.invoke("echo", "{not json");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.header("x-amzn-errortype"), "InvalidRequestContentException");
  EXPECT_NE(reply.body.find("Could not parse request body into json"), std::string::npos);
}

TEST(InvokeApi, EmptyPayloadIsAnEmptyObject) {
  Node node({echo()});
  const auto reply = node.invoke("echo", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{}");
}

TEST(InvokeApi, PayloadOver6MBIs413AndTheNodeKeepsServing) {
  Node node({echo()});
  const std::string big = "\"" + std::string(6 * 1024 * 1024, 'x') + "\"";
  const auto reply = node.invoke("echo", big);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(reply.header("x-amzn-errortype"), "RequestTooLargeException");
  // Just under the limit still goes through.
  const std::string fits = "\"" + std::string(6 * 1024 * 1024 - 2, 'y') + "\"";
  const auto ok = node.invoke("echo", fits);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.size(), fits.size());
}

TEST(InvokeApi, DryRunIs204AndStartsNothing) {
  Node node({echo()});
  const auto reply = node.invoke("echo", "{}", {"X-Amz-Invocation-Type: DryRun"});
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(node.log_stream_count("echo"), 0U);
  EXPECT_EQ(node.invoke("nope", "{}", {"X-Amz-Invocation-Type: DryRun"}).status, 404);
}

TEST(InvokeApi, EventInvocationIsAcceptedWith202AndThenRuns) {
  Node node({echo()});
  const auto reply = node.invoke("echo", R"({"k":1})", {"X-Amz-Invocation-Type: Event"});
  EXPECT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.body, "");
  EXPECT_TRUE(eventually([&] { return node.log_stream_count("echo") == 1; }))
      << "the accepted event never ran";
}

TEST(InvokeApi, BadInvocationTypeOrLogTypeIs400) {
  Node node({echo()});
  EXPECT_EQ(node.invoke("echo", "{}", {"X-Amz-Invocation-Type: Sometimes"}).status, 400);
  EXPECT_EQ(node.invoke("echo", "{}", {"X-Amz-Log-Type: Everything"}).status, 400);
}

TEST(InvokeApi, ClientContextReachesTheFunctionDecoded) {
  Node node({{.name = "context", .code = testcases_dir() / "python" / "context"}});
  // base64 of {"custom":{"k":"v"},"env":{"e":"1"},"client":{"c":"2"}}
  const auto reply =
      node.invoke("context", "{}",
                  {"X-Amz-Client-Context: "
                   "eyJjdXN0b20iOnsiayI6InYifSwiZW52Ijp7ImUiOiIxIn0sImNsaWVudCI6eyJjIjoiMiJ9fQ=="});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("\"k\": \"v\""), std::string::npos) << reply.body;
  const auto bad = node.invoke("context", "{}", {"X-Amz-Client-Context: not base64!"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Client context must be a valid Base64-encoded JSON object"),
            std::string::npos);
}

TEST(InvokeApi, FunctionSeesTheLambdaContextAndEnvironment) {
  Node node({{.name = "context",
              .code = testcases_dir() / "python" / "context",
              .timeout_s = 7,
              .memory_mb = 256}});
  const auto reply = node.invoke("context", "{}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto body = json_object(reply.body);
  EXPECT_EQ(body.at("function_name"), "context");
  EXPECT_EQ(body.at("function_version"), "$LATEST");
  // A string, as Lambda's Python runtime gives it.
  EXPECT_EQ(body.at("memory_limit_in_mb"), "256");
  EXPECT_EQ(body.at("invoked_function_arn"),
            "arn:aws:lambda:us-east-1:000000000000:function:context");
  EXPECT_EQ(std::string(body.at("aws_request_id").as_string()), reply.header("x-amzn-requestid"));
  EXPECT_EQ(body.at("log_group_name"), "/aws/lambda/context");
  const auto remaining = body.at("remaining_ms").to_number<double>();
  EXPECT_GT(remaining, 5000);
  EXPECT_LE(remaining, 7000);
  EXPECT_TRUE(body.at("tenant_id").is_null());
  EXPECT_TRUE(body.at("identity").at("cognito_identity_id").is_null());
  EXPECT_TRUE(body.at("client_context").is_null());

  const auto& env = body.at("env").as_object();
  EXPECT_EQ(env.at("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "256");
  EXPECT_EQ(env.at("AWS_LAMBDA_LOG_GROUP_NAME"), body.at("log_group_name"));
  EXPECT_EQ(env.at("AWS_LAMBDA_LOG_STREAM_NAME"), body.at("log_stream_name"));
  EXPECT_TRUE(std::regex_match(std::string(body.at("log_stream_name").as_string()),
                               std::regex(R"(\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32})")))
      << body.at("log_stream_name");
  // Text logs: Lambda gives the format, and a level only with JSON.
  EXPECT_EQ(env.at("AWS_LAMBDA_LOG_FORMAT"), "Text");
  EXPECT_TRUE(env.at("AWS_LAMBDA_LOG_LEVEL").is_null());
  // Each invocation's own X-Ray trace header.
  const std::string trace(env.at("_X_AMZN_TRACE_ID").as_string());
  EXPECT_TRUE(std::regex_match(
      trace, std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0")))
      << trace;
  const auto again = json_object(node.invoke("context", "{}").body);
  EXPECT_NE(std::string(again.at("env").as_object().at("_X_AMZN_TRACE_ID").as_string()), trace);
}

TEST(InvokeApi, JsonLoggingGivesTheFunctionItsFormatAndLevel) {
  Node node({{.name = "context",
              .code = testcases_dir() / "python" / "context",
              .logging = {.format = "json", .application_log_level = "debug"}}});
  const auto reply = node.invoke("context", "{}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto body = json_object(reply.body);
  const auto& env = body.at("env").as_object();
  EXPECT_EQ(env.at("AWS_LAMBDA_LOG_FORMAT"), "JSON");
  EXPECT_EQ(env.at("AWS_LAMBDA_LOG_LEVEL"), "DEBUG");
}

}  // namespace
}  // namespace ember::test
