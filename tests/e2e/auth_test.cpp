// node.auth with `mode: sigv4` against the real clients: AWS CLI v2 and v1, boto3, curl and
// ember's own invoke and ps. Right keys are served; a wrong secret, an unknown key, a key not
// allowed for the function and an unsigned request get Lambda's errors.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "harness.hpp"

namespace ember::test {
namespace {

constexpr const char* kAdminKey = "AKIDADMIN";
constexpr const char* kAdminSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kHelloKey = "AKIDHELLO";
constexpr const char* kHelloSecret = "hello-only-s3cret";
const char* kPayload = R"({"key1":"value1","key2":"value2","key3":"value3"})";

std::vector<FunctionSpec> functions() {
  const auto code = source_dir() / "examples" / "hello-python";
  return {{.name = "hello", .code = code}, {.name = "other", .code = code}};
}

NodeSettings sigv4() {
  NodeSettings settings;
  settings.auth.mode = "sigv4";
  settings.auth.credentials = {{kAdminKey, kAdminSecret, {"*"}},
                               {kHelloKey, kHelloSecret, {"hello"}}};
  return settings;
}

std::map<std::string, std::string> env_with(const std::string& key, const std::string& secret) {
  auto env = Node::aws_env();
  env["AWS_ACCESS_KEY_ID"] = key;
  env["AWS_SECRET_ACCESS_KEY"] = secret;
  return env;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first program of that name on PATH; empty when there is none.
std::string on_path(const std::string& name) {
  auto which = run({"/bin/sh", "-c", "command -v " + name});
  return which.exit_code == 0 ? which.out.substr(0, which.out.find('\n')) : std::string();
}

// The AWS CLI's checks, for v2 (`v2` true, needs --cli-binary-format) and v1.
void check_aws_cli(const std::string& aws, bool v2) {
  Node node(functions(), sigv4());
  const auto out = node.dir() / "out.json";
  auto invoke = [&](const std::string& function, const std::map<std::string, std::string>& env,
                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{
        aws,      "lambda",    "invoke", "--endpoint-url", node.endpoint(), "--function-name",
        function, "--payload", kPayload};
    if (v2) argv.insert(argv.end(), {"--cli-binary-format", "raw-in-base64-out"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(out.string());
    return run(argv, env);
  };
  const auto admin = env_with(kAdminKey, kAdminSecret);
  auto ok = invoke("hello", admin);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read(out), "\"value1\"");
  // A qualified name: the path holds %3A and %24, which the CLI signs encoded once more.
  auto qualified = invoke("other:$LATEST", admin);
  EXPECT_EQ(qualified.exit_code, 0) << qualified.err;
  auto event = invoke("hello", admin, {"--invocation-type", "Event"});
  EXPECT_EQ(event.exit_code, 0) << event.err;
  EXPECT_NE(event.out.find("202"), std::string::npos) << event.out;
  auto limited = invoke("hello", env_with(kHelloKey, kHelloSecret));
  EXPECT_EQ(limited.exit_code, 0) << limited.err;

  auto wrong_secret = invoke("hello", env_with(kAdminKey, "not-the-secret"));
  EXPECT_NE(wrong_secret.exit_code, 0);
  EXPECT_NE(wrong_secret.err.find("(InvalidSignatureException)"), std::string::npos)
      << wrong_secret.err;
  EXPECT_NE(wrong_secret.err.find("The request signature we calculated does not match"),
            std::string::npos)
      << wrong_secret.err;
  auto wrong_event =
      invoke("hello", env_with(kAdminKey, "not-the-secret"), {"--invocation-type", "Event"});
  EXPECT_NE(wrong_event.err.find("(InvalidSignatureException)"), std::string::npos)
      << wrong_event.err;
  auto unknown = invoke("hello", env_with("AKIDNOBODY", kAdminSecret));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("(UnrecognizedClientException)"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("The security token included in the request is invalid."),
            std::string::npos)
      << unknown.err;
  auto denied = invoke("other", env_with(kHelloKey, kHelloSecret));
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("(AccessDeniedException)"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("function:other"), std::string::npos) << denied.err;
  auto elsewhere = invoke("hello", [&] {
    auto env = admin;
    env["AWS_DEFAULT_REGION"] = "eu-west-1";
    return env;
  }());
  EXPECT_NE(elsewhere.err.find("(InvalidSignatureException)"), std::string::npos) << elsewhere.err;
  EXPECT_NE(elsewhere.err.find("not 'eu-west-1'"), std::string::npos) << elsewhere.err;

  // Only the signed calls ran: the node's log has two invocations of hello... and the event.
  EXPECT_EQ(node.stdout_text().find(kAdminSecret), std::string::npos);
  EXPECT_EQ(node.stdout_text().find(kHelloSecret), std::string::npos);
}

TEST(SigV4AwsCliV2, RightKeysInvokeAndWrongOnesGetLambdasErrors) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  check_aws_cli("/usr/bin/aws", true);
}

TEST(SigV4AwsCliV1, RightKeysInvokeAndWrongOnesGetLambdasErrors) {
  const std::string aws = on_path("aws");
  if (aws.empty()) GTEST_SKIP() << "no aws on PATH";
  auto version = run({aws, "--version"}, Node::aws_env());
  if ((version.out + version.err).find("aws-cli/1.") == std::string::npos) {
    GTEST_SKIP() << "the aws first on PATH is not v1: " << version.out << version.err;
  }
  check_aws_cli(aws, false);
}

// The control plane under node.auth: only a key that may invoke every function ("*")
// manages functions, and an upload's signature is checked against its body.
void check_control_plane(const std::string& aws, bool v2) {
  Node node(functions(), sigv4());
  const auto zip = node.dir() / "f.zip";
  const auto made = run({"python3", "-c",
                         "import sys, zipfile\n"
                         "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
                         "    z.writestr('lambda_function.py',\n"
                         "               'def lambda_handler(event, context):\\n'\n"
                         "               '    return \"made\"\\n')\n",
                         zip.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto lambda = [&](std::vector<std::string> args,
                          const std::map<std::string, std::string>& env) {
    args.insert(args.begin(), {aws, "lambda", "--endpoint-url", node.endpoint()});
    return run(args, env);
  };
  const auto create = [&](const std::string& name, const std::map<std::string, std::string>& env) {
    return lambda({"create-function", "--function-name", name, "--runtime", "python3.11",
                   "--handler", "lambda_function.lambda_handler", "--role",
                   "arn:aws:iam::000000000000:role/any", "--zip-file", "fileb://" + zip.string()},
                  env);
  };
  const auto admin = env_with(kAdminKey, kAdminSecret);
  const auto limited = env_with(kHelloKey, kHelloSecret);
  auto denied = create("by-hello", limited);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("(AccessDeniedException)"), std::string::npos) << denied.err;
  auto forged = create("forged", env_with(kAdminKey, "not-the-secret"));
  EXPECT_NE(forged.err.find("(InvalidSignatureException)"), std::string::npos) << forged.err;
  auto listed = lambda({"list-functions"}, limited);
  EXPECT_NE(listed.err.find("(AccessDeniedException)"), std::string::npos) << listed.err;

  auto created = create("made", admin);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto out = node.dir() / "out.json";
  std::vector<std::string> invoke{"invoke", "--function-name", "made"};
  if (v2) invoke.insert(invoke.end(), {"--cli-binary-format", "raw-in-base64-out"});
  invoke.push_back(out.string());
  auto ran = lambda(invoke, admin);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(read(out), "\"made\"");
  for (const char* refused : {"by-hello", "forged"}) {
    auto got = lambda({"get-function", "--function-name", refused}, admin);
    EXPECT_NE(got.err.find("(ResourceNotFoundException)"), std::string::npos)
        << refused << ": " << got.err;
  }
}

TEST(SigV4AwsCliV2, TheControlPlaneNeedsAKeyAllowedEveryFunction) {
  if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  check_control_plane("/usr/bin/aws", true);
}

TEST(SigV4AwsCliV1, TheControlPlaneNeedsAKeyAllowedEveryFunction) {
  const std::string aws = on_path("aws");
  if (aws.empty()) GTEST_SKIP() << "no aws on PATH";
  auto version = run({aws, "--version"}, Node::aws_env());
  if ((version.out + version.err).find("aws-cli/1.") == std::string::npos) {
    GTEST_SKIP() << "the aws first on PATH is not v1: " << version.out << version.err;
  }
  check_control_plane(aws, false);
}

TEST(SigV4Boto3, InvokeStreamingAndEachRefusalAsBotocoreRaisesThem) {
  const std::string python = on_path("python3");
  if (python.empty() || run({python, "-c", "import boto3"}).exit_code != 0) {
    GTEST_SKIP() << "no python3 with boto3 on PATH";
  }
  Node node(functions(), sigv4());
  const std::string script = R"(
import datetime, json, sys
from unittest import mock
import boto3, botocore.auth
endpoint = sys.argv[1]
def client(key, secret, region="us-east-1"):
    return boto3.client("lambda", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret)
def attempt(name, call):
    try:
        call()
        print(name, "ok")
    except Exception as e:
        err = getattr(e, "response", {}).get("Error", {})
        status = getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        print(name, status, err.get("Code"), err.get("Message"))
admin = client("AKIDADMIN", sys.argv[2])
payload = json.dumps({"key1": "value1", "key2": "value2", "key3": "value3"})
r = admin.invoke(FunctionName="hello", Payload=payload)
print("invoke", r["StatusCode"], r["Payload"].read().decode())
arn = "arn:aws:lambda:us-east-1:000000000000:function:other:$LATEST"
print("arn", admin.invoke(FunctionName=arn, Payload=payload)["StatusCode"])
print("event", admin.invoke(FunctionName="hello", InvocationType="Event", Payload=payload)["StatusCode"])
s = admin.invoke_with_response_stream(FunctionName="hello", Payload=payload)
print("stream", b"".join(e["PayloadChunk"]["Payload"] for e in s["EventStream"] if "PayloadChunk" in e).decode())
attempt("wrong-secret", lambda: client("AKIDADMIN", "nope").invoke(FunctionName="hello", Payload=payload))
attempt("unknown-key", lambda: client("AKIDNOBODY", "x").invoke(FunctionName="hello", Payload=payload))
hello_only = client("AKIDHELLO", sys.argv[3])
attempt("allowed", lambda: hello_only.invoke(FunctionName="hello", Payload=payload))
attempt("denied", lambda: hello_only.invoke(FunctionName="other", Payload=payload))
attempt("denied-stream", lambda: hello_only.invoke_with_response_stream(FunctionName="other", Payload=payload))
past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
with mock.patch("botocore.auth.get_current_datetime", return_value=past):
    attempt("skewed", lambda: admin.invoke(FunctionName="hello", Payload=payload))
)";
  auto result =
      run({python, "-c", script, node.endpoint(), kAdminSecret, kHelloSecret}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("invoke 200 \"value1\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("arn 200\n"), std::string::npos) << out;
  EXPECT_NE(out.find("event 202\n"), std::string::npos) << out;
  EXPECT_NE(out.find("stream \"value1\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("wrong-secret 403 InvalidSignatureException The request signature we "
                     "calculated does not match"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown-key 403 UnrecognizedClientException The security token included "
                     "in the request is invalid.\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("allowed ok\n"), std::string::npos) << out;
  EXPECT_NE(out.find("denied 403 AccessDeniedException User with access key AKIDHELLO is not "
                     "authorized to perform: lambda:InvokeFunction on resource: "
                     "arn:aws:lambda:us-east-1:000000000000:function:other"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("denied-stream 403 AccessDeniedException"), std::string::npos) << out;
  EXPECT_NE(out.find("skewed 403 InvalidSignatureException Signature expired: "), std::string::npos)
      << out;
}

TEST(SigV4Curl, AnUnsignedRequestIsRefusedAndNeverRuns) {
  const std::string curl = on_path("curl");
  if (curl.empty()) GTEST_SKIP() << "no curl on PATH";
  Node node(functions(), sigv4());
  auto result = run({curl, "-s", "-i", "-X", "POST", "-d", kPayload,
                     node.endpoint() + "/2015-03-31/functions/hello/invocations"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("HTTP/1.1 403")) << result.out;
  EXPECT_NE(result.out.find("x-amzn-ErrorType: MissingAuthenticationTokenException"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("x-amzn-RequestId: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(R"({"Type":"User","Message":"Missing Authentication Token"})"),
            std::string::npos)
      << result.out;
  auto event = run({curl, "-s", "-i", "-X", "POST", "-H", "X-Amz-Invocation-Type: Event", "-d",
                    kPayload, node.endpoint() + "/2015-03-31/functions/hello/invocations"});
  EXPECT_TRUE(event.out.starts_with("HTTP/1.1 403")) << event.out;
  EXPECT_EQ(node.log_stream_count("hello"), 0U) << "nothing ran";
}

TEST(SigV4EmberCli, InvokeAndPsSignWithTheEnvironmentsKeysAndNeverShowASecret) {
  Node node(functions(), sigv4());
  const std::string ember = ember_exe().string();
  auto invoked =
      run({ember, "invoke", "hello", "--endpoint", node.endpoint(), "--payload", kPayload},
          env_with(kAdminKey, kAdminSecret));
  ASSERT_EQ(invoked.exit_code, 0) << invoked.err;
  EXPECT_EQ(invoked.out, "\"value1\"\n");
  auto wrong = run({ember, "invoke", "hello", "--endpoint", node.endpoint()},
                   env_with(kAdminKey, "not-the-secret"));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("HTTP 403 InvalidSignatureException"), std::string::npos) << wrong.err;

  for (const std::string format : {"", "--json"}) {
    std::vector<std::string> argv{ember, "ps", "--endpoint", node.endpoint()};
    if (!format.empty()) argv.push_back(format);
    auto ps = run(argv, env_with(kAdminKey, kAdminSecret));
    ASSERT_EQ(ps.exit_code, 0) << ps.err;
    EXPECT_NE(ps.out.find("hello"), std::string::npos) << ps.out;
    for (const char* secret : {kAdminSecret, kHelloSecret}) {
      EXPECT_EQ(ps.out.find(secret), std::string::npos) << ps.out;
    }
  }
  // The status route needs a key allowed every function; none at all is refused too.
  auto limited =
      run({ember, "ps", "--endpoint", node.endpoint()}, env_with(kHelloKey, kHelloSecret));
  EXPECT_EQ(limited.exit_code, 2);
  EXPECT_NE(limited.err.find("HTTP 403 AccessDeniedException"), std::string::npos) << limited.err;
  auto anonymous = run({ember, "ps", "--endpoint", node.endpoint()}, {{"AWS_ACCESS_KEY_ID", ""}});
  EXPECT_EQ(anonymous.exit_code, 2);
  EXPECT_NE(anonymous.err.find("HTTP 403 MissingAuthenticationTokenException"), std::string::npos)
      << anonymous.err;
  EXPECT_NE(node.stdout_text().find("ember: Invoke API requires AWS SigV4 signatures (2 access "
                                    "key(s), region us-east-1)"),
            std::string::npos)
      << node.stdout_text();
  for (const char* secret : {kAdminSecret, kHelloSecret}) {
    EXPECT_EQ(node.stdout_text().find(secret), std::string::npos);
    EXPECT_EQ(node.logs("hello").find(secret), std::string::npos);
  }
}

// ember bench against a node with node.auth: with the environment's keys every request is
// signed (both of its clients); without them, or with a wrong secret, it fails saying why
// rather than printing a table of nothing.
TEST(SigV4EmberCli, BenchSignsEachRequestWithTheEnvironmentsKeys) {
  const FunctionSpec noop{.name = "noop",
                          .runtime = "provided",
                          .handler = "",
                          .code = ember_exe().parent_path() / "bench" / "runtimes" / "noop"};
  Node node({noop}, sigv4());
  const std::string ember = ember_exe().string();
  for (const char* client : {"beast", "curl"}) {
    auto bench = run({ember, "bench", "warm", "--endpoint", node.endpoint(), "--function", "noop",
                      "-n", "20", "--no-baselines", "--client", client},
                     env_with(kAdminKey, kAdminSecret));
    ASSERT_EQ(bench.exit_code, 0) << client << ": " << bench.err << bench.out;
    EXPECT_NE(bench.out.find("signed (SigV4) as AKIDADMIN"), std::string::npos) << bench.out;
    EXPECT_TRUE(std::regex_search(bench.out, std::regex(R"(warm: client total +20 )")))
        << bench.out;
    EXPECT_EQ(bench.out.find(kAdminSecret), std::string::npos) << bench.out;
  }
  auto unsigned_run = run({ember, "bench", "warm", "--endpoint", node.endpoint(), "--function",
                           "noop", "-n", "5", "--no-baselines"},
                          {{"AWS_ACCESS_KEY_ID", ""}});
  EXPECT_EQ(unsigned_run.exit_code, 1);
  EXPECT_NE(
      unsigned_run.err.find("warm: all 5 invocations failed; first: HTTP 403: "
                            "{\"Type\":\"User\",\"Message\":\"Missing Authentication Token\"}"),
      std::string::npos)
      << unsigned_run.err;
  auto wrong = run({ember, "bench", "warm", "--endpoint", node.endpoint(), "--function", "noop",
                    "-n", "5", "--no-baselines"},
                   env_with(kAdminKey, "not-the-secret"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("The request signature we calculated does not match"), std::string::npos)
      << wrong.err;
}

TEST(SigV4Serve, RefusesANonLoopbackListenWithoutAnAuthSection) {
  TempDir dir("ember-auth-test-");
  const auto config = dir.path() / "ember.yaml";
  client::NodeSettings settings;
  settings.listen = "0.0.0.0:0";
  std::ofstream(config) << client::node_yaml({}, dir.path() / "state", settings);
  auto refused = run({ember_exe().string(), "serve", "--config", config.string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(config.string() +
                             ":2:11: node.listen: `0.0.0.0` is not a loopback address, so other "
                             "machines could invoke every function, and there is no `node.auth` "
                             "section"),
            std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace ember::test
