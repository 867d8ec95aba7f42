// ember rie end to end: a real `ember rie` (and ember under the name aws-lambda-rie) running real
// runtimes, called by curl-like clients and the AWS CLIs, for what aws-lambda-rie gets wrong.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/runtime_api/base64.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using client::HttpReply;

constexpr const char* kRiePath = "/2015-03-31/functions/function/invocations";

// ember's Python runtime as an image would run it under aws-lambda-rie (`python3 -m awslambdaric
// HANDLER`): the interpreter, its options (unknown to ember rie, so passed on) and the handler.
std::vector<std::string> python_runtime(const std::string& handler) {
  return {"/usr/bin/python3", "-s", "-u",
          (ember_exe().parent_path() / "runtimes/python/bootstrap.py").string(), handler};
}

// `ember rie` (or `program`, a symlink to ember) on an ephemeral loopback port.
class Rie {
 public:
  Rie(std::vector<std::string> args, std::map<std::string, std::string> env = {},
      std::optional<fs::path> cwd = std::nullopt, std::optional<fs::path> program = std::nullopt)
      : dir_("ember-rie-test-") {
    client::ChildOptions options;
    options.argv = {program.value_or(ember_exe()).string()};
    if (!program) options.argv.emplace_back("rie");
    for (const char* arg :
         {"--ready-fd", "3", "--runtime-interface-emulator-address", "127.0.0.1:0"}) {
      options.argv.emplace_back(arg);
    }
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = std::move(env);
    options.output = dir_.path() / "stdout";
    options.errors = dir_.path() / "stderr";
    options.cwd = std::move(cwd);
    auto started = client::start_until_ready(options, std::chrono::seconds(30));
    child_ = std::move(started.child);
    address_ = started.ready_text.substr(0, started.ready_text.find('\n'));
    if (address_.empty()) {
      throw std::runtime_error("ember rie did not become ready: " + text("stderr") +
                               text("stdout"));
    }
  }

  [[nodiscard]] std::string endpoint() const { return "http://" + address_; }
  [[nodiscard]] std::string out() const { return text("stdout"); }

  HttpReply invoke(const std::string& payload, const std::string& path = kRiePath,
                   std::vector<std::string> headers = {}) const {
    client::HttpRequest request;
    request.url = endpoint() + path;
    request.body = payload;
    request.headers = std::move(headers);
    return client::http_request(request);
  }

  // Waits up to 30 s for stdout to hold `needle` `times` times.
  bool wait_for_output(const std::string& needle, std::size_t times) const {
    for (int i = 0; i < 300; ++i) {
      if (count(out(), needle) >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  int stop() { return child_.stop(std::chrono::seconds(10)); }

 private:
  [[nodiscard]] std::string text(const char* name) const {
    std::ifstream in(dir_.path() / name);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  client::TempDir dir_;
  client::ChildProcess child_;
  std::string address_;
};

// A figure of the first REPORT line of `out`: "Init Duration", "Duration", ...
std::optional<double> report_figure(const std::string& out, const std::string& name) {
  std::smatch match;
  const std::regex pattern("REPORT RequestId: [^\\n]*\\t" + name + ": ([0-9.]+)");
  if (!std::regex_search(out, match, pattern)) return std::nullopt;
  return std::stod(match[1].str());
}

TEST(EmberRie, ServesRiesPathAndAnyFunctionNameWithTheFunctionsOwnName) {
  Rie rie(python_runtime("lambda_function.lambda_handler"),
          {{"AWS_LAMBDA_FUNCTION_NAME", "resizer"}}, testcases_dir() / "python/pid_after_sleep");
  for (const std::string path : {kRiePath, "/2015-03-31/functions/resizer/invocations",
                                 "/2015-03-31/functions/anything/invocations"}) {
    const auto reply = rie.invoke(R"({"ms": 0})", path);
    ASSERT_EQ(reply.status, 200) << path << ": " << reply.body << reply.error;
    EXPECT_EQ(json::parse(reply.body).at("function_name"), "resizer") << path;
  }
}

// aws-lambda-rie has no InvokeWithResponseStream; ember rie streams what the runtime streams.
TEST(EmberRie, InvokeWithResponseStreamGetsTheRuntimesChunksWithBoto3) {
  if (run({"python3", "-c",
           "import boto3; assert hasattr(boto3.client('lambda', region_name='us-east-1'), "
           "'invoke_with_response_stream')"})
          .exit_code != 0) {
    GTEST_SKIP() << "python3 on PATH has no boto3 with streaming";
  }
  Rie rie({(testcases_dir() / "provided/streaming/bootstrap").string()});
  const auto result = run({"python3", "-c", R"(
import sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1])
reply = client.invoke_with_response_stream(FunctionName="function",
                                           Payload=b'{"chunks": ["one ", "two"]}')
events = list(reply["EventStream"])
# Pieces written back to back may travel in one event.
print(b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e), events[-1])
)",
                           rie.endpoint()},
                          Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "b'one two' {'InvokeComplete': {}}\n");
}

TEST(EmberRie, TwentyConcurrentClientsAllGetAnswersFromSeveralRuntimeProcesses) {
  Rie rie(python_runtime("lambda_function.lambda_handler"), {},
          testcases_dir() / "python/pid_after_sleep");
  std::vector<std::future<HttpReply>> replies;
  replies.reserve(20);
  for (int i = 0; i < 20; ++i) {
    replies.push_back(std::async(std::launch::async, [&] { return rie.invoke(R"({"ms": 300})"); }));
  }
  std::set<std::int64_t> pids;
  for (auto& reply : replies) {
    const auto answer = reply.get();
    ASSERT_EQ(answer.status, 200) << answer.body << answer.error;
    pids.insert(json::parse(answer.body).at("pid").as_int64());
  }
  // aws-lambda-rie has one runtime and dies on the second concurrent request.
  EXPECT_GE(pids.size(), 2U) << "one runtime process per concurrent request";
}

TEST(EmberRie, ReportsTheRuntimesInitApartFromDurationAndItsRealMemory) {
  Rie rie({(testcases_dir() / "provided/slow_init/bootstrap").string()}, {{"INIT_SECONDS", "1"}});
  const auto reply = rie.invoke("{}");
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  ASSERT_TRUE(rie.wait_for_output("REPORT RequestId:", 1)) << rie.out();
  const auto out = rie.out();
  // The bootstrap sleeps 1 s before its first `next`: that is its init, not the invocation's.
  // Were it counted in Duration too, Duration would be at least the Init Duration; the handler's
  // own work (two curl runs) is far shorter than a second even on a loaded machine.
  const auto init = report_figure(out, "Init Duration").value_or(0);
  EXPECT_GE(init, 1000.0) << out;
  EXPECT_LT(report_figure(out, "Duration").value_or(1e9), init) << out;
  EXPECT_NE(out.find("Memory Size: 3008 MB"), std::string::npos) << out;
  // Measured, not the memory size as aws-lambda-rie reports.
  EXPECT_LT(report_figure(out, "Max Memory Used").value_or(3008), 3008) << out;
}

TEST(EmberRie, FunctionErrorsHaveLambdasShapeAndHeader) {
  Rie rie(python_runtime("lambda_function.lambda_handler"), {}, testcases_dir() / "python/raises");
  const auto reply = rie.invoke("{}");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
  const auto error = json::parse(reply.body).as_object();
  EXPECT_EQ(error.at("errorType"), "ValueError");
  EXPECT_EQ(error.at("errorMessage"), "something broke");
}

TEST(EmberRie, ACrashedRuntimeIsReplacedForTheNextInvocation) {
  Rie rie({(testcases_dir() / "provided/crash/bootstrap").string()});
  for (int i = 1; i <= 2; ++i) {
    const auto reply = rie.invoke("{}");
    EXPECT_EQ(reply.status, 200) << reply.body << reply.error;
    EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled");
    EXPECT_EQ(json::parse(reply.body).at("errorType"), "Runtime.ExitError") << reply.body;
  }
  EXPECT_EQ(count(rie.out(), "about to crash"), 2U) << "a new runtime process ran the second";
}

TEST(EmberRie, AwsLambdaRieSymlinkIsTheSameCommand) {
  client::TempDir dir("ember-rie-link-");
  fs::create_symlink(ember_exe(), dir.path() / "aws-lambda-rie");
  Rie rie({(fs::path(source_dir()) / "examples/echo-provided/bootstrap").string()}, {},
          std::nullopt, dir.path() / "aws-lambda-rie");
  const auto reply = rie.invoke(R"({"through":"the link"})");
  EXPECT_EQ(reply.status, 200) << reply.body << reply.error;
  EXPECT_EQ(reply.body, R"({"through":"the link"})");
}

// LogType Tail and Event invocations, which aws-lambda-rie ignores, through both AWS CLIs.
// v2 needs --cli-binary-format to send --payload as given; v1 has no such option.
void invoke_with_cli(const std::string& aws, bool v2) {
  Rie rie({(fs::path(source_dir()) / "examples/echo-provided/bootstrap").string()});
  client::TempDir dir("ember-rie-cli-");
  const auto out_file = (dir.path() / "out.json").string();
  const auto invoke = [&](std::vector<std::string> options) {
    std::vector<std::string> argv = {
        aws, "lambda", "invoke", "--endpoint-url", rie.endpoint(), "--function-name", "function"};
    if (v2) argv.insert(argv.end(), {"--cli-binary-format", "raw-in-base64-out"});
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(out_file);
    return run(argv, Node::aws_env());
  };
  const auto tail = invoke({"--log-type", "Tail", "--payload", R"({"n":1})"});
  ASSERT_EQ(tail.exit_code, 0) << tail.out << tail.err;
  const auto answer = json::parse(tail.out).as_object();
  const auto log = runtime_api::base64_decode(std::string(answer.at("LogResult").as_string()));
  ASSERT_TRUE(log) << tail.out;
  EXPECT_NE(log->find("REPORT RequestId:"), std::string::npos) << *log;

  const auto event = invoke({"--invocation-type", "Event", "--payload", R"({"n":2})"});
  ASSERT_EQ(event.exit_code, 0) << event.out << event.err;
  EXPECT_EQ(json::parse(event.out).at("StatusCode"), 202);
  EXPECT_TRUE(rie.wait_for_output("END RequestId:", 2))
      << "the Event invocation ran: " << rie.out();
}

TEST(EmberRie, TailLogsAndEventInvocationsWithAwsCliV2) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  invoke_with_cli("/usr/bin/aws", true);
}

TEST(EmberRie, TailLogsAndEventInvocationsWithAwsCliV1) {
  auto which = run({"/bin/sh", "-c", "command -v aws"});
  const std::string aws = which.out.substr(0, which.out.find('\n'));
  if (which.exit_code != 0 || aws.empty()) GTEST_SKIP() << "no aws on PATH";
  const auto version = run({aws, "--version"}, Node::aws_env());
  if ((version.out + version.err).find("aws-cli/1.") == std::string::npos) {
    GTEST_SKIP() << "the aws first on PATH is not v1";
  }
  invoke_with_cli(aws, false);
}

TEST(EmberRie, BadSettingsAreRefusedNamingWhatIsWrong) {
  const std::string bootstrap = (testcases_dir() / "provided/slow_init/bootstrap").string();
  const std::string ember = ember_exe().string();
  struct Case {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{ember, "rie", bootstrap},
       {{"AWS_LAMBDA_FUNCTION_TIMEOUT", "soon"}},
       "AWS_LAMBDA_FUNCTION_TIMEOUT='soon' must be a whole number from 1 to 900"},
      {{ember, "rie", bootstrap},
       {{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "64"}},
       "AWS_LAMBDA_FUNCTION_MEMORY_SIZE='64' must be a whole number from 128 to 10240"},
      {{ember, "rie", bootstrap},
       {{"AWS_LAMBDA_FUNCTION_NAME", "no/slash"}},
       "AWS_LAMBDA_FUNCTION_NAME='no/slash' is not a function name"},
      {{ember, "rie", "--runtime-interface-emulator-address", "nowhere", bootstrap},
       {},
       "--runtime-interface-emulator-address 'nowhere' is not HOST:PORT"},
      {{ember, "rie", "--log-level", "loud", bootstrap}, {}, "--log-level 'loud' must be"},
      {{ember, "rie", "/no/such/bootstrap"}, {}, "bootstrap '/no/such/bootstrap' is not an"},
      {{ember, "rie", "--isolation", "vm", bootstrap},
       {},
       "--isolation 'vm' must be none or native"},
  };
  for (const auto& c : cases) {
    const auto result = run(c.argv, c.env);
    EXPECT_EQ(result.exit_code, 2) << c.message;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.err;
  }
}

TEST(EmberRie, AListenerInUseIsNamedWithTheFlag) {
  Rie first({(testcases_dir() / "provided/slow_init/bootstrap").string()});
  const auto taken = first.endpoint().substr(std::string("http://").size());
  const auto result = run({ember_exe().string(), "rie", "--runtime-interface-emulator-address",
                           taken, (testcases_dir() / "provided/slow_init/bootstrap").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("cannot listen on " + taken), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(--runtime-interface-emulator-address)"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace ember::test
