// Waiting for what a test can only see by looking (a line in a log file, a state in
// `GET /ember/v1/functions`, a process in /proc): checks again every few milliseconds.
#pragma once

#include <chrono>
#include <thread>

namespace ember::test {

// True once `done()` holds; false when `bound` passed first. The bound is a failure backstop
// for an event that should come, never a timing the test relies on.
template <class Done>
bool eventually(Done done, std::chrono::seconds bound = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace ember::test
