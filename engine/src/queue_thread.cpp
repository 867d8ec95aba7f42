#include "queue_thread.hpp"

namespace ember::engine {
namespace {

// One commit holds at most this much: a bigger batch would make its first caller wait for the
// writing of the last one's payload.
constexpr std::size_t kMaxBatchEvents = 512;
constexpr std::size_t kMaxBatchBytes = std::size_t{8} * 1024 * 1024;

}  // namespace

QueueThread::QueueThread(boost::asio::any_io_executor executor,
                         std::unique_ptr<queue::EventQueue> queue)
    : executor_(std::move(executor)), queue_(std::move(queue)), thread_([this] { run(); }) {}

QueueThread::~QueueThread() { stop(); }

void QueueThread::push(queue::Event event, std::function<void(QueueOutcome<std::monostate>)> done) {
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_) {
      pushes_.push_back(Push{std::move(event), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  boost::asio::post(executor_, [done = std::move(done)] { done(closed()); });
}

void QueueThread::submit(Job job) {
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  job(nullptr);
}

void QueueThread::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void QueueThread::run() {
  for (;;) {
    std::vector<Push> batch;
    std::deque<Job> jobs;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pushes_.empty() || !jobs_.empty(); });
      if (pushes_.empty() && jobs_.empty()) return;  // stopping, and everything is done
      std::size_t bytes = 0;
      std::size_t n = 0;
      while (n < pushes_.size() && n < kMaxBatchEvents && bytes < kMaxBatchBytes) {
        bytes += pushes_[n].event.payload.size();
        ++n;
      }
      batch.assign(std::make_move_iterator(pushes_.begin()),
                   std::make_move_iterator(pushes_.begin() + static_cast<std::ptrdiff_t>(n)));
      pushes_.erase(pushes_.begin(), pushes_.begin() + static_cast<std::ptrdiff_t>(n));
      jobs.swap(jobs_);
    }
    if (!batch.empty()) store(std::move(batch));
    for (auto& job : jobs) job(queue_.get());
  }
}

void QueueThread::store(std::vector<Push> batch) {
  std::vector<queue::Event> events;
  events.reserve(batch.size());
  for (auto& push : batch) events.push_back(std::move(push.event));
  auto outcome = attempt<std::monostate>(
      [&](queue::EventQueue& queue) {
        queue.push(events);
        return std::monostate{};
      },
      *queue_);
  // One event the store refuses (not for space) must not take its batch-mates down with it.
  if (const auto* failure = std::get_if<QueueFailure>(&outcome);
      failure != nullptr && !failure->full && batch.size() > 1) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto one = attempt<std::monostate>(
          [&](queue::EventQueue& queue) {
            queue.push(std::span(&events[i], 1));
            return std::monostate{};
          },
          *queue_);
      boost::asio::post(executor_, [done = std::move(batch[i].done), one] { done(one); });
    }
    return;
  }
  for (auto& push : batch) {
    boost::asio::post(executor_, [done = std::move(push.done), outcome] { done(outcome); });
  }
}

}  // namespace ember::engine
