// The real clients work unchanged against a node: AWS CLI v2 and v1, boto3, ember invoke.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "../support/eventually.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

const char* kSeedPayload = R"({"key1":"value1","key2":"value2","key3":"value3"})";

FunctionSpec hello() {
  return {.name = "hello", .code = source_dir() / "examples" / "hello-python"};
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AwsCliV2, SeedExampleReturnsValue1AndLogsOneColdThenOneWarmReport) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const auto out = node.dir() / "out.json";
  auto invoke = [&] {
    return run({"/usr/bin/aws", "lambda", "invoke", "--endpoint-url", node.endpoint(),
                "--function-name", "hello", "--cli-binary-format", "raw-in-base64-out", "--payload",
                kSeedPayload, out.string()},
               Node::aws_env());
  };
  auto first = invoke();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("\"StatusCode\": 200"), std::string::npos) << first.out;
  EXPECT_EQ(read(out), "\"value1\"");

  auto logs = node.logs("hello");
  EXPECT_EQ(count(logs, "Loading function\n"), 1U) << logs;
  EXPECT_EQ(count(logs, "value1 = value1\n"), 1U);
  EXPECT_EQ(count(logs, "value2 = value2\n"), 1U);
  EXPECT_EQ(count(logs, "value3 = value3\n"), 1U);
  EXPECT_EQ(count(logs, "START RequestId: "), 1U);
  EXPECT_EQ(count(logs, "END RequestId: "), 1U);
  EXPECT_EQ(count(logs, "REPORT RequestId: "), 1U);
  EXPECT_EQ(count(logs, "\tInit Duration: "), 1U);
  // Printed lines sit between START and END, in order.
  EXPECT_LT(logs.find("Loading function"), logs.find("START"));
  EXPECT_LT(logs.find("START"), logs.find("value1 = "));
  EXPECT_LT(logs.find("value3 = "), logs.find("END"));
  EXPECT_TRUE(std::regex_search(
      logs, std::regex("REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9]+\\.[0-9]{2} ms\t"
                       "Billed Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: "
                       "[1-9][0-9]* MB\tInit Duration: [0-9]+\\.[0-9]{2} ms\t\n")))
      << logs;

  auto second = invoke();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  logs = node.logs("hello");
  EXPECT_EQ(count(logs, "REPORT RequestId: "), 2U);
  EXPECT_EQ(count(logs, "\tInit Duration: "), 1U) << "the warm invoke must not report init";
  EXPECT_EQ(node.log_stream_count("hello"), 1U) << "the second invoke reuses the warm worker";
}

TEST(AwsCliV2, LogTypeTailReturnsTheInvocationsLog) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const auto out = node.dir() / "out.json";
  auto result =
      run({"/usr/bin/aws", "lambda", "invoke", "--endpoint-url", node.endpoint(), "--function-name",
           "hello", "--cli-binary-format", "raw-in-base64-out", "--payload", kSeedPayload,
           "--log-type", "Tail", "--query", "LogResult", "--output", "text", out.string()},
          Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto decoded = run({"/usr/bin/python3", "-c",
                      "import base64,sys; print(base64.b64decode(sys.argv[1]).decode())",
                      result.out.substr(0, result.out.find('\n'))});
  EXPECT_NE(decoded.out.find("START RequestId: "), std::string::npos) << decoded.out;
  EXPECT_NE(decoded.out.find("value2 = value2"), std::string::npos);
  EXPECT_NE(decoded.out.find("REPORT RequestId: "), std::string::npos);
}

TEST(AwsCliV1, InvokesWithTheOlderClientToo) {
  auto which = run({"/bin/sh", "-c", "command -v aws"});
  std::string aws = which.out.substr(0, which.out.find('\n'));
  if (which.exit_code != 0 || aws.empty()) GTEST_SKIP() << "no aws on PATH";
  auto version = run({aws, "--version"}, Node::aws_env());
  if ((version.out + version.err).find("aws-cli/1.") == std::string::npos) {
    GTEST_SKIP() << "the aws first on PATH is not v1: " << version.out << version.err;
  }
  Node node({hello()});
  const auto out = node.dir() / "out.json";
  // v1 sends --payload as given; no --cli-binary-format.
  auto result = run({aws, "lambda", "invoke", "--endpoint-url", node.endpoint(), "--function-name",
                     "hello", "--payload", kSeedPayload, "--log-type", "Tail", out.string()},
                    Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read(out), "\"value1\"");
  EXPECT_NE(result.out.find("LogResult"), std::string::npos) << result.out;
}

TEST(Boto3, InvokeWithTailReturnsPayloadAndDecodedLog) {
  if (run({"/usr/bin/python3", "-c", "import boto3"}).exit_code != 0) {
    GTEST_SKIP() << "python3-boto3 missing";
  }
  Node node({hello()});
  const std::string script = R"(
import base64, json, sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1])
r = client.invoke(FunctionName="hello", LogType="Tail",
                  Payload=json.dumps({"key1": "value1", "key2": "value2", "key3": "value3"}))
print(r["StatusCode"], r["ExecutedVersion"], "FunctionError" in r)
print(r["Payload"].read().decode())
print(base64.b64decode(r["LogResult"]).decode())
)";
  auto result = run({"/usr/bin/python3", "-c", script, node.endpoint()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("200 $LATEST False\n\"value1\"\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("START RequestId: "), std::string::npos);
  EXPECT_NE(result.out.find("value3 = value3"), std::string::npos);
  EXPECT_NE(result.out.find("\tInit Duration: "), std::string::npos);
}

TEST(Boto3, FunctionErrorAndServiceErrorsMapToWhatBotocoreExpects) {
  if (run({"/usr/bin/python3", "-c", "import boto3"}).exit_code != 0) {
    GTEST_SKIP() << "python3-boto3 missing";
  }
  Node node({{.name = "raises", .code = testcases_dir() / "python" / "raises"}});
  const std::string script = R"(
import json, sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1])
r = client.invoke(FunctionName="raises", Payload=b"{}")
body = json.loads(r["Payload"].read())
print(r["FunctionError"], body["errorType"], body["errorMessage"], len(body["stackTrace"]))
try:
    client.invoke(FunctionName="nope", Payload=b"{}")
except client.exceptions.ResourceNotFoundException as e:
    print("not found:", e.response["Error"]["Message"])
)";
  auto result = run({"/usr/bin/python3", "-c", script, node.endpoint()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Unhandled ValueError something broke 2"), std::string::npos)
      << result.out;
  EXPECT_NE(
      result.out.find(
          "not found: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"),
      std::string::npos)
      << result.out;
}

TEST(EmberInvoke, PrintsResultAndDecodedLogTail) {
  Node node({hello()});
  auto result = run({ember_exe().string(), "invoke", "hello", "--endpoint", node.endpoint(),
                     "--payload", kSeedPayload, "--log-tail"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "\"value1\"\n");
  EXPECT_NE(result.err.find("value1 = value1"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("REPORT RequestId: "), std::string::npos);
}

TEST(EmberInvoke, FunctionErrorExitsOneAndServiceErrorTwo) {
  Node node({{.name = "raises", .code = testcases_dir() / "python" / "raises"}});
  auto failed = run({ember_exe().string(), "invoke", "raises", "--endpoint", node.endpoint()});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.out.find("\"errorType\": \"ValueError\""), std::string::npos) << failed.out;
  EXPECT_NE(failed.err.find("function error (Unhandled)"), std::string::npos) << failed.err;
  auto missing = run({ember_exe().string(), "invoke", "nope", "--endpoint", node.endpoint()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("HTTP 404 ResourceNotFoundException"), std::string::npos)
      << missing.err;
}

TEST(EmberInvoke, EventPrintsTheAcceptedRequestIdAndTheEventRuns) {
  Node node({hello()});
  auto result = run({ember_exe().string(), "invoke", "hello", "--endpoint", node.endpoint(),
                     "--payload", kSeedPayload, "--event"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_TRUE(result.out.starts_with("accepted: request ")) << result.out;
  const std::string id = result.out.substr(18, 36);
  EXPECT_TRUE(eventually([&] { return node.log_stream_count("hello") == 1; }));
  EXPECT_TRUE(eventually([&] {
    return node.logs("hello").find("END RequestId: " + id) != std::string::npos;
  })) << node.logs("hello");
}

}  // namespace
}  // namespace ember::test
