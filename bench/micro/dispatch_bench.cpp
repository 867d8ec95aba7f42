// The Runtime API bookkeeping of one warm invocation, as the engine drives it: the runtime's
// `next` parks the worker, the engine assigns the event, `next` returns it, and the response
// is checked and accepted. No I/O: this is the engine's own share of a warm call.
#include <benchmark/benchmark.h>

#include <string>

#include "worker_state.hpp"

namespace {

using ember::engine::WorkerStateMachine;

void BM_RuntimeStateOneInvocation(benchmark::State& state) {
  // Two ids in turn, so check_answer sees a last answered id different from the current one,
  // as with real request ids. 36 characters: a UUID, past the small-string buffer.
  const std::string ids[] = {"8c919da8-b3a9-4eb7-a02e-b65b2271e0ba",
                             "0f4d6c2e-51a7-4c8b-9e33-7a2d1b6c9f10"};
  WorkerStateMachine machine;
  std::size_t turn = 0;
  for (auto _ : state) {
    const std::string& id = ids[turn++ & 1U];
    if (machine.begin_next()) {
      state.SkipWithError("begin_next refused");
      break;
    }
    machine.assign(id);  // copied into the machine, as the engine does per invocation
    machine.end_next(true);
    if (machine.check_answer(id)) {
      state.SkipWithError("check_answer refused");
      break;
    }
    machine.answered();
    benchmark::DoNotOptimize(machine);
  }
}

}  // namespace

BENCHMARK(BM_RuntimeStateOneInvocation);
