// Per-invocation work of the engine and the Invoke API besides HTTP: the REPORT line, the
// status page's ring of recent REPORTs, the base64 log tail, FunctionName parsing, and the JSON
// check of the payload.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/function_ref.hpp"
#include "payloads.hpp"
#include "recent_reports.hpp"

namespace {

void BM_ReportLine(benchmark::State& state) {
  const ember::engine::ReportFields fields{
      .request_id = "8c919da8-b3a9-4eb7-a02e-b65b2271e0ba",
      .duration = std::chrono::microseconds(2421),
      .memory_size_mb = 128,
      .max_memory_used_bytes = 36ULL << 20,
      .init_duration = std::chrono::microseconds(114490),
  };
  for (auto _ : state) benchmark::DoNotOptimize(ember::engine::report_line(fields));
}

// What the status page adds to every invocation that ends (node.metrics on): its REPORT's
// figures copied into the next slot of the node's ring, and the wall-clock time.
void BM_RecentReportsRecord(benchmark::State& state) {
  const ember::engine::ReportFields fields{
      .request_id = "8c919da8-b3a9-4eb7-a02e-b65b2271e0ba",
      .duration = std::chrono::microseconds(2421),
      .memory_size_mb = 128,
      .max_memory_used_bytes = 36ULL << 20,
      .init_duration = std::nullopt,
  };
  ember::engine::RecentReports ring;
  for (auto _ : state) {
    ring.record("hello", fields, ember::engine::Outcome::kSuccess, {},
                std::chrono::system_clock::now());
  }
  benchmark::DoNotOptimize(ring.recorded());
}

void BM_Base64LogTail4K(benchmark::State& state) {
  std::string tail;
  while (tail.size() < 4096) tail += "[hello] value1 = value1 and a log line of ordinary length\n";
  tail.resize(4096);
  for (auto _ : state) benchmark::DoNotOptimize(ember::runtime_api::base64_encode(tail));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
}

void BM_FunctionRefName(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ember::runtime_api::parse_function_ref("hello"));
}

void BM_FunctionRefArn(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ember::runtime_api::parse_function_ref(
        "arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST"));
  }
}

// The Invoke API refuses a payload that is not JSON; this is that check, at two sizes.
void BM_JsonValid(benchmark::State& state) {
  const auto payload = ember::micro::json_records(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    boost::system::error_code ec;
    benchmark::DoNotOptimize(boost::json::parse(payload, ec));
    if (ec) state.SkipWithError("invalid JSON");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(payload.size()));
}

}  // namespace

BENCHMARK(BM_ReportLine);
BENCHMARK(BM_RecentReportsRecord);
BENCHMARK(BM_Base64LogTail4K);
BENCHMARK(BM_FunctionRefName);
BENCHMARK(BM_FunctionRefArn);
BENCHMARK(BM_JsonValid)->Arg(1024)->Arg(1024 * 1024);
