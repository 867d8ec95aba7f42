// Response streaming end to end: a runtime that streams (tests/testcases/provided/streaming)
// under a real `ember serve`, read by boto3's invoke_with_response_stream (the pip-installed
// `python3` on PATH: Debian's boto3 predates the operation), by a plain Invoke, and through a
// Function URL route by curl.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "ember/runtime_api/base64.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace json = boost::json;

// Reads an InvokeWithResponseStream answer with boto3 and prints it as JSON: the status, the
// headers, each PayloadChunk (text) and the InvokeComplete event. After each chunk of
// `expected` it has read in full it creates GATE/seen-<i>, which the runtime waits for before
// it writes chunk i+1: proof that chunk i arrived while the runtime was still running.
constexpr const char* kBotoClient = R"(
import json, os, sys, boto3
endpoint, name, event = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
expected, gate = event.get("chunks", []), event.get("gate_dir")
client = boto3.client("lambda", endpoint_url=endpoint)
reply = client.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event),
                                           LogType="Tail")
out = {"status": reply["StatusCode"], "version": reply.get("ExecutedVersion"),
       "content_type": reply["ResponseMetadata"]["HTTPHeaders"].get("content-type"),
       "chunks": [], "complete": None, "events_after_complete": 0}
text, seen = b"", 0
for event in reply["EventStream"]:
    if out["complete"] is not None:
        out["events_after_complete"] += 1
    if "PayloadChunk" in event:
        data = event["PayloadChunk"]["Payload"]
        out["chunks"].append(len(data) if len(data) > 1000 else data.decode())
        text += data
        while gate and seen < len(expected) and text.startswith("".join(expected[:seen + 1]).encode()):
            open(os.path.join(gate, f"seen-{seen}"), "w").close()
            seen += 1
    elif "InvokeComplete" in event:
        out["complete"] = event["InvokeComplete"]
out["total"] = len(text)
print(json.dumps(out))
)";

bool boto3_streams() {
  return run({"python3", "-c",
              "import boto3; assert hasattr(boto3.client('lambda', region_name='us-east-1'), "
              "'invoke_with_response_stream')"})
             .exit_code == 0;
}

class StreamingE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FunctionSpec streamer{.name = "streamer",
                          .runtime = "provided",
                          .handler = "unused",
                          .code = testcases_dir() / "provided" / "streaming",
                          .timeout_s = 20,
                          .isolation = "none"};
    FunctionSpec url = streamer;
    url.name = "streamer-url";
    url.http = {.path = "/stream", .format = "function_url"};
    FunctionSpec short_lived = streamer;
    short_lived.name = "streamer-short";
    short_lived.timeout_s = 2;
    node_ = new Node({streamer, url, short_lived});
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  void SetUp() override {
    if (!boto3_streams()) GTEST_SKIP() << "python3 on PATH has no boto3 with streaming";
  }

  // Runs the boto3 client on `event`; its printed JSON.
  static json::object stream(const json::object& event, const std::string& function = "streamer") {
    const auto result =
        run({"python3", "-c", kBotoClient, node_->endpoint(), function, json::serialize(event)},
            Node::aws_env());
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out).as_object();
  }

  static Node* node_;  // NOLINT: shared by the suite's tests
};

Node* StreamingE2E::node_ = nullptr;

TEST_F(StreamingE2E, BotoReadsEachChunkBeforeTheRuntimeWritesTheNext) {
  TempDir gate("ember-stream-gate-");
  const auto out =
      stream({{"chunks", {"one,", "two,", "three"}}, {"gate_dir", gate.path().string()}});
  EXPECT_EQ(out.at("status").as_int64(), 200);
  EXPECT_EQ(out.at("version").as_string(), "$LATEST");
  EXPECT_EQ(out.at("content_type").as_string(), "application/vnd.amazon.eventstream");
  // The runtime waited for each seen-<i>: three events, in order, none merged.
  EXPECT_EQ(json::serialize(out.at("chunks")), R"(["one,","two,","three"])");
  EXPECT_TRUE(std::filesystem::exists(gate.path() / "seen-1"));
  const auto& complete = out.at("complete").as_object();
  EXPECT_FALSE(complete.contains("ErrorCode")) << json::serialize(complete);
  EXPECT_EQ(out.at("events_after_complete").as_int64(), 0);
  // LogResult is the base64 tail of the invocation's log, REPORT included.
  const auto logs = runtime_api::base64_decode(complete.at("LogResult").as_string());
  ASSERT_TRUE(logs);
  EXPECT_NE(logs->find("runtime: wrote chunk 2"), std::string::npos) << *logs;
  EXPECT_NE(logs->find("REPORT RequestId"), std::string::npos) << *logs;
  EXPECT_EQ(node_->logs("streamer").find("gave up"), std::string::npos);
}

TEST_F(StreamingE2E, MidStreamErrorTrailersEndInInvokeCompleteError) {
  const auto out = stream(
      {{"chunks", {"partial"}}, {"error", {{"type", "Runtime.StreamError"}, {"message", "boom"}}}});
  EXPECT_EQ(out.at("status").as_int64(), 200);
  EXPECT_EQ(json::serialize(out.at("chunks")), R"(["partial"])");
  const auto& complete = out.at("complete").as_object();
  EXPECT_EQ(complete.at("ErrorCode").as_string(), "Runtime.StreamError");
  const auto details = json::parse(complete.at("ErrorDetails").as_string()).as_object();
  EXPECT_EQ(details.at("errorMessage").as_string(), "boom");
}

TEST_F(StreamingE2E, BufferedRuntimeAnswersInOnePayloadChunk) {
  const auto out = stream({{"buffered", true}, {"chunks", {"whole ", "answer"}}});
  EXPECT_EQ(json::serialize(out.at("chunks")), R"(["whole answer"])");
  EXPECT_FALSE(out.at("complete").as_object().contains("ErrorCode"));
}

TEST_F(StreamingE2E, PastTwentyMegabytesTheStreamEndsWithResponseSizeTooLarge) {
  constexpr std::int64_t kLimit = 20 * 1024 * 1024;
  const auto out = stream({{"size", kLimit + 200000}});
  EXPECT_EQ(out.at("total").as_int64(), kLimit);
  const auto& complete = out.at("complete").as_object();
  EXPECT_EQ(complete.at("ErrorCode").as_string(), "Function.ResponseSizeTooLarge");
  // The runtime is told with a 413, and the worker serves the next invocation.
  node_->wait_for_log("streamer", "runtime: response status 413");
  const auto next = stream({{"chunks", {"after"}}});
  EXPECT_EQ(json::serialize(next.at("chunks")), R"(["after"])");
}

TEST_F(StreamingE2E, TimeoutMidStreamEndsWithSandboxTimedout) {
  const auto out =
      stream(json::object{{"chunks", {"early", "never"}}, {"delay_ms", 10000}}, "streamer-short");
  EXPECT_EQ(json::serialize(out.at("chunks")), R"(["early"])");
  const auto& complete = out.at("complete").as_object();
  EXPECT_EQ(complete.at("ErrorCode").as_string(), "Sandbox.Timedout");
  EXPECT_NE(complete.at("ErrorDetails").as_string().find("Task timed out after 2.00 seconds"),
            std::string::npos);
}

// A caller that reads nothing while a 12 MiB stream waits for it holds up neither the node
// (another invocation is answered meanwhile: the client reads only after it) nor its own bytes
// (all arrive, in order, once it reads); the runtime waits for it meanwhile (the node buffers
// 1 MiB, the sockets a few more), rather than the node holding the whole answer.
constexpr const char* kSlowReader = R"(
import glob, http.client, json, sys, urllib.request
from botocore.eventstream import EventStreamBuffer
host, port = sys.argv[1].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
conn.request("POST", "/2021-11-15/functions/streamer/response-streaming-invocations",
             body=json.dumps({"size": 12 * 1024 * 1024}))
reply = conn.getresponse()
request_id = reply.getheader("x-amzn-RequestId")
other = urllib.request.urlopen(urllib.request.Request(
    f"http://{sys.argv[1]}/2015-03-31/functions/streamer/invocations",
    data=b'{"chunks":["meanwhile"]}'), timeout=10).read()
# The runtime is still held up by this caller, which has read none of its bytes yet.
logs = "".join(open(f, errors="replace").read() for f in glob.glob(sys.argv[2] + "/*.log"))
finished_early = ("response status 202 for " + request_id) in logs
events = EventStreamBuffer()
events.add_data(reply.read())
sizes, complete = 0, None
for message in events:
    kind = message.headers[":event-type"]
    if kind == "PayloadChunk":
        assert set(message.payload) == {ord("x")}
        sizes += len(message.payload)
    else:
        complete = message.payload.decode()
print(json.dumps({"other": other.decode(), "bytes": sizes, "complete": complete,
                  "finished_early": finished_early}))
)";

TEST_F(StreamingE2E, ASlowCallerBlocksNeitherTheNodeNorItsOwnStream) {
  const auto host = node_->endpoint().substr(std::string("http://").size());
  const auto logs = node_->state_dir() / "logs" / "streamer";
  const auto result = run({"python3", "-c", kSlowReader, host, logs.string()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = json::parse(result.out).as_object();
  EXPECT_EQ(out.at("other").as_string(), "meanwhile");
  EXPECT_EQ(out.at("bytes").as_int64(), 12 * 1024 * 1024);
  EXPECT_EQ(out.at("complete").as_string(), "{}");
  EXPECT_FALSE(out.at("finished_early").as_bool());
}

TEST_F(StreamingE2E, PlainInvokeOfAStreamingFunctionGetsTheWholeBody) {
  const auto reply = node_->invoke("streamer", R"({"chunks":["a","b","c"]})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "abc");
}

TEST_F(StreamingE2E, FunctionUrlRouteStreamsWithThePreludeAsStatusAndHeaders) {
  const std::string directives = json::serialize(
      json::object{{"content_type", "application/vnd.awslambda.http-integration-response"},
                   {"prelude",
                    {{"statusCode", 201},
                     {"headers", {{"content-type", "text/plain"}, {"x-demo", "yes"}}},
                     {"cookies", {"a=1", "b=2"}}}},
                   {"chunks", {"first ", "second"}}});
  const auto result = run({"curl", "-sS", "-N", "-D", "-", "-X", "POST", "--data-binary",
                           directives, node_->http_endpoint() + "/stream"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto& out = result.out;
  EXPECT_TRUE(out.starts_with("HTTP/1.1 201")) << out;
  EXPECT_NE(out.find("Transfer-Encoding: chunked"), std::string::npos) << out;
  EXPECT_NE(out.find("x-demo: yes"), std::string::npos) << out;
  EXPECT_NE(out.find("Set-Cookie: a=1"), std::string::npos) << out;
  EXPECT_NE(out.find("Set-Cookie: b=2"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nfirst second")) << out;
}

TEST_F(StreamingE2E, FunctionUrlRouteStreamsRawBytesWithTheRuntimesContentType) {
  const auto result = run({"curl", "-sS", "-N", "-D", "-", "-X", "POST", "--data-binary",
                           R"({"content_type":"text/csv","chunks":["a,b\n","1,2\n"]})",
                           node_->http_endpoint() + "/stream"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("HTTP/1.1 200")) << result.out;
  EXPECT_NE(result.out.find("Content-Type: text/csv"), std::string::npos) << result.out;
  EXPECT_TRUE(result.out.ends_with("\r\n\r\na,b\n1,2\n")) << result.out;
}

TEST_F(StreamingE2E, FunctionUrlMidStreamErrorCutsTheBody) {
  const auto result = run({"curl", "-sS", "-N", "-X", "POST", "--data-binary",
                           R"({"chunks":["cut "],"error":{"type":"Runtime.StreamError",)"
                           R"("message":"late"}})",
                           node_->http_endpoint() + "/stream"});
  // curl reports the missing last chunk (transfer closed with outstanding read data).
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(result.out, "cut ");
}

}  // namespace
}  // namespace ember::test
