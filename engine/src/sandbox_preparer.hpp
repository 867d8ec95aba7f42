// Makes prepared sandboxes on a thread of its own, so the few milliseconds each one costs
// (clone, mounts, cgroup, netns listener) never hold up the engine's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "ember/isolation/sandbox.hpp"

namespace ember::engine {

// A prepared sandbox and the pipe its worker's output will come through.
struct PreparedWorker {
  std::unique_ptr<isolation::PreparedSandbox> sandbox;
  isolation::UniqueFd output_read;
  isolation::UniqueFd output_write;  // held until the worker starts (the process backend needs it)
  std::chrono::steady_clock::time_point ready_at;  // prepare() returned
  std::chrono::nanoseconds took{};                 // how long prepare() took
  bool made_ahead = true;  // false: made for a start that was waiting for it
};

class SandboxPreparer {
 public:
  // Runs on the executor; not called for jobs still queued when the preparer stops.
  using Done = std::function<void(isolation::Result<PreparedWorker>)>;

  // background: at SCHED_IDLE (refilling pools); else at the engine's own priority (sandboxes
  // a start waits for).
  SandboxPreparer(boost::asio::any_io_executor executor, bool background);
  SandboxPreparer(const SandboxPreparer&) = delete;
  SandboxPreparer& operator=(const SandboxPreparer&) = delete;
  SandboxPreparer(SandboxPreparer&&) = delete;
  SandboxPreparer& operator=(SandboxPreparer&&) = delete;
  ~SandboxPreparer();

  // Queues backend.prepare(spec); spec.output_fd is set to a new pipe. The backend must
  // outlive the preparer.
  void submit(isolation::SandboxBackend& backend, isolation::SandboxSpec spec, Done done);
  // Drops queued jobs and waits for the one in progress. Idempotent.
  void stop();

 private:
  struct Job {
    isolation::SandboxBackend* backend = nullptr;
    isolation::SandboxSpec spec;
    Done done;
  };

  void run();

  boost::asio::any_io_executor executor_;
  bool background_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace ember::engine
