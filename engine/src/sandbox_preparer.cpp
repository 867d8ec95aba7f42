#include "sandbox_preparer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <boost/asio/post.hpp>

namespace ember::engine {
namespace {

isolation::Result<PreparedWorker> prepare(isolation::SandboxBackend& backend,
                                          isolation::SandboxSpec spec) {
  const auto began = std::chrono::steady_clock::now();
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) < 0) return isolation::last_error("pipe2");
  PreparedWorker prepared;
  prepared.output_read = isolation::UniqueFd(pipe_fds[0]);
  prepared.output_write = isolation::UniqueFd(pipe_fds[1]);
  spec.output_fd = prepared.output_write.get();
  auto sandbox = backend.prepare(spec);
  if (!sandbox) return sandbox.error();
  prepared.sandbox = std::move(*sandbox);
  prepared.ready_at = std::chrono::steady_clock::now();
  prepared.took = prepared.ready_at - began;
  return prepared;
}

}  // namespace

SandboxPreparer::SandboxPreparer(boost::asio::any_io_executor executor, bool background)
    : executor_(std::move(executor)), background_(background), thread_([this] { run(); }) {}

SandboxPreparer::~SandboxPreparer() { stop(); }

void SandboxPreparer::submit(isolation::SandboxBackend& backend, isolation::SandboxSpec spec,
                             Done done) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    jobs_.push_back(Job{&backend, std::move(spec), std::move(done)});
  }
  wake_.notify_one();
}

void SandboxPreparer::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SandboxPreparer::run() {
  // Preparing is background work: it must not take a CPU from a runtime that is starting or
  // serving (2 cores are easily both busy at a cold start). Init and the worker it forks
  // inherit this and return to SCHED_OTHER once the sandbox is prepared.
  if (background_) {
    const sched_param idle{0};
    (void)::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle);
  }
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    auto result = std::make_shared<isolation::Result<PreparedWorker>>(
        prepare(*job.backend, std::move(job.spec)));
    // A result posted after the node stopped running its executor is destroyed with the
    // executor's queue, which releases the sandbox.
    boost::asio::post(executor_,
                      [done = std::move(job.done), result] { done(std::move(*result)); });
  }
}

}  // namespace ember::engine
