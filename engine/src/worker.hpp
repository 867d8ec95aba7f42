// One worker: a runtime process in a sandbox, its Runtime API listener, its log, and the
// state machine that decides which of its calls are allowed.
#pragma once

#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "engine_context.hpp"
#include "invocation.hpp"
#include "log_stream.hpp"
#include "runtime_state.hpp"
#include "sandbox_preparer.hpp"

namespace ember::engine {

class FunctionPool;

// "<function>-<engine pid>-<n>": unique on the host, so it can name cgroups.
std::string new_worker_id(EngineContext& context, const config::FunctionConfig& function);

// Why a worker was started.
enum class WorkerKind {
  kOnDemand,     // for an invocation that found no idle worker
  kProvisioned,  // kept ready by `provisioned`; its init never shows on an invocation
  kPrewarmed,    // started by the adaptive keep-alive just before an expected invocation
};

// Lambda's limit on the init phase of an on-demand environment.
inline constexpr std::chrono::seconds kInitTimeout{10};

// Why a worker stopped before it could serve: becomes the error of the invocation waiting for it.
struct StartFailure {
  std::string error_type;    // "Runtime.ExitError", a runtime's init/error type, ...
  std::string message;       // without the "RequestId: ID Error: " prefix
  std::string runtime_body;  // the runtime's own init/error body, when it sent one
  bool platform = false;     // ember could not start it (a 500), rather than the runtime failing
  std::string log;           // what the runtime printed while it initialised
};

class Worker final : public runtime_api::RuntimeApiHandler,
                     public std::enable_shared_from_this<Worker> {
 public:
  using Steady = std::chrono::steady_clock;  // wall time: durations, deadlines

  // `id` is unique on the host (it names the sandbox's cgroup): see new_worker_id().
  Worker(EngineContext& context, const config::FunctionConfig& function,
         std::weak_ptr<FunctionPool> pool, WorkerKind kind, std::string id);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;
  ~Worker() override;

  // Starts the runtime in `prepared` (made with this worker's id), or in a sandbox made now,
  // and starts serving its Runtime API. Returns the reason on failure.
  // requested_at: when the start was asked for, if its sandbox was made for it meanwhile
  // (Init Duration counts from then).
  std::optional<StartFailure> start(std::optional<PreparedWorker> prepared = std::nullopt,
                                    std::optional<Steady::time_point> requested_at = {});

  // Gives the worker an invocation. Only in kIdle, or right after start (it is handed out
  // when the runtime asks). Thaws a parked worker first.
  void assign(std::shared_ptr<Invocation> invocation);
  // The pool keeps the worker idle: freeze it (node.freeze_idle), and no later invocation
  // reports its init.
  void park();

  // Ends the worker: kills its processes and tells the pool, with the reason it never became
  // ready when that is why. Idempotent.
  void retire(std::string_view why, std::optional<StartFailure> failure = std::nullopt);

  [[nodiscard]] WorkerState state() const { return protocol_.state(); }
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] std::uint64_t invocations() const { return invocations_; }
  [[nodiscard]] WorkerKind kind() const { return kind_; }
  [[nodiscard]] bool parked_before() const { return parked_before_; }
  // For `ember ps`: id, pid, state, age, invocations, last use, memory peak.
  [[nodiscard]] boost::json::object status(engine::Clock::TimePoint now) const;

  // --- runtime_api::RuntimeApiHandler
  boost::asio::awaitable<std::optional<runtime_api::NextEvent>> next(
      runtime_api::RuntimeRefusal& refusal) override;
  std::optional<runtime_api::RuntimeRefusal> response(const std::string& request_id,
                                                      std::string content_type,
                                                      std::string body) override;
  std::optional<runtime_api::RuntimeRefusal> error(const std::string& request_id,
                                                   std::string error_type,
                                                   std::string body) override;
  void response_too_large(const std::string& request_id) override;
  std::optional<runtime_api::RuntimeRefusal> init_error(std::string error_type,
                                                        std::string body) override;

 private:
  using EventChannel =
      boost::asio::experimental::channel<void(boost::system::error_code, runtime_api::NextEvent)>;

  // Writes END and REPORT and answers the caller. `answered`: the runtime answered (the
  // worker lives on); otherwise the invocation was abandoned and the worker ends.
  void finish(runtime_api::InvokeResult result, bool answered);
  void fail_start(StartFailure failure);
  void on_timeout();

  // The invocation's timeout and the answered worker's wait for `next` share one timer that is
  // re-armed lazily: setting or clearing a deadline per invocation costs no timer operation.
  enum class Deadline { kNone, kInvocation, kNextCall };
  void set_deadline(Deadline kind, std::chrono::seconds after);
  void arm_deadline();
  void on_deadline();
  // The same for freezing an idle worker after node.freeze_idle_after.
  void arm_freeze_timer();
  void on_freeze_timer();
  void on_exit(const isolation::ExitStatus& status);

  boost::asio::awaitable<void> watch_exit();
  boost::asio::awaitable<void> read_output();
  void drain_output();
  void consume_output(std::string_view bytes, bool flush_partial);
  // Logs one line; `flush`: write it (and whatever is pending) now rather than with the
  // invocation's next line that is flushed: START once the event is out, END and REPORT together.
  void log(std::string_view line, bool flush = true);
  void flush_log();

  EngineContext& context_;
  std::shared_ptr<std::size_t> live_workers_;
  const config::FunctionConfig& function_;
  std::weak_ptr<FunctionPool> pool_;
  WorkerKind kind_;
  std::string id_;
  engine::Clock::TimePoint created_at_;                // node clock
  std::optional<engine::Clock::TimePoint> last_used_;  // node clock
  bool parked_before_ = false;
  bool frozen_ = false;
  RuntimeStateMachine protocol_;
  bool retired_ = false;

  std::unique_ptr<LogStream> log_;
  std::unique_ptr<isolation::Sandbox> sandbox_;
  std::shared_ptr<runtime_api::HttpServer> runtime_api_;
  boost::asio::posix::stream_descriptor output_;
  boost::asio::posix::stream_descriptor exit_watch_;
  bool output_nonblocking_ = false;  // drain_output() set O_NONBLOCK on the pipe
  std::string partial_line_;
  std::string init_log_;  // what the runtime printed before its first `next`

  EventChannel events_;
  std::shared_ptr<Invocation> current_;
  Steady::time_point start_requested_at_{};  // Init Duration counts from here
  // When the sandbox it started in was made ahead of time, when that was done.
  std::optional<Steady::time_point> sandbox_prepared_at_;
  Steady::time_point handed_out_at_{};
  Steady::time_point assigned_at_{};
  Steady::time_point init_done_at_{};
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer init_deadline_;
  boost::asio::steady_timer freeze_timer_;
  Deadline deadline_kind_ = Deadline::kNone;
  Steady::time_point deadline_at_{};
  bool deadline_armed_ = false;
  Steady::time_point freeze_at_{};  // while parked (kIdle): freeze from then on
  bool freeze_armed_ = false;
  std::optional<std::chrono::nanoseconds> init_duration_;  // until the first REPORT carries it
  std::uint64_t peak_memory_bytes_ = 0;
  std::uint64_t invocations_ = 0;
};

}  // namespace ember::engine
