// Parsing the two HTTP messages on every warm invocation's path: the client's Invoke request
// (at the Invoke API) and the event as a runtime receives it from `next`.
#include <benchmark/benchmark.h>

#include <boost/beast/http.hpp>
#include <string>

#include "payloads.hpp"

namespace {

namespace http = boost::beast::http;

std::string invoke_request() {
  const auto body = ember::micro::json_event(1024);
  return "POST /2015-03-31/functions/hello/invocations HTTP/1.1\r\n"
         "Host: 127.0.0.1:9000\r\nAccept-Encoding: identity\r\n"
         "User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12\r\n"
         "X-Amz-Invocation-Type: RequestResponse\r\nX-Amz-Log-Type: None\r\n"
         "X-Amz-Date: 20261127T210304Z\r\n"
         "Authorization: AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/lambda/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string next_response() {
  const auto body = ember::micro::json_event(1024);
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
         "Lambda-Runtime-Aws-Request-Id: 8c919da8-b3a9-4eb7-a02e-b65b2271e0ba\r\n"
         "Lambda-Runtime-Deadline-Ms: 1795813384123\r\n"
         "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:"
         "hello\r\n"
         "Lambda-Runtime-Trace-Id: "
         "Root=1-6567f3a8-0123456789abcdef01234567;Parent=0123456789abcdef;"
         "Sampled=0\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

template <bool IsRequest>
void parse(benchmark::State& state, const std::string& wire) {
  for (auto _ : state) {
    http::parser<IsRequest, http::string_body> parser;
    parser.eager(true);  // header and body in one put(), as a read of the whole message does
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(wire), ec);
    if (ec || !parser.is_done()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parser.get().body().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(wire.size()));
}

void BM_ParseInvokeRequest(benchmark::State& state) { parse<true>(state, invoke_request()); }
void BM_ParseNextResponse(benchmark::State& state) { parse<false>(state, next_response()); }

}  // namespace

BENCHMARK(BM_ParseInvokeRequest);
BENCHMARK(BM_ParseNextResponse);
