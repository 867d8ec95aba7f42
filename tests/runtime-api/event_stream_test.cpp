// The event stream encoder against the framing's test vectors (CRCs computed with zlib's
// crc32) and against botocore's own decoder (the pip-installed python3 on PATH).
#include "ember/runtime_api/event_stream.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/runtime_api/hex.hpp"

namespace ember::runtime_api {
namespace {

TEST(EventStream, PayloadChunkMatchesTheSpecVector) {
  EXPECT_EQ(hex_encode(payload_chunk_event("hello")),
            "0000006f0000005af5fe871f"
            "0b3a6576656e742d7479706507000c5061796c6f61644368756e6b"
            "0d3a636f6e74656e742d747970650700186170706c69636174696f6e2f6f637465742d73747265616d"
            "0d3a6d6573736167652d747970650700056576656e74"
            "68656c6c6f"
            "29e71260");
}

TEST(EventStream, EmptyInvokeCompleteMatchesTheSpecVector) {
  EXPECT_EQ(hex_encode(invoke_complete_event("", "", "")),
            "00000066000000541f56c869"
            "0b3a6576656e742d7479706507000e496e766f6b65436f6d706c657465"
            "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
            "0d3a6d6573736167652d747970650700056576656e74"
            "7b7d"
            "7006d467");
}

// botocore's EventStreamBuffer checks both CRCs and the lengths of each message.
constexpr const char* kDecode = R"(
import json, sys
from botocore.eventstream import EventStreamBuffer
buffer = EventStreamBuffer()
buffer.add_data(open(sys.argv[1], "rb").read())
out = []
for message in buffer:
    payload = message.payload
    out.append([message.headers[":event-type"], len(payload),
                payload.decode() if len(payload) < 100 else payload.count(b"\0")])
print(json.dumps(out))
)";

// python3 (on PATH) with `arguments`; its exit status, its stdout in `out`.
int python(const std::vector<std::string>& arguments, const std::filesystem::path& out) {
  std::vector<std::string> argv{"python3"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  client::ChildProcess child({.argv = argv, .output = out, .errors = "/dev/null"});
  return child.wait_for(std::chrono::seconds(60)).value_or(-1);
}

TEST(EventStream, BotocoreDecodesChunksAndTheCompleteEvent) {
  const client::TempDir dir("ember-event-stream-");
  const auto output = dir.path() / "output";
  if (python({"-c", "import botocore.eventstream"}, output) != 0) {
    GTEST_SKIP() << "python3 on PATH has no botocore";
  }
  const auto file = dir.path() / "stream";
  const auto script = dir.path() / "decode.py";
  std::ofstream(script) << kDecode;
  {
    std::ofstream out(file, std::ios::binary);
    out << payload_chunk_event("hello") << payload_chunk_event(std::string(100000, '\0'))
        << invoke_complete_event("Runtime.StreamError", R"({"errorMessage":"x"})", "TG9n");
  }
  std::filesystem::remove(output);
  ASSERT_EQ(python({script.string(), file.string()}, output), 0) << client::read_file(output);
  const std::string text = client::read_file(output);
  EXPECT_EQ(text,
            R"([["PayloadChunk", 5, "hello"], ["PayloadChunk", 100000, 100000], )"
            R"(["InvokeComplete", 96, "{\"ErrorCode\":\"Runtime.StreamError\",)"
            R"(\"ErrorDetails\":\"{\\\"errorMessage\\\":\\\"x\\\"}\",\"LogResult\":\"TG9n\"}"]])"
            "\n");
}

}  // namespace
}  // namespace ember::runtime_api
