// The one state of a worker and the transitions between states: which Runtime API calls its
// runtime may make, and what the engine may do with it. Pure (no I/O), so every transition
// is tested on its own; the Worker does the I/O each transition calls for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

// The first seven are the states `ember ps` and the metrics show, in the order the metrics
// count them (metrics_snapshot.hpp); the others show as one of them (shown_state).
enum class WorkerState {
  kStarting,      // waiting for its sandbox (being made on a preparer's thread)
  kInitialising,  // its runtime is launched and has not asked for an event yet
  kIdle,          // waiting in `next`, no invocation
  kFrozen,        // idle, with its processes frozen (node.freeze_idle)
  kAssigned,      // has an invocation that `next` has not handed out yet
  kBusy,          // the runtime has the invocation's event and works on it
  kAnswered,      // answered; its runtime has not come back to `next` yet
  // Its runtime called its first `next`, which waits until every extension finished its init
  // (Lambda's init phase ends when the runtime and every extension called `next`).
  kInitHeld,
  // Answered and back in `next`, which waits until every extension finished the invocation
  // (Lambda's post-runtime extension time).
  kAnswerHeld,
  // Its init cannot end (init timeout, no CPU quota after init): its processes are killed,
  // and the start fails, at once or with the exit's status. No shutdown phase.
  kInitFailed,
  // Retired, and its extensions subscribed to SHUTDOWN have it: the sandbox lives until they
  // all called `next` again or exited, or kShutdownLimit passed. Refuses the runtime.
  kShuttingDown,
  kEnded,  // retired: killed or exited; refuses everything
};

// What `ember ps` and the metrics show: a held or failed init is initialising, a held answer
// is answered, a shutdown phase is ended (the worker has left its pool).
WorkerState shown_state(WorkerState state);
// As `ember ps` shows it: "busy" covers kAssigned, which lasts until `next` wakes up.
std::string_view state_name(WorkerState state);

// Every engine event returns false, and changes nothing, when the current state does not
// allow it; every runtime call is answered with the refusal the Runtime API gives it.
class WorkerStateMachine {
 public:
  using Refusal = runtime_api::RuntimeRefusal;

  explicit WorkerStateMachine(WorkerState initial = WorkerState::kInitialising) : state_(initial) {}

  [[nodiscard]] WorkerState state() const { return state_; }
  // Whether `from` -> `to` is a transition this machine makes (the table in design.md).
  [[nodiscard]] static bool allowed(WorkerState from, WorkerState to);

  // --- the engine
  // The sandbox is there and the runtime launched (kStarting -> kInitialising). A worker
  // whose sandbox was ready when it started begins in kInitialising.
  bool launched();
  // Gives the worker an invocation (kIdle or kFrozen -> kAssigned).
  bool assign(std::string_view request_id);
  // The pool keeps it idle and froze it (kIdle -> kFrozen).
  bool freeze();
  // The runtime's `next` (check_next() passed) waits for an extension to finish the phase
  // (kInitialising -> kInitHeld, kAnswered -> kAnswerHeld).
  bool hold();
  // The runtime is in `next` and the phase is complete: the worker is idle (kInitialising,
  // kInitHeld, kAnswered or kAnswerHeld -> kIdle).
  bool ready();
  // The init is given up: its processes are being killed (kInitialising or kInitHeld ->
  // kInitFailed).
  bool fail_init();
  // Retired into a shutdown phase (kShuttingDown), from any state with a runtime that was not
  // killed: not kStarting, kInitFailed or a retired one.
  bool shut_down();
  // Ended, from any state (from kShuttingDown when the phase is over). Idempotent: false once
  // ended.
  bool end();

  // --- the runtime
  // `next`: allowed while initialising (the first one) and after an answer.
  [[nodiscard]] std::optional<Refusal> check_next() const;
  // `next` when no extension holds it: check_next(), then ready().
  std::optional<Refusal> begin_next();
  // The wait in `next` ended with the event handed out (kAssigned -> kBusy), or without one
  // (the worker ended meanwhile). True when handed out.
  bool end_next(bool delivered);
  // May the runtime answer request_id now? (response and error alike)
  [[nodiscard]] std::optional<Refusal> check_answer(std::string_view request_id) const;
  // The answer was accepted (kBusy -> kAnswered).
  bool answered();
  // `init/error`: only while initialising (its `next` may be held meanwhile).
  [[nodiscard]] std::optional<Refusal> check_init_error() const;

  // The worker is about to be ready without a new start: its sandbox or its init is on the
  // way, or it answered and is on its way back to `next`. Each such worker backs one waiter
  // (a failed init takes the waiter down with its reason).
  [[nodiscard]] bool pending() const;
  // It holds an invocation (assigned or handed out).
  [[nodiscard]] bool has_invocation() const {
    return state_ == WorkerState::kAssigned || state_ == WorkerState::kBusy;
  }
  // In the init phase: its runtime's init runs, or its `next` is held for the extensions'.
  [[nodiscard]] bool initialising() const {
    return state_ == WorkerState::kInitialising || state_ == WorkerState::kInitHeld;
  }
  // Its runtime waits in `next` for an extension (kInitHeld, kAnswerHeld).
  [[nodiscard]] bool held() const {
    return state_ == WorkerState::kInitHeld || state_ == WorkerState::kAnswerHeld;
  }
  // Retired: in its shutdown phase or ended. It has left its pool.
  [[nodiscard]] bool retired() const {
    return state_ == WorkerState::kShuttingDown || state_ == WorkerState::kEnded;
  }
  // The request the runtime answered last (empty before the first answer).
  [[nodiscard]] const std::string& last_answered_id() const { return last_answered_id_; }

 private:
  bool move_to(WorkerState to);
  // Its runtime is killed or retired: every runtime call is answered as from a gone worker.
  [[nodiscard]] bool gone() const { return state_ == WorkerState::kInitFailed || retired(); }

  WorkerState state_;
  std::string current_id_;
  std::string last_answered_id_;
};

}  // namespace ember::engine
