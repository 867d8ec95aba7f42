#include "worker_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

namespace ember::engine {
namespace {

using Refusal = runtime_api::RuntimeRefusal;
using State = WorkerState;

constexpr std::array kAllStates = {State::kStarting, State::kInitialising, State::kIdle,
                                   State::kFrozen,   State::kAssigned,     State::kBusy,
                                   State::kAnswered, State::kEnded};

// Drives a machine to "event handed out" for `id`.
WorkerStateMachine busy_with(const std::string& id) {
  WorkerStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_TRUE(m.assign(id));
  EXPECT_TRUE(m.end_next(/*delivered=*/true));
  return m;
}

TEST(WorkerStateMachine, OnlyTheTransitionsOfTheTableAreAllowed) {
  const std::array<std::pair<State, State>, 15> table = {{
      {State::kStarting, State::kInitialising},
      {State::kInitialising, State::kIdle},
      {State::kIdle, State::kAssigned},
      {State::kIdle, State::kFrozen},
      {State::kFrozen, State::kAssigned},
      {State::kAssigned, State::kBusy},
      {State::kBusy, State::kAnswered},
      {State::kAnswered, State::kIdle},
      {State::kStarting, State::kEnded},
      {State::kInitialising, State::kEnded},
      {State::kIdle, State::kEnded},
      {State::kFrozen, State::kEnded},
      {State::kAssigned, State::kEnded},
      {State::kBusy, State::kEnded},
      {State::kAnswered, State::kEnded},
  }};
  for (const auto from : kAllStates) {
    for (const auto to : kAllStates) {
      const bool listed = std::find(table.begin(), table.end(), std::pair{from, to}) != table.end();
      EXPECT_EQ(WorkerStateMachine::allowed(from, to), listed)
          << state_name(from) << " -> " << state_name(to);
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
  EXPECT_FALSE(m.pending());
}

TEST(WorkerStateMachine, PsNamesAnAssignedWorkerBusy) {
  EXPECT_EQ(state_name(State::kAssigned), "busy");
  EXPECT_EQ(state_name(State::kBusy), "busy");
  EXPECT_EQ(state_name(State::kStarting), "starting");
  EXPECT_EQ(state_name(State::kFrozen), "frozen");
}

}  // namespace
}  // namespace ember::engine
