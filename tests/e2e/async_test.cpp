// Asynchronous invocations through a real `ember serve`: the AWS CLIs and boto3 get 202 and the
// event runs; failures are retried after their delays and end in on_failure and the dead letter;
// a function at its cap makes events wait without using a retry; what the node refuses (too
// large, unknown function, a bad destination or queue file at start, a full disk).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>

#include "../support/eventually.hpp"
#include "../support/tmpfs_mount.hpp"
#include "async_support.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

const char* const kPayload = R"({"key1":"value1"})";

fs::path python_case(const std::string& name) { return testcases_dir() / "python" / name; }

// Python's echo in the default (native) sandbox; its successes go to DIR.
FunctionSpec echo_to(const fs::path& on_success) {
  return {.name = "echo",
          .code = python_case("echo"),
          .async = {.on_success = "dir:" + on_success.string()}};
}

bool have_boto3() { return run({"/usr/bin/python3", "-c", "import boto3"}).exit_code == 0; }

// The first `aws` on PATH when it is v1; empty otherwise.
std::string aws_cli_v1() {
  const auto which = run({"/bin/sh", "-c", "command -v aws"});
  const std::string aws = which.out.substr(0, which.out.find('\n'));
  if (which.exit_code != 0 || aws.empty()) return "";
  const auto version = run({aws, "--version"}, Node::aws_env());
  return (version.out + version.err).find("aws-cli/1.") == std::string::npos ? "" : aws;
}

// The request id a botocore --debug log shows in the response headers.
std::string request_id_in_debug_log(const std::string& log) {
  std::smatch found;
  static const std::regex header("x-amzn-requestid['\"]?: ['\"]?([0-9a-f-]{36})",
                                 std::regex::icase);
  return std::regex_search(log, found, header) ? found[1].str() : "";
}

// The one success record of `kPayload` in `dir`: the echo ran once with it.
void expect_one_success_of_the_payload(const fs::path& dir, const std::string& request_id) {
  const auto records = wait_for_records(dir, 1);
  ASSERT_EQ(records.size(), 1U) << dir;
  const auto& record = records[0];
  EXPECT_EQ(record.json.at("requestContext").at("condition"), "Success");
  EXPECT_EQ(record.invoke_count(), 1);
  EXPECT_EQ(record.json.at("requestPayload"), json::parse(kPayload));
  EXPECT_EQ(record.json.at("responsePayload"), json::parse(kPayload));
  EXPECT_EQ(record.json.at("requestContext").at("functionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST");
  if (!request_id.empty()) {
    EXPECT_EQ(record.request_id(), request_id);
    EXPECT_EQ(record.file.filename(), request_id + "-Success-1.json");
  }
}

TEST(AsyncAwsCliV2, EventInvokeAnswers202AndTheEventRunsOnce) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  TempDir records("ember-async-ok-");
  Node node({echo_to(records.path())});
  const auto out = node.dir() / "out.json";
  const auto result =
      run({"/usr/bin/aws", "lambda", "invoke", "--endpoint-url", node.endpoint(), "--function-name",
           "echo", "--invocation-type", "Event", "--cli-binary-format", "raw-in-base64-out",
           "--payload", kPayload, out.string(), "--debug"},
          Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"StatusCode\": 202"), std::string::npos) << result.out;
  EXPECT_EQ(client::read_file(out), "") << "an Event invocation answers no payload";
  const auto id = request_id_in_debug_log(result.err);
  EXPECT_FALSE(id.empty()) << "no request id in the CLI's debug log";
  expect_one_success_of_the_payload(records.path(), id);
  // The attempt's log has the same request id.
  EXPECT_NE(node.wait_for_log("echo", "END RequestId: " + id).find("START RequestId: " + id),
            std::string::npos);
}

TEST(AsyncAwsCliV1, EventInvokeAnswers202AndTheEventRunsOnce) {
  const auto aws = aws_cli_v1();
  if (aws.empty()) GTEST_SKIP() << "the aws first on PATH is not v1";
  TempDir records("ember-async-ok-");
  Node node({echo_to(records.path())});
  const auto out = node.dir() / "out.json";
  // v1 sends --payload as given; it has no --cli-binary-format.
  const auto result =
      run({aws, "lambda", "invoke", "--endpoint-url", node.endpoint(), "--function-name", "echo",
           "--invocation-type", "Event", "--payload", kPayload, out.string(), "--debug"},
          Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"StatusCode\": 202"), std::string::npos) << result.out;
  const auto id = request_id_in_debug_log(result.err);
  EXPECT_FALSE(id.empty()) << "no request id in the CLI's debug log";
  expect_one_success_of_the_payload(records.path(), id);
}

TEST(AsyncBoto3, InvocationTypeEventGets202AnEmptyPayloadAndItsRequestIdRuns) {
  if (!have_boto3()) GTEST_SKIP() << "python3-boto3 missing";
  TempDir records("ember-async-ok-");
  Node node({echo_to(records.path())});
  const std::string script = R"(
import sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1])
r = client.invoke(FunctionName="echo", InvocationType="Event", Payload=sys.argv[2].encode())
print(r["StatusCode"], len(r["Payload"].read()), r["ResponseMetadata"]["RequestId"])
)";
  const auto result =
      run({"/usr/bin/python3", "-c", script, node.endpoint(), kPayload}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::smatch found;
  ASSERT_TRUE(std::regex_search(result.out, found, std::regex("^202 0 ([0-9a-f-]{36})\n")))
      << result.out;
  expect_one_success_of_the_payload(records.path(), found[1].str());
}

TEST(AsyncRefusals, TooLargeAnUnknownFunctionAndTheNodeListensOnLoopback) {
  TempDir records("ember-async-ok-");
  Node node({echo_to(records.path())});
  EXPECT_TRUE(node.endpoint().starts_with("http://127.0.0.1:")) << node.endpoint();
  // Lambda's limit for an Event payload is 256 KB: 262144 bytes pass, one more does not.
  const std::string frame = R"({"pad":""})";
  const std::string at_limit = R"({"pad":")" + std::string(262144 - frame.size(), 'x') + R"("})";
  ASSERT_EQ(at_limit.size(), 262144U);
  const auto too_large = send_event(node, "echo", at_limit + " ");
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_EQ(too_large.header("x-amzn-errortype"), "RequestTooLargeException");
  const auto unknown = send_event(node, "nope", "{}");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.header("x-amzn-errortype"), "ResourceNotFoundException");

  const auto fits = send_event(node, "echo", at_limit);
  ASSERT_EQ(fits.status, 202) << fits.body;
  EXPECT_EQ(fits.body, "");
  const auto id = fits.header("x-amzn-requestid");
  const auto found = wait_for_records(records.path(), 1);
  ASSERT_EQ(found.size(), 1U) << "only the event at the limit was accepted";
  EXPECT_EQ(found[0].request_id(), id);
  EXPECT_EQ(found[0].json.at("requestPayload"), json::parse(at_limit));
  EXPECT_EQ(async_counter(node, "echo", "accepted"), 1);
}

TEST(AsyncRetries, AFailingEventRunsThreeTimesThenGoesToOnFailureAndTheDeadLetter) {
  TempDir dirs("ember-async-fail-");
  const auto ok = dirs.path() / "ok";
  const auto failed = dirs.path() / "failed";
  const auto dead = dirs.path() / "dead";
  Node node({{.name = "raises",
              .code = python_case("raises"),
              .async = {.retry_delays_s = {1, 1},
                        .on_success = "dir:" + ok.string(),
                        .on_failure = "dir:" + failed.string(),
                        .dead_letter = "dir:" + dead.string()}}});
  const auto sent_at = std::chrono::steady_clock::now();
  const auto accepted = send_event(node, "raises", R"({"n":7})");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const auto id = accepted.header("x-amzn-requestid");
  ASSERT_FALSE(id.empty());

  const auto failures = wait_for_records(failed, 1);
  ASSERT_EQ(failures.size(), 1U);
  // Two retries, each after its 1 s delay.
  EXPECT_GE(std::chrono::steady_clock::now() - sent_at, seconds(2));
  const auto& record = failures[0];
  EXPECT_EQ(record.file.filename(), id + "-RetriesExhausted-3.json");
  EXPECT_EQ(record.request_id(), id);
  EXPECT_EQ(record.invoke_count(), 3);
  EXPECT_EQ(record.json.at("requestContext").at("condition"), "RetriesExhausted");
  EXPECT_EQ(record.json.at("requestPayload"), json::parse(R"({"n":7})"));
  EXPECT_EQ(record.json.at("responseContext").at("functionError"), "Unhandled");
  EXPECT_EQ(record.json.at("responsePayload").at("errorType"), "ValueError");

  const auto dead_letters = wait_for_records(dead, 1);
  ASSERT_EQ(dead_letters.size(), 1U);
  EXPECT_EQ(dead_letters[0].file.filename(), id + "-DeadLetter-3.json");
  const auto& message = dead_letters[0].json;
  EXPECT_EQ(message.at("body"), R"({"n":7})");
  const auto& attributes = message.at("messageAttributes");
  EXPECT_EQ(attributes.at("RequestID").at("stringValue"), json::value(id));
  EXPECT_EQ(attributes.at("ErrorCode").at("stringValue"), "200");
  EXPECT_EQ(attributes.at("ErrorMessage").at("stringValue"), "something broke");
  EXPECT_EQ(record_count(ok), 0U);

  // Each attempt is logged with the event's own request id, as on Lambda.
  const auto logs = node.wait_for_log("raises", "END RequestId: " + id);
  EXPECT_EQ(count(logs, "START RequestId: " + id), 3U) << logs;
  EXPECT_EQ(count(logs, "START RequestId: "), 3U) << logs;
  const auto out = node.stdout_text();
  EXPECT_NE(out.find("event " + id + ": attempt 3"), std::string::npos) << out;

  json::object status;
  ASSERT_TRUE(eventually([&] {
    status = async_status(node, "raises");
    return !status.empty() && status.at("destinations").at("dead_letter") == 1;
  })) << json::serialize(status);
  EXPECT_EQ(status.at("attempts"), 3);
  EXPECT_EQ(status.at("retries"), 2);
  EXPECT_EQ(status.at("failed"), 1);
  EXPECT_EQ(status.at("succeeded"), 0);
  EXPECT_EQ(status.at("queued"), 0);
  EXPECT_EQ(status.at("destinations").at("on_failure"), 1);
  const auto ps = run({ember_exe().string(), "ps", "--endpoint", node.endpoint()});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("accepted 1, retried 2"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("on_failure 1, dead_letter 1"), std::string::npos) << ps.out;
}

TEST(AsyncThrottles, EventsAtTheCapWaitAndRunOnceEachWhileASyncCallerIsServed) {
  TempDir records("ember-async-cap-");
  Node node({{.name = "slow",
              .code = python_case("sleeps"),
              .reserved_concurrency = 1,
              .async = {.on_success = "dir:" + records.path().string()}}});
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const auto reply = send_event(node, "slow", R"({"seconds":0.4})");
    ASSERT_EQ(reply.status, 202) << reply.body;
    ids.insert(reply.header("x-amzn-requestid"));
  }
  ASSERT_EQ(ids.size(), 5U);
  // The only worker is taken by an event (starting for it, then running it) and more wait: a
  // caller waits for a turn instead of being throttled.
  const auto sync = node.invoke("slow", R"({"seconds":0})");
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(sync.body, "\"woke\"");

  const auto found = wait_for_records(records.path(), 5);
  ASSERT_EQ(found.size(), 5U);
  std::set<std::string> ran;
  for (const auto& record : found) {
    ran.insert(record.request_id());
    EXPECT_EQ(record.invoke_count(), 1) << record.file << ": waiting for room is no attempt";
  }
  EXPECT_EQ(ran, ids);
  json::object status;
  ASSERT_TRUE(eventually([&] {
    status = async_status(node, "slow");
    return !status.empty() && status.at("succeeded") == 5;
  })) << json::serialize(status);
  EXPECT_EQ(status.at("attempts"), 5);
  EXPECT_EQ(status.at("retries"), 0);
  EXPECT_EQ(status.at("queued"), 0);
}

// Runs `ember serve` on `functions`, expecting it to refuse to start; what it printed.
std::string serve_refuses(const std::vector<client::NodeFunction>& functions, const fs::path& dir) {
  const auto config = dir / "ember.yaml";
  std::ofstream(config) << client::node_yaml(functions, dir / "state");
  // A node that started would run until the limit and give -1.
  const auto result =
      run({ember_exe().string(), "serve", "--config", config.string()}, {}, seconds(20));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  return result.err;
}

client::NodeFunction node_function(const std::string& name, client::NodeFunction::Async async) {
  return {.name = name,
          .runtime = "python3",
          .handler = "lambda_function.lambda_handler",
          .code = python_case("echo"),
          .async = std::move(async)};
}

TEST(AsyncConfigErrors, AnUnknownDestinationFunctionOrAnUnusableDirectoryIsRefusedAtStart) {
  TempDir dir("ember-async-config-");
  auto err = serve_refuses({node_function("a", {.on_failure = "function:nope"})}, dir.path());
  EXPECT_TRUE(std::regex_search(err, std::regex("ember\\.yaml:[0-9]+:[0-9]+: "
                                                "functions\\[0\\]\\.async\\.on_failure: unknown "
                                                "function `nope`")))
      << err;

  const auto file = dir.path() / "plain-file";
  std::ofstream(file) << "not a directory\n";
  err = serve_refuses({node_function("a", {}),
                       node_function("b", {.dead_letter = "dir:" + (file / "dlq").string()})},
                      dir.path());
  EXPECT_TRUE(std::regex_search(
      err, std::regex("ember\\.yaml:[0-9]+:[0-9]+: functions\\[1\\]\\.async\\.dead_letter: ")))
      << err;
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
}

TEST(AsyncConfigErrors, ACorruptOrForeignQueueFileIsRefusedNamingItAndLeftUnchanged) {
  TempDir dir("ember-async-db-");
  const auto db = dir.path() / "state" / "async" / "events.db";
  fs::create_directories(db.parent_path());
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += "this is not an event queue " + std::to_string(i) + "\n";
  std::ofstream(db) << garbage;
  auto err = serve_refuses({node_function("a", {})}, dir.path());
  EXPECT_NE(err.find(db.string() + ": refused as the event queue"), std::string::npos) << err;
  EXPECT_EQ(client::read_file(db), garbage);

  // Another program's SQLite database.
  fs::remove(db);
  const auto made = run({"/usr/bin/python3", "-c",
                         "import sqlite3, sys\n"
                         "c = sqlite3.connect(sys.argv[1])\n"
                         "c.execute('CREATE TABLE notes (text TEXT)')\n"
                         "c.execute(\"INSERT INTO notes VALUES ('mine')\")\n"
                         "c.commit()\n",
                         db.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto before = client::read_file(db);
  err = serve_refuses({node_function("a", {})}, dir.path());
  EXPECT_NE(err.find(db.string() + ": refused as the event queue"), std::string::npos) << err;
  EXPECT_EQ(client::read_file(db), before) << "the foreign database was changed";
}

TEST(AsyncFullDisk, AnEventIsRefusedWith503WhileTheStoreIsFullAndSyncInvokesGoOn) {
  TempDir state("ember-async-full-");
  TmpfsMount disk(state.path(), "8m");
  if (disk.error() == EPERM) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  ASSERT_EQ(disk.error(), 0) << "mount tmpfs: " << std::strerror(disk.error());
  TempDir records("ember-async-full-ok-");
  Node node({echo_to(records.path())}, {}, state.path());
  // Bigger than any free page the database file may still have, so storing it needs new space.
  const std::string big = R"({"pad":")" + std::string(200 << 10, 'b') + R"("})";

  ASSERT_EQ(fill(state.path() / "filler"), ENOSPC);
  const auto refused = send_event(node, "echo", big);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("event store is full"), std::string::npos) << refused.body;
  const auto sync = node.invoke("echo", kPayload);
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(json::parse(sync.body), json::parse(kPayload)) << sync.body;

  fs::remove(state.path() / "filler");
  const auto accepted = send_event(node, "echo", big);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const auto found = wait_for_records(records.path(), 1);
  ASSERT_EQ(found.size(), 1U) << "the refused event must not have been stored";
  EXPECT_EQ(found[0].request_id(), accepted.header("x-amzn-requestid"));
  EXPECT_EQ(async_counter(node, "echo", "accepted"), 1);
}

}  // namespace
}  // namespace ember::test
