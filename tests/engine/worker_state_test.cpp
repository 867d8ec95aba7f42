#include "worker_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

namespace ember::engine {
namespace {

using Refusal = runtime_api::RuntimeRefusal;
using State = WorkerState;

constexpr std::array kAllStates = {State::kStarting,   State::kInitialising, State::kIdle,
                                   State::kFrozen,     State::kAssigned,     State::kBusy,
                                   State::kAnswered,   State::kInitHeld,     State::kAnswerHeld,
                                   State::kInitFailed, State::kShuttingDown, State::kEnded};

// Drives a machine to "event handed out" for `id`.
WorkerStateMachine busy_with(const std::string& id) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_TRUE(m.assign(id));
  EXPECT_TRUE(m.end_next(/*delivered=*/true));
  return m;
}

// A runtime call's refusals in one go: `next`, an answer for `id`, `init/error`.
void expect_runtime_refused(const WorkerStateMachine& m, Refusal refusal, const std::string& id) {
  EXPECT_EQ(m.check_next(), refusal);
  EXPECT_EQ(m.check_answer(id), refusal);
  EXPECT_EQ(m.check_init_error(), refusal);
}

TEST(WorkerStateMachine, OnlyTheTransitionsOfTheTableAreAllowed) {
  const std::array<std::pair<State, State>, 33> table = {{
      {State::kStarting, State::kInitialising},
      {State::kInitialising, State::kIdle},
      {State::kInitialising, State::kInitHeld},
      {State::kInitialising, State::kInitFailed},
      {State::kInitHeld, State::kIdle},
      {State::kInitHeld, State::kInitFailed},
      {State::kIdle, State::kAssigned},
      {State::kIdle, State::kFrozen},
      {State::kFrozen, State::kAssigned},
      {State::kAssigned, State::kBusy},
      {State::kBusy, State::kAnswered},
      {State::kAnswered, State::kIdle},
      {State::kAnswered, State::kAnswerHeld},
      {State::kAnswerHeld, State::kIdle},
      // A shutdown phase: from every state with a runtime that was not killed.
      {State::kInitialising, State::kShuttingDown},
      {State::kInitHeld, State::kShuttingDown},
      {State::kIdle, State::kShuttingDown},
      {State::kFrozen, State::kShuttingDown},
      {State::kAssigned, State::kShuttingDown},
      {State::kBusy, State::kShuttingDown},
      {State::kAnswered, State::kShuttingDown},
      {State::kAnswerHeld, State::kShuttingDown},
      {State::kStarting, State::kEnded},
      {State::kInitialising, State::kEnded},
      {State::kIdle, State::kEnded},
      {State::kFrozen, State::kEnded},
      {State::kAssigned, State::kEnded},
      {State::kBusy, State::kEnded},
      {State::kAnswered, State::kEnded},
      {State::kInitHeld, State::kEnded},
      {State::kAnswerHeld, State::kEnded},
      {State::kInitFailed, State::kEnded},
      {State::kShuttingDown, State::kEnded},
  }};
  for (const auto from : kAllStates) {
    for (const auto to : kAllStates) {
      const bool listed = std::find(table.begin(), table.end(), std::pair{from, to}) != table.end();
      EXPECT_EQ(WorkerStateMachine::allowed(from, to), listed)
          << static_cast<int>(from) << " (" << state_name(from) << ") -> " << static_cast<int>(to)
          << " (" << state_name(to) << ")";
    }
  }
}

TEST(WorkerStateMachine, AWorkerWaitingForItsSandboxIsStartingUntilLaunched) {
  WorkerStateMachine m(State::kStarting);
  EXPECT_TRUE(m.pending());
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
  EXPECT_EQ(m.check_init_error(), Refusal::kInvalidStateTransition);
  EXPECT_FALSE(m.assign("a"));
  EXPECT_TRUE(m.launched());
  EXPECT_EQ(m.state(), State::kInitialising);
  EXPECT_FALSE(m.launched());
}

TEST(WorkerStateMachine, FirstNextEndsInitialisation) {
  WorkerStateMachine m;
  EXPECT_EQ(m.state(), State::kInitialising);
  EXPECT_TRUE(m.pending());
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.state(), State::kIdle);
  EXPECT_FALSE(m.pending());
}

TEST(WorkerStateMachine, AnInitialisingWorkerCannotBeGivenAnInvocation) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.assign("a"));
  EXPECT_EQ(m.state(), State::kInitialising);
}

TEST(WorkerStateMachine, AcceptsOneAnswerForTheEventHandedOut) {
  auto m = busy_with("a");
  EXPECT_EQ(m.state(), State::kBusy);
  EXPECT_FALSE(m.check_answer("a"));
  EXPECT_TRUE(m.answered());
  EXPECT_EQ(m.state(), State::kAnswered);
  EXPECT_TRUE(m.pending());
  EXPECT_FALSE(m.answered());
}

TEST(WorkerStateMachine, SecondAnswerForTheSameIdIsAnInvalidStateTransition) {
  auto m = busy_with("a");
  m.answered();
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
}

TEST(WorkerStateMachine, UnknownIdIsAnInvalidRequestId) {
  auto m = busy_with("a");
  EXPECT_EQ(m.check_answer("b"), Refusal::kInvalidRequestId);
  m.answered();
  EXPECT_EQ(m.check_answer("b"), Refusal::kInvalidRequestId);
}

TEST(WorkerStateMachine, AnswerBeforeTheEventIsHandedOutIsRefused) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_TRUE(m.assign("a"));
  EXPECT_EQ(m.state(), State::kAssigned);
  EXPECT_TRUE(m.has_invocation());
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
  EXPECT_FALSE(m.answered());
}

TEST(WorkerStateMachine, NextWhileAnEventIsUnansweredIsRefused) {
  auto m = busy_with("a");
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
  EXPECT_EQ(m.state(), State::kBusy);
}

TEST(WorkerStateMachine, ConcurrentNextIsRefused) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
  EXPECT_TRUE(m.assign("a"));
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
}

TEST(WorkerStateMachine, NextAfterAnAnswerMakesTheWorkerIdleAgain) {
  auto m = busy_with("a");
  m.answered();
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.state(), State::kIdle);
  EXPECT_TRUE(m.assign("b"));
  EXPECT_TRUE(m.end_next(true));
  EXPECT_FALSE(m.check_answer("b"));
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
}

TEST(WorkerStateMachine, OnlyAnIdleWorkerFreezesAndAFrozenOneTakesAnInvocation) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.freeze());
  EXPECT_FALSE(m.begin_next());
  EXPECT_TRUE(m.freeze());
  EXPECT_EQ(m.state(), State::kFrozen);
  EXPECT_FALSE(m.freeze());
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
  EXPECT_TRUE(m.assign("a"));
  EXPECT_EQ(m.state(), State::kAssigned);
}

TEST(WorkerStateMachine, NextThatEndsWithoutAnEventHandsNothingOut) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_TRUE(m.assign("a"));
  EXPECT_FALSE(m.end_next(/*delivered=*/false));
  EXPECT_EQ(m.state(), State::kAssigned);
  EXPECT_TRUE(m.end());
  EXPECT_FALSE(m.end_next(/*delivered=*/true));
}

TEST(WorkerStateMachine, InitErrorOnlyWhileInitialising) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.check_init_error());
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.check_init_error(), Refusal::kInvalidStateTransition);
}

TEST(WorkerStateMachine, EndedWorkerRefusesEverything) {
  auto m = busy_with("a");
  EXPECT_TRUE(m.end());
  EXPECT_EQ(m.state(), State::kEnded);
  EXPECT_FALSE(m.end());
  EXPECT_EQ(m.begin_next(), Refusal::kWorkerGone);
  EXPECT_EQ(m.check_answer("a"), Refusal::kWorkerGone);
  EXPECT_EQ(m.check_init_error(), Refusal::kWorkerGone);
  EXPECT_FALSE(m.assign("b"));
  EXPECT_FALSE(m.freeze());
  EXPECT_FALSE(m.launched());
  EXPECT_FALSE(m.hold());
  EXPECT_FALSE(m.ready());
  EXPECT_FALSE(m.fail_init());
  EXPECT_FALSE(m.shut_down());
  EXPECT_FALSE(m.pending());
  EXPECT_TRUE(m.retired());
}

TEST(WorkerStateMachine, FirstNextWaitsWhileAnExtensionInitialises) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.check_next());
  EXPECT_TRUE(m.hold());
  EXPECT_EQ(m.state(), State::kInitHeld);
  EXPECT_TRUE(m.held());
  EXPECT_TRUE(m.initialising());
  EXPECT_TRUE(m.pending());
  // Its `next` already waits; the init is still open to init/error.
  EXPECT_EQ(m.check_next(), Refusal::kInvalidStateTransition);
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
  EXPECT_FALSE(m.check_init_error());
  EXPECT_FALSE(m.hold());
  EXPECT_FALSE(m.assign("a"));
  EXPECT_FALSE(m.freeze());
  EXPECT_EQ(m.state(), State::kInitHeld);
  // The last extension's `next` ends the init.
  EXPECT_TRUE(m.ready());
  EXPECT_EQ(m.state(), State::kIdle);
  EXPECT_FALSE(m.held());
}

TEST(WorkerStateMachine, NextAfterAnAnswerWaitsWhileAnExtensionWorksOnTheInvocation) {
  auto m = busy_with("a");
  EXPECT_FALSE(m.hold()) << "the runtime has not answered";
  EXPECT_TRUE(m.answered());
  EXPECT_TRUE(m.hold());
  EXPECT_EQ(m.state(), State::kAnswerHeld);
  EXPECT_TRUE(m.held());
  EXPECT_FALSE(m.initialising());
  EXPECT_TRUE(m.pending());
  EXPECT_EQ(m.last_answered_id(), "a");
  EXPECT_EQ(m.check_next(), Refusal::kInvalidStateTransition);
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
  EXPECT_EQ(m.check_init_error(), Refusal::kInvalidStateTransition);
  EXPECT_FALSE(m.assign("b"));
  EXPECT_FALSE(m.fail_init());
  EXPECT_TRUE(m.ready());
  EXPECT_EQ(m.state(), State::kIdle);
  EXPECT_TRUE(m.assign("b"));
}

TEST(WorkerStateMachine, OnlyAnInitialisingOrAnsweredRuntimeIsHeldAndMadeReady) {
  WorkerStateMachine starting(State::kStarting);
  EXPECT_FALSE(starting.hold());
  EXPECT_FALSE(starting.ready());
  EXPECT_EQ(starting.state(), State::kStarting);
  WorkerStateMachine idle;
  EXPECT_TRUE(idle.ready());
  EXPECT_FALSE(idle.hold());
  EXPECT_FALSE(idle.ready());
  EXPECT_TRUE(idle.freeze());
  EXPECT_FALSE(idle.hold());
  EXPECT_FALSE(idle.ready());
  EXPECT_EQ(idle.state(), State::kFrozen);
  auto busy = busy_with("a");
  EXPECT_FALSE(busy.ready());
  EXPECT_EQ(busy.state(), State::kBusy);
}

TEST(WorkerStateMachine, AGivenUpInitRefusesTheRuntimeAndHasNoShutdownPhase) {
  for (const bool held : {false, true}) {
    WorkerStateMachine m;
    if (held) {
      EXPECT_TRUE(m.hold());
    }
    EXPECT_TRUE(m.fail_init());
    EXPECT_EQ(m.state(), State::kInitFailed);
    EXPECT_FALSE(m.fail_init());
    // Its exit is still to come, and fails the start it backs.
    EXPECT_TRUE(m.pending());
    EXPECT_FALSE(m.retired());
    expect_runtime_refused(m, Refusal::kWorkerGone, "a");
    EXPECT_FALSE(m.ready());
    EXPECT_FALSE(m.hold());
    EXPECT_FALSE(m.assign("a"));
    EXPECT_FALSE(m.shut_down());
    EXPECT_TRUE(m.end());
    EXPECT_EQ(m.state(), State::kEnded);
  }
  auto answered = busy_with("a");
  answered.answered();
  EXPECT_FALSE(answered.fail_init()) << "only an init is given up";
}

TEST(WorkerStateMachine, AShutdownPhaseRefusesTheRuntimeUntilItEnds) {
  auto m = busy_with("a");
  EXPECT_TRUE(m.shut_down());
  EXPECT_EQ(m.state(), State::kShuttingDown);
  EXPECT_TRUE(m.retired());
  EXPECT_FALSE(m.pending());
  EXPECT_FALSE(m.has_invocation());
  expect_runtime_refused(m, Refusal::kWorkerGone, "a");
  EXPECT_FALSE(m.shut_down());
  EXPECT_FALSE(m.assign("b"));
  EXPECT_FALSE(m.ready());
  EXPECT_FALSE(m.hold());
  EXPECT_FALSE(m.freeze());
  EXPECT_FALSE(m.end_next(true));
  EXPECT_TRUE(m.end());
  EXPECT_EQ(m.state(), State::kEnded);
  EXPECT_TRUE(m.retired());
  EXPECT_FALSE(m.end());
}

TEST(WorkerStateMachine, AWorkerWithoutItsSandboxHasNoShutdownPhase) {
  WorkerStateMachine m(State::kStarting);
  EXPECT_FALSE(m.shut_down());
  EXPECT_EQ(m.state(), State::kStarting);
  EXPECT_TRUE(m.end());
  EXPECT_FALSE(m.shut_down());
}

TEST(WorkerStateMachine, PsShowsHeldFailedAndShuttingDownWorkersAsThePhaseTheyAreIn) {
  EXPECT_EQ(shown_state(State::kInitHeld), State::kInitialising);
  EXPECT_EQ(shown_state(State::kInitFailed), State::kInitialising);
  EXPECT_EQ(shown_state(State::kAnswerHeld), State::kAnswered);
  EXPECT_EQ(shown_state(State::kShuttingDown), State::kEnded);
  EXPECT_EQ(state_name(State::kInitHeld), "initialising");
  EXPECT_EQ(state_name(State::kAnswerHeld), "answered");
  EXPECT_EQ(state_name(State::kShuttingDown), "ended");
  // The metrics count by the shown state's position among the first seven.
  for (const auto state : kAllStates) {
    const auto shown = shown_state(state);
    EXPECT_EQ(shown_state(shown), shown);
    EXPECT_TRUE(static_cast<int>(shown) <= static_cast<int>(State::kAnswered) ||
                shown == State::kEnded)
        << static_cast<int>(state);
  }
}

TEST(WorkerStateMachine, PsNamesAnAssignedWorkerBusy) {
  EXPECT_EQ(state_name(State::kAssigned), "busy");
  EXPECT_EQ(state_name(State::kBusy), "busy");
  EXPECT_EQ(state_name(State::kStarting), "starting");
  EXPECT_EQ(state_name(State::kFrozen), "frozen");
}

}  // namespace
}  // namespace ember::engine
