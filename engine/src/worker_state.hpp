// The one state of a worker and the transitions between states: which Runtime API calls its
// runtime may make, and what the engine may do with it. Pure (no I/O), so every transition
// is tested on its own; the Worker does the I/O each transition calls for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

enum class WorkerState {
  kStarting,      // waiting for its sandbox (being made on a preparer's thread)
  kInitialising,  // its runtime is launched and has not asked for an event yet
  kIdle,          // waiting in `next`, no invocation
  kFrozen,        // idle, with its processes frozen (node.freeze_idle)
  kAssigned,      // has an invocation that `next` has not handed out yet
  kBusy,          // the runtime has the invocation's event and works on it
  kAnswered,      // answered; its runtime has not come back to `next` yet
  kEnded,         // retired: killed or exited; refuses everything
};

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
  // Retired, from any state. Idempotent: false once ended.
  bool end();

  // --- the runtime
  // `next`: the first one ends the init, later ones follow an answer; the worker is idle.
  std::optional<Refusal> begin_next();
  // The wait in `next` ended with the event handed out (kAssigned -> kBusy), or without one
  // (the worker ended meanwhile). True when handed out.
  bool end_next(bool delivered);
  // May the runtime answer request_id now? (response and error alike)
  [[nodiscard]] std::optional<Refusal> check_answer(std::string_view request_id) const;
  // The answer was accepted (kBusy -> kAnswered).
  bool answered();
  // `init/error`: only while initialising.
  [[nodiscard]] std::optional<Refusal> check_init_error() const;

  // The worker is about to be ready without a new start: its sandbox or its init is on the
  // way, or it answered and is on its way back to `next`. Each such worker backs one waiter.
  [[nodiscard]] bool pending() const;
  // It holds an invocation (assigned or handed out).
  [[nodiscard]] bool has_invocation() const {
    return state_ == WorkerState::kAssigned || state_ == WorkerState::kBusy;
  }

 private:
  bool move_to(WorkerState to);

  WorkerState state_;
  std::string current_id_;
  std::string last_answered_id_;
};

}  // namespace ember::engine
