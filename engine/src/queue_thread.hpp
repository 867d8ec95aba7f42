// The thread that owns the node's event queue (queue::EventQueue): every call to the store
// runs here, never on the engine's thread, because a durable commit waits for the disk.
// Events accepted at the same time share one commit (group commit): the thread takes every
// push waiting when it wakes and stores them in one transaction, so N concurrent callers pay
// for one fsync instead of N.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "ember/queue/event_queue.hpp"

namespace ember::engine {

// Why a call to the store did not happen.
struct QueueFailure {
  std::string message;
  bool full = false;  // queue::QueueFull: nothing could be stored
};

template <class T>
using QueueOutcome = std::variant<T, QueueFailure>;

class QueueThread {
 public:
  QueueThread(boost::asio::any_io_executor executor, std::unique_ptr<queue::EventQueue> queue);
  QueueThread(const QueueThread&) = delete;
  QueueThread& operator=(const QueueThread&) = delete;
  QueueThread(QueueThread&&) = delete;
  QueueThread& operator=(QueueThread&&) = delete;
  ~QueueThread();

  // Stores `event`; `done` runs on the executor once it is durable (monostate) or was refused
  // (after stop(): refused as closed).
  void push(queue::Event event, std::function<void(QueueOutcome<std::monostate>)> done);

  // Runs `work` on the queue's thread and `done` with its result on the executor (after
  // stop(): with a failure, at once).
  template <class Work, class Done>
  void call(Work work, Done done) {
    submit([work = std::move(work), done = std::move(done),
            executor = executor_](queue::EventQueue* queue) mutable {
      using Result = std::invoke_result_t<Work&, queue::EventQueue&>;
      auto outcome = std::make_shared<QueueOutcome<Result>>(
          queue != nullptr ? attempt<Result>(work, *queue) : closed());
      boost::asio::post(executor,
                        [done = std::move(done), outcome]() mutable { done(std::move(*outcome)); });
    });
  }

  // Runs what is queued (results of running attempts must reach the store), then ends the
  // thread; later calls are dropped. Idempotent.
  void stop();

 private:
  // Null when the thread has stopped.
  using Job = std::function<void(queue::EventQueue*)>;
  struct Push {
    queue::Event event;
    std::function<void(QueueOutcome<std::monostate>)> done;
  };

  template <class Result, class Work>
  static QueueOutcome<Result> attempt(Work&& work, queue::EventQueue& queue) {
    try {
      return work(queue);
    } catch (const queue::QueueFull& e) {
      return QueueFailure{e.what(), true};
    } catch (const std::exception& e) {
      return QueueFailure{e.what(), false};
    }
  }

  static QueueFailure closed() {
    return QueueFailure{"the event queue is closed: the node is shutting down", false};
  }
  void submit(Job job);
  void run();
  void store(std::vector<Push> batch);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<queue::EventQueue> queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Push> pushes_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace ember::engine
