// node.auth's check of one warm Invoke (docs/benchmarks.md, "SigV4 checking"): the whole
// Authenticator::authenticate of a request as the AWS CLI v2 signs it, with a 1 KB event, and
// its pieces. The day's signing key is cached after the first request, as in the node.
#include <benchmark/benchmark.h>

#include <array>
#include <boost/beast/http.hpp>
#include <chrono>
#include <ctime>
#include <string>

#include "ember/runtime_api/invoke_auth.hpp"
#include "ember/runtime_api/sigv4.hpp"
#include "payloads.hpp"

namespace {

namespace http = boost::beast::http;
using ember::runtime_api::Request;
namespace sigv4 = ember::runtime_api::sigv4;

constexpr std::string_view kKeyId = "AKIDBENCH";
constexpr std::string_view kSecret = "bench/secret+key";

// The headers the AWS CLI v2 sends with an Invoke, signed the way it signs them.
Request cli_request() {
  Request req{http::verb::post, "/2015-03-31/functions/hello/invocations", 11};
  req.set(http::field::host, "127.0.0.1:9000");
  req.set(http::field::accept_encoding, "identity");
  req.set(http::field::user_agent,
          "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off "
          "command/lambda.invoke");
  req.set("X-Amz-Invocation-Type", "RequestResponse");
  req.set("X-Amz-Log-Type", "None");
  req.set(http::field::content_type, "application/json");
  req.set("X-Amz-Date", sigv4::amz_date(std::chrono::system_clock::now()));
  req.body() = ember::micro::json_event(1024);
  req.prepare_payload();
  const std::string body_hash = sigv4::sha256_hex(req.body());  // outlives `what`, a view
  sigv4::SignedRequest what{
      .method = "POST", .target = req.target(), .headers = {}, .payload_hash = body_hash};
  for (const auto& field : req) what.headers.emplace_back(field.name_string(), field.value());
  const std::string signed_headers =
      "accept-encoding;content-length;content-type;host;x-amz-date;x-amz-invocation-type;"
      "x-amz-log-type";
  req.set(http::field::authorization,
          sigv4::authorization_header(
              {.access_key_id = kKeyId, .secret_access_key = kSecret, .region = "us-east-1"}, what,
              std::string(req["X-Amz-Date"]), signed_headers));
  return req;
}

void BM_AuthenticateSignedInvoke(benchmark::State& state) {
  ember::runtime_api::AuthSettings settings;
  settings.credentials = {{std::string(kKeyId), std::string(kSecret), {"*"}}};
  const ember::runtime_api::Authenticator auth(std::move(settings));
  const Request req = cli_request();
  if (!std::holds_alternative<const ember::runtime_api::Credential*>(auth.authenticate(req))) {
    state.SkipWithError("the request does not verify");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(auth.authenticate(req));
}
BENCHMARK(BM_AuthenticateSignedInvoke);

void BM_Sha256Of1KB(benchmark::State& state) {
  const std::string body = ember::micro::json_event(1024);
  for (auto _ : state) benchmark::DoNotOptimize(sigv4::sha256_hex(body));
}
BENCHMARK(BM_Sha256Of1KB);

// What the cache saves per request: four HMACs.
void BM_SigningKeyDerivation(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(sigv4::signing_key(kSecret, "20261203", "us-east-1", "lambda"));
  }
}
BENCHMARK(BM_SigningKeyDerivation);

}  // namespace
