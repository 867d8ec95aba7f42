// Which Runtime API calls a worker's runtime may make, and when: the protocol's state
// machine, kept free of I/O so every transition can be tested on its own.
#pragma once

#include <optional>
#include <string>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

enum class WorkerState {
  kInitialising,  // started, its runtime has not asked for an event yet
  kIdle,          // parked in `next`
  kBusy,          // has an invocation (handed out, or about to be)
  kAnswered,      // answered; the runtime has not come back to `next` yet
  kEnded,         // killed or exited
};

class RuntimeStateMachine {
 public:
  using Refusal = runtime_api::RuntimeRefusal;

  [[nodiscard]] WorkerState state() const { return state_; }
  [[nodiscard]] bool handed_out() const { return handed_out_; }

  // The runtime called `next`. On success the worker is idle (or keeps the invocation it was
  // given before it asked) and waits for an event.
  std::optional<Refusal> begin_next();
  // The wait in `next` ended: with the event handed out, or without one (the worker ended).
  void end_next(bool handed_out);

  // The engine gives the worker an invocation (idle only).
  void assign(std::string request_id);
  // May the runtime answer request_id now? (response and error alike)
  [[nodiscard]] std::optional<Refusal> check_answer(const std::string& request_id) const;
  // The answer was accepted.
  void answered();
  // The invocation ended without an answer (timeout, crash): the worker ends with it.
  void abandoned();

  [[nodiscard]] std::optional<Refusal> check_init_error() const;
  void end() { state_ = WorkerState::kEnded; }

 private:
  WorkerState state_ = WorkerState::kInitialising;
  bool waiting_in_next_ = false;
  bool handed_out_ = false;
  std::string current_id_;
  std::string last_answered_id_;
};

}  // namespace ember::engine
