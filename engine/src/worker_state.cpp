#include "worker_state.hpp"

namespace ember::engine {

using State = WorkerState;

WorkerState shown_state(WorkerState state) {
  switch (state) {
    case State::kInitHeld:
    case State::kInitFailed:
      return State::kInitialising;
    case State::kAnswerHeld:
      return State::kAnswered;
    case State::kShuttingDown:
      return State::kEnded;
    case State::kStarting:
    case State::kInitialising:
    case State::kIdle:
    case State::kFrozen:
    case State::kAssigned:
    case State::kBusy:
    case State::kAnswered:
    case State::kEnded:
      return state;
  }
  return state;
}

std::string_view state_name(WorkerState state) {
  switch (shown_state(state)) {
    case State::kStarting:
      return "starting";
    case State::kInitialising:
      return "initialising";
    case State::kIdle:
      return "idle";
    case State::kFrozen:
      return "frozen";
    case State::kAssigned:
    case State::kBusy:
      return "busy";
    case State::kAnswered:
      return "answered";
    default:
      return "ended";
  }
}

bool WorkerStateMachine::allowed(WorkerState from, WorkerState to) {
  if (to == State::kEnded) return from != State::kEnded;
  if (to == State::kShuttingDown) {
    // A shutdown phase needs a runtime's sandbox that was not killed.
    return from != State::kStarting && from != State::kInitFailed && from != State::kShuttingDown &&
           from != State::kEnded;
  }
  switch (from) {
    case State::kStarting:
      return to == State::kInitialising;
    case State::kInitialising:
      return to == State::kIdle || to == State::kInitHeld || to == State::kInitFailed;
    case State::kInitHeld:
      return to == State::kIdle || to == State::kInitFailed;
    case State::kAnswered:
      return to == State::kIdle || to == State::kAnswerHeld;
    case State::kAnswerHeld:
      return to == State::kIdle;
    case State::kIdle:
      return to == State::kAssigned || to == State::kFrozen;
    case State::kFrozen:
      return to == State::kAssigned;
    case State::kAssigned:
      return to == State::kBusy;
    case State::kBusy:
      return to == State::kAnswered;
    case State::kInitFailed:
    case State::kShuttingDown:
    case State::kEnded:
      return false;
  }
  return false;
}

bool WorkerStateMachine::move_to(WorkerState to) {
  if (!allowed(state_, to)) return false;
  state_ = to;
  return true;
}

bool WorkerStateMachine::launched() { return move_to(State::kInitialising); }

bool WorkerStateMachine::assign(std::string_view request_id) {
  if (!move_to(State::kAssigned)) return false;
  current_id_.assign(request_id);  // into the buffer of an earlier id: no allocation
  return true;
}

bool WorkerStateMachine::freeze() { return move_to(State::kFrozen); }

bool WorkerStateMachine::hold() {
  if (state_ == State::kInitialising) return move_to(State::kInitHeld);
  return state_ == State::kAnswered && move_to(State::kAnswerHeld);
}

bool WorkerStateMachine::ready() { return move_to(State::kIdle); }

bool WorkerStateMachine::fail_init() { return move_to(State::kInitFailed); }

bool WorkerStateMachine::shut_down() { return move_to(State::kShuttingDown); }

bool WorkerStateMachine::end() { return move_to(State::kEnded); }

std::optional<WorkerStateMachine::Refusal> WorkerStateMachine::check_next() const {
  if (gone()) return Refusal::kWorkerGone;
  // One `next` at a time (idle, frozen, assigned and held workers are already waiting in
  // one), and none while an event handed out is unanswered.
  if (state_ != State::kInitialising && state_ != State::kAnswered) {
    return Refusal::kInvalidStateTransition;
  }
  return std::nullopt;
}

std::optional<WorkerStateMachine::Refusal> WorkerStateMachine::begin_next() {
  if (auto refused = check_next()) return refused;
  ready();
  return std::nullopt;
}

bool WorkerStateMachine::end_next(bool delivered) {
  return delivered && state_ == State::kAssigned && move_to(State::kBusy);
}

std::optional<WorkerStateMachine::Refusal> WorkerStateMachine::check_answer(
    std::string_view request_id) const {
  if (gone()) return Refusal::kWorkerGone;
  if (state_ == State::kBusy && current_id_ == request_id) return std::nullopt;
  // An id this worker already answered, or holds but has not handed out: wrong state.
  if (request_id == last_answered_id_ ||
      (state_ == State::kAssigned && current_id_ == request_id)) {
    return Refusal::kInvalidStateTransition;
  }
  return Refusal::kInvalidRequestId;
}

bool WorkerStateMachine::answered() {
  if (!move_to(State::kAnswered)) return false;
  // Swapped, not copied: the string keeps its buffer for the next request id.
  last_answered_id_.swap(current_id_);
  return true;
}

std::optional<WorkerStateMachine::Refusal> WorkerStateMachine::check_init_error() const {
  if (gone()) return Refusal::kWorkerGone;
  if (!initialising()) return Refusal::kInvalidStateTransition;
  return std::nullopt;
}

bool WorkerStateMachine::pending() const {
  switch (state_) {
    case State::kStarting:
    case State::kInitialising:
    case State::kInitHeld:
    case State::kInitFailed:
    case State::kAnswered:
    case State::kAnswerHeld:
      return true;
    case State::kIdle:
    case State::kFrozen:
    case State::kAssigned:
    case State::kBusy:
    case State::kShuttingDown:
    case State::kEnded:
      return false;
  }
  return false;
}

}  // namespace ember::engine
