// ember's Python runtime logs as Lambda's does: the records of the `logging` module through a
// root handler, in text or JSON (the function's `logging`), read back from a real node's log
// files and from the tail a real client gets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ember::test {
namespace {

// Logs a record at init, then debug, info, a two-line warning, an exception and an error with
// an `extra` field; the event's "level" is set on the root logger first.
FunctionSpec records(const std::string& name, client::NodeFunction::Logging logging = {}) {
  return {.name = name, .code = testcases_dir() / "python" / "logs_records", .logging = logging};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The one line of `logs` that contains `needle`, or "" (with a failure) if none or several do.
std::string line_with(const std::string& logs, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& line : lines_of(logs)) {
    if (line.find(needle) != std::string::npos) found.push_back(line);
  }
  EXPECT_EQ(found.size(), 1U) << "lines with `" << needle << "` in:\n" << logs;
  return found.size() == 1 ? found.front() : "";
}

// Seconds between a record's "2024-01-01T12:00:00.123Z" and now.
double age_s(const std::string& stamp) {
  std::tm utc{};
  const char* rest = ::strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  EXPECT_NE(rest, nullptr) << stamp;
  const auto when = std::chrono::system_clock::from_time_t(::timegm(&utc));
  return std::chrono::duration<double>(std::chrono::system_clock::now() - when).count();
}

const std::string kStamp = R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z)";

// `line` is a text record `[LEVEL]\tTIME\tREQUEST_ID\tMESSAGE` with this level, request id and
// message, written in the last minute.
void expect_text_record(const std::string& line, const std::string& level,
                        const std::string& request_id, const std::string& message) {
  SCOPED_TRACE(line);
  std::smatch match;
  ASSERT_TRUE(std::regex_match(line, match,
                               std::regex(R"(\[(\w+)\]\t)" + kStamp + R"(\t([^\t]*)\t([\s\S]*))")));
  EXPECT_EQ(match[1], level);
  EXPECT_LT(age_s(match[2]), 60);
  EXPECT_GE(age_s(match[2]), -1);
  EXPECT_EQ(match[3], request_id);
  EXPECT_EQ(match[4], message);
}

TEST(PythonLogging, TextRecordsAreOneLineEachWithLevelUtcTimeAndRequestId) {
  Node node({records("text")});
  // As on Lambda, the text format sets no level: the root logger keeps logging's WARNING.
  const auto quiet = node.invoke("text", "{}");
  ASSERT_EQ(quiet.status, 200) << quiet.body;
  EXPECT_EQ(boost::json::parse(quiet.body).at("root_level"), "WARNING");
  EXPECT_EQ(boost::json::parse(quiet.body).at("handlers"), 1);

  const auto reply = node.invoke("text", R"({"level": "INFO"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string id = reply.header("x-amzn-requestid");
  const std::string logs = node.wait_for_log("text", "REPORT RequestId: " + id);

  expect_text_record(line_with(logs, "init line"), "WARNING", "", "init line");
  EXPECT_EQ(logs.find("debug line"), std::string::npos) << logs;
  const std::string invocation = logs.substr(logs.find("START RequestId: " + id));
  expect_text_record(line_with(invocation, "info line"), "INFO", id, "info line");
  // A multi-line record stays one log line: its inner line breaks are written as \r.
  expect_text_record(line_with(invocation, "warning line one"), "WARNING", id,
                     "warning line one\rline two");
  expect_text_record(line_with(invocation, "caught"), "ERROR", id,
                     "caught it\rTraceback (most recent call last):\r"
                     "  File \"/var/task/lambda_function.py\", line 18, in lambda_handler\r"
                     "    raise ValueError(\"bad value\")\rValueError: bad value");
  EXPECT_NE(logs.find("\nprint line\n"), std::string::npos) << "print output is unchanged";
  EXPECT_LT(logs.find("info line"), logs.find("END RequestId: " + id));
}

TEST(PythonLogging, TailThroughBoto3ShowsTheRecordsOfTheInvocation) {
  if (run({"/usr/bin/python3", "-c", "import boto3"}).exit_code != 0) {
    GTEST_SKIP() << "python3-boto3 missing";
  }
  Node node({records("tail")});
  const std::string script = R"(
import base64, sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1])
r = client.invoke(FunctionName="tail", LogType="Tail", Payload=b'{"level": "INFO"}')
sys.stdout.write(base64.b64decode(r["LogResult"]).decode())
)";
  const auto result = run({"/usr/bin/python3", "-c", script, node.endpoint()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string id = line_with(result.out, "START RequestId: ").substr(17, 36);
  expect_text_record(line_with(result.out, "info line"), "INFO", id, "info line");
  EXPECT_NE(result.out.find("\twarning line one\rline two\n"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("debug line"), std::string::npos) << result.out;
}

// The JSON records of `logs`, in order.
std::vector<boost::json::object> json_records(const std::string& logs) {
  std::vector<boost::json::object> out;
  for (const auto& line : lines_of(logs)) {
    if (line.starts_with("{")) out.push_back(boost::json::parse(line).as_object());
  }
  return out;
}

const boost::json::object* record_with(const std::vector<boost::json::object>& records,
                                       const std::string& message) {
  for (const auto& record : records) {
    if (const auto* text = record.if_contains("message");
        text != nullptr && text->as_string() == message) {
      return &record;
    }
  }
  return nullptr;
}

TEST(PythonLogging, JsonRecordsAreObjectsFilteredByTheApplicationLogLevel) {
  Node node({records("warn", {.format = "json", .application_log_level = "warn"}),
             records("info", {.format = "json"})});
  const auto reply = node.invoke("warn", "{}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(boost::json::parse(reply.body).at("root_level"), "WARNING");
  const std::string id = reply.header("x-amzn-requestid");
  const std::string logs = node.wait_for_log("warn", "REPORT RequestId: " + id);
  const auto records = json_records(logs);

  const auto* init = record_with(records, "init line");
  ASSERT_NE(init, nullptr) << logs;
  EXPECT_EQ(init->at("level"), "WARNING");
  EXPECT_EQ(init->at("logger"), "root");
  EXPECT_EQ(init->at("requestId"), "");
  std::smatch stamp;
  const std::string timestamp(init->at("timestamp").as_string());
  ASSERT_TRUE(std::regex_match(timestamp, stamp, std::regex(kStamp))) << timestamp;
  EXPECT_LT(age_s(stamp[1]), 60);
  EXPECT_EQ(init->size(), 5U) << boost::json::serialize(*init);

  EXPECT_EQ(record_with(records, "info line"), nullptr) << logs;
  EXPECT_EQ(record_with(records, "debug line"), nullptr) << logs;
  const auto* warning = record_with(records, "warning line one\nline two");
  ASSERT_NE(warning, nullptr) << logs;
  EXPECT_EQ(warning->at("logger"), "app");
  EXPECT_EQ(warning->at("requestId"), boost::json::value(id));

  const auto* caught = record_with(records, "caught it");
  ASSERT_NE(caught, nullptr) << logs;
  EXPECT_EQ(caught->at("level"), "ERROR");
  EXPECT_EQ(caught->at("errorType"), "ValueError");
  EXPECT_EQ(caught->at("errorMessage"), "bad value");
  EXPECT_EQ(caught->at("location"), "/var/task/lambda_function.py:lambda_handler:20");
  const auto& trace = caught->at("stackTrace").as_array();
  ASSERT_EQ(trace.size(), 1U);
  EXPECT_EQ(trace.at(0),
            "  File \"/var/task/lambda_function.py\", line 18, in lambda_handler\n"
            "    raise ValueError(\"bad value\")\n");

  const auto* extra = record_with(records, "with extra");
  ASSERT_NE(extra, nullptr) << logs;
  EXPECT_EQ(extra->at("order"), 7);
  EXPECT_NE(logs.find("\nprint line\n"), std::string::npos) << "print output is unchanged";
  EXPECT_NE(logs.find("START RequestId: " + id), std::string::npos) << "the platform's stay text";

  // Lambda's default application level with JSON: INFO.
  ASSERT_EQ(node.invoke("info", "{}").status, 200);
  const auto info = json_records(node.wait_for_log("info", "REPORT RequestId: "));
  EXPECT_NE(record_with(info, "info line"), nullptr);
  EXPECT_EQ(record_with(info, "debug line"), nullptr);
}

TEST(PythonLogging, ZygoteWorkersGetTheHandlerAndLevelToo) {
  if (::geteuid() != 0) GTEST_SKIP() << "the zygote serves native sandboxes, which need root";
  FunctionSpec spec = records("zygote", {.format = "json", .application_log_level = "error"});
  spec.zygote = true;
  Node node({spec});
  const auto reply = node.invoke("zygote", "{}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(boost::json::parse(reply.body).at("root_level"), "ERROR");
  const auto records = json_records(
      node.wait_for_log("zygote", "REPORT RequestId: " + reply.header("x-amzn-requestid")));
  EXPECT_EQ(record_with(records, "warning line one\nline two"), nullptr);
  ASSERT_NE(record_with(records, "caught it"), nullptr);
  EXPECT_EQ(record_with(records, "caught it")->at("requestId"),
            boost::json::value(reply.header("x-amzn-requestid")));
}

TEST(PythonLogging, ErrorReportsAreOneLineInTextAndAnObjectInJson) {
  const auto raises = testcases_dir() / "python" / "raises";
  Node node({{.name = "text", .code = raises},
             {.name = "json", .code = raises, .logging = {.format = "json"}}});
  ASSERT_EQ(node.invoke("text", "{}").status, 200);
  const std::string report = line_with(node.wait_for_log("text", "REPORT RequestId: "), "[ERROR]");
  EXPECT_EQ(report,
            "[ERROR] ValueError: something broke\rTraceback (most recent call last):\r"
            "  File \"/var/task/lambda_function.py\", line 9, in lambda_handler\r"
            "    fail()\r"
            "  File \"/var/task/lambda_function.py\", line 5, in fail\r"
            "    raise ValueError(\"something broke\")");

  const auto json = node.invoke("json", "{}");
  EXPECT_EQ(json.header("x-amz-function-error"), "Unhandled");
  const std::string id = json.header("x-amzn-requestid");
  const auto records = json_records(node.wait_for_log("json", "REPORT RequestId: "));
  ASSERT_EQ(records.size(), 1U);
  const auto& error = records.front();
  EXPECT_EQ(error.at("level"), "ERROR");
  EXPECT_EQ(error.at("errorType"), "ValueError");
  EXPECT_EQ(error.at("errorMessage"), "something broke");
  EXPECT_EQ(error.at("requestId"), boost::json::value(id));
  EXPECT_EQ(error.at("stackTrace").as_array().size(), 2U);
  EXPECT_TRUE(std::regex_match(std::string(error.at("timestamp").as_string()), std::regex(kStamp)));
  // The caller gets the same error body in either format.
  const auto body = boost::json::parse(json.body).as_object();
  EXPECT_EQ(body.at("errorType"), "ValueError");
  EXPECT_EQ(body.at("stackTrace"), error.at("stackTrace"));
}

}  // namespace
}  // namespace ember::test
