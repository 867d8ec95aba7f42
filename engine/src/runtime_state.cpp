#include "runtime_state.hpp"

#include <cassert>

namespace ember::engine {

std::optional<RuntimeStateMachine::Refusal> RuntimeStateMachine::begin_next() {
  if (state_ == WorkerState::kEnded) return Refusal::kWorkerGone;
  // One `next` at a time, and none while an event handed out is unanswered.
  if (waiting_in_next_ || (state_ == WorkerState::kBusy && handed_out_)) {
    return Refusal::kInvalidStateTransition;
  }
  if (state_ != WorkerState::kBusy) state_ = WorkerState::kIdle;
  waiting_in_next_ = true;
  return std::nullopt;
}

void RuntimeStateMachine::end_next(bool handed_out) {
  waiting_in_next_ = false;
  handed_out_ = handed_out && state_ == WorkerState::kBusy;
}

void RuntimeStateMachine::assign(std::string request_id) {
  assert(state_ == WorkerState::kIdle || state_ == WorkerState::kInitialising);
  state_ = WorkerState::kBusy;
  handed_out_ = false;
  current_id_ = std::move(request_id);
}

std::optional<RuntimeStateMachine::Refusal> RuntimeStateMachine::check_answer(
    const std::string& request_id) const {
  if (state_ == WorkerState::kEnded) return Refusal::kWorkerGone;
  if (state_ == WorkerState::kBusy && handed_out_ && current_id_ == request_id) {
    return std::nullopt;
  }
  // An id this worker already answered, or holds but has not handed out: wrong state.
  if (request_id == last_answered_id_ ||
      (state_ == WorkerState::kBusy && current_id_ == request_id)) {
    return Refusal::kInvalidStateTransition;
  }
  return Refusal::kInvalidRequestId;
}

void RuntimeStateMachine::answered() {
  last_answered_id_ = std::move(current_id_);
  current_id_.clear();
  handed_out_ = false;
  state_ = WorkerState::kAnswered;
}

void RuntimeStateMachine::abandoned() {
  last_answered_id_ = std::move(current_id_);
  current_id_.clear();
  handed_out_ = false;
  state_ = WorkerState::kEnded;
}

std::optional<RuntimeStateMachine::Refusal> RuntimeStateMachine::check_init_error() const {
  if (state_ == WorkerState::kEnded) return Refusal::kWorkerGone;
  if (state_ != WorkerState::kInitialising) return Refusal::kInvalidStateTransition;
  return std::nullopt;
}

}  // namespace ember::engine
