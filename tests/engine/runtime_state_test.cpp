#include "runtime_state.hpp"

#include <gtest/gtest.h>

namespace ember::engine {
namespace {

using Refusal = runtime_api::RuntimeRefusal;

// Drives a machine to "event handed out" for `id`.
RuntimeStateMachine busy_with(const std::string& id) {
  RuntimeStateMachine m;
  EXPECT_FALSE(m.begin_next());
  m.assign(id);
  m.end_next(/*handed_out=*/true);
  return m;
}

TEST(RuntimeStateMachine, FirstNextEndsInitialisation) {
  RuntimeStateMachine m;
  EXPECT_EQ(m.state(), WorkerState::kInitialising);
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.state(), WorkerState::kIdle);
}

TEST(RuntimeStateMachine, AcceptsOneAnswerForTheEventHandedOut) {
  auto m = busy_with("a");
  EXPECT_FALSE(m.check_answer("a"));
  m.answered();
  EXPECT_EQ(m.state(), WorkerState::kAnswered);
}

TEST(RuntimeStateMachine, SecondAnswerForTheSameIdIsAnInvalidStateTransition) {
  auto m = busy_with("a");
  m.answered();
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, UnknownIdIsAnInvalidRequestId) {
  auto m = busy_with("a");
  EXPECT_EQ(m.check_answer("b"), Refusal::kInvalidRequestId);
  m.answered();
  EXPECT_EQ(m.check_answer("b"), Refusal::kInvalidRequestId);
}

TEST(RuntimeStateMachine, AnswerBeforeTheEventIsHandedOutIsRefused) {
  RuntimeStateMachine m;
  EXPECT_FALSE(m.begin_next());
  m.assign("a");
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, NextWhileAnEventIsUnansweredIsRefused) {
  auto m = busy_with("a");
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, ConcurrentNextIsRefused) {
  RuntimeStateMachine m;
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.begin_next(), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, NextAfterAnAnswerParksTheWorkerAgain) {
  auto m = busy_with("a");
  m.answered();
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.state(), WorkerState::kIdle);
  m.assign("b");
  m.end_next(true);
  EXPECT_FALSE(m.check_answer("b"));
  EXPECT_EQ(m.check_answer("a"), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, InitErrorOnlyWhileInitialising) {
  RuntimeStateMachine m;
  EXPECT_FALSE(m.check_init_error());
  EXPECT_FALSE(m.begin_next());
  EXPECT_EQ(m.check_init_error(), Refusal::kInvalidStateTransition);
}

TEST(RuntimeStateMachine, EndedWorkerRefusesEverything) {
  auto m = busy_with("a");
  m.abandoned();
  EXPECT_EQ(m.state(), WorkerState::kEnded);
  EXPECT_EQ(m.begin_next(), Refusal::kWorkerGone);
  EXPECT_EQ(m.check_answer("a"), Refusal::kWorkerGone);
  EXPECT_EQ(m.check_init_error(), Refusal::kWorkerGone);
}

}  // namespace
}  // namespace ember::engine
