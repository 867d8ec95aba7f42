// One worker: a runtime in a sandbox. Worker orchestrates its pieces: the state machine
// (worker_state.hpp) decides what may happen, the Runtime API session (runtime_api_session.hpp)
// carries the runtime's calls, the output pipe and exit watch (output_pipe.hpp, exit_watch.hpp)
// carry its processes' output and end, the figures (worker_figures.hpp) make its REPORT, and
// two deadlines on the node's deadline clock end what takes too long and freeze what idles.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "deadline.hpp"
#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"
#include "engine_context.hpp"
#include "exit_watch.hpp"
#include "extension_registry.hpp"
#include "invocation.hpp"
#include "log_stream.hpp"
#include "output_pipe.hpp"
#include "runtime_api_session.hpp"
#include "sandbox_preparer.hpp"
#include "start_failure.hpp"
#include "worker_figures.hpp"
#include "worker_state.hpp"
#include "worker_telemetry.hpp"

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
// Lambda's shutdown phase with external extensions: they get SHUTDOWN and this long in all
// before whatever is left is killed.
inline constexpr std::chrono::milliseconds kShutdownLimit{2000};

class Worker final : public RuntimeApiEvents,
                     public runtime_api::ExtensionsApiHandler,
                     public std::enable_shared_from_this<Worker> {
 public:
  using Steady = std::chrono::steady_clock;  // measured durations

  // `id` is unique on the host (it names the sandbox's cgroup): see new_worker_id(). The
  // worker is kStarting until start() launched its runtime.
  // `function` is shared with its pool: a worker of a replaced or removed function keeps the
  // configuration it started with until it ends, even after the pool is gone.
  Worker(EngineContext& context, std::shared_ptr<const config::FunctionConfig> function,
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

  // Gives an idle (or frozen) worker an invocation; `turn` says whether it waited for this
  // worker's start. Thaws a frozen worker first.
  void assign(std::shared_ptr<Invocation> invocation, Turn turn = Turn::kWarm);
  // The pool keeps the worker idle: it freezes after node.freeze_idle_after (if freeze_idle).
  void park();
  // Runs what the deadlines say is due by the deadline clock's time: the node's tick calls
  // this, for clocks that move faster than the wall clock or by hand.
  void check_deadlines(Clock::TimePoint now);
  [[nodiscard]] bool deadline_passed(Clock::TimePoint now) const;

  // Ends the worker: kills its processes and tells the pool, with the reason it never became
  // ready when that is why. Idempotent.
  void retire(std::string_view why, std::optional<StartFailure> failure = std::nullopt);

  [[nodiscard]] WorkerState state() const { return state_.state(); }
  // About to be ready without a new start (see WorkerStateMachine::pending).
  [[nodiscard]] bool pending() const { return state_.pending(); }
  // In its shutdown phase or ended: it has left its pool.
  [[nodiscard]] bool retired() const { return state_.retired(); }
  // Running an asynchronous event: no caller waits on it, so a synchronous caller may queue
  // behind it (it is back within the function's timeout) instead of being throttled.
  [[nodiscard]] bool serving_event() const {
    return current_ != nullptr && current_->request().type == runtime_api::InvocationType::kEvent;
  }
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] std::uint64_t invocations() const { return invocations_; }
  [[nodiscard]] WorkerKind kind() const { return kind_; }
  // For `ember ps`: id, pid, state, age, invocations, last use, memory peak.
  [[nodiscard]] boost::json::object status(engine::Clock::TimePoint now) const;

 private:
  // --- RuntimeApiEvents (from the session)
  std::optional<Refusal> next_called() override;
  bool next_returns(bool delivered) override;
  std::optional<Refusal> answered(const std::string& request_id, AnswerHead head,
                                  std::string body) override;
  runtime_api::StreamStart stream_started(const std::string& request_id,
                                          const std::string& content_type) override;
  void stream_ended(const std::string& request_id, const runtime_api::StreamEnd& end) override;
  std::optional<Refusal> init_failed(StartFailure failure) override;

  // --- runtime_api::ExtensionsApiHandler (from the session; worker_extensions.cpp)
  std::variant<runtime_api::ExtensionRegistration, runtime_api::ExtensionRefusal>
  register_extension(const std::string& name, unsigned events) override;
  boost::asio::awaitable<std::optional<runtime_api::NextEvent>> next_extension_event(
      const std::string& identifier, runtime_api::ExtensionRefusal& refusal) override;
  std::optional<runtime_api::ExtensionRefusal> extension_error(const std::string& identifier,
                                                               bool at_init, std::string error_type,
                                                               std::string body) override;
  std::optional<runtime_api::ExtensionRefusal> subscribe_telemetry(
      const std::string& identifier,
      const runtime_api::TelemetrySubscription& subscription) override;
  // An extension called `next`: the init or invoke phase may be complete now.
  void extension_idle();
  // The runtime is in `next` (kInitialising, kAnswered, or held) and its phase is complete:
  // the worker is ready (idle).
  std::optional<Refusal> become_ready();
  // Retiring (kShuttingDown) with extensions subscribed to SHUTDOWN: they get it, and the
  // sandbox is killed once they all called `next` again or kShutdownLimit passed
  // (finish_shutdown). False, and the worker ended, when the sandbox has no process left.
  bool begin_shutdown(WorkerState before);
  // Extensions may end their shutdown by exiting, which no call tells: the sandbox's process
  // count is checked every few milliseconds until as many have left, of the `processes` it had
  // when SHUTDOWN went out (unknown: nullopt), as still owe a `next`.
  void watch_shutdown_exits(std::optional<std::size_t> processes);
  void finish_shutdown();
  // SIGKILL to the sandbox (its init given up: kInitFailed); its exit ends the start.
  void kill_init();

  // Start, in steps.
  std::optional<StartFailure> launch(std::optional<PreparedWorker>& prepared, int output_fd);
  std::optional<StartFailure> watch(isolation::UniqueFd output);
  // The runtime finished its init (its first `next`): false when it cannot serve.
  bool end_init();

  // How an invocation on this worker ended.
  enum class Ending { kAnswered, kTimedOut, kExited };
  // Writes END and REPORT and answers the caller. kAnswered: the runtime answered (the worker
  // lives on); otherwise the invocation is abandoned and the caller retires the worker.
  void finish(runtime_api::InvokeResult result, Ending ending);
  // platform.runtimeDone and platform.report of the invocation `finish` ends.
  void emit_invocation_telemetry(const runtime_api::InvokeResult& result, bool answered,
                                 const ReportFields& report, const std::string& error_type);
  // "on-demand" or "provisioned-concurrency", as Lambda names a worker's init.
  [[nodiscard]] std::string_view initialization_type() const;
  void fail_start(StartFailure failure);
  void on_deadline();
  void on_invocation_timeout();
  void on_freeze_deadline();
  void on_exit(const isolation::ExitStatus& status);

  // Logs one line; `flush`: write it (and whatever is pending) now rather than with the
  // invocation's next line that is flushed: START once the event is out, END and REPORT together.
  void log(std::string_view line, bool flush = true);
  // Keeps a logged line for the invocation's log tail, or the init's log.
  void capture(std::string_view line);
  void flush_log();

  EngineContext& context_;
  std::shared_ptr<LiveWorkers> live_workers_;
  std::shared_ptr<const config::FunctionConfig> function_owner_;
  const config::FunctionConfig& function_;  // *function_owner_
  std::weak_ptr<FunctionPool> pool_;
  WorkerKind kind_;
  std::string id_;
  engine::Clock::TimePoint created_at_;                // node clock
  std::optional<engine::Clock::TimePoint> last_used_;  // node clock; none before the first
  WorkerStateMachine state_{WorkerState::kStarting};
  WorkerFigures figures_;
  std::uint64_t invocations_ = 0;

  std::unique_ptr<LogStream> log_;
  std::string init_log_;  // what the runtime printed before its first `next`
  std::unique_ptr<isolation::Sandbox> sandbox_;
  OutputPipe output_;
  ExitWatch exit_watch_;
  RuntimeApiSession session_;
  std::shared_ptr<Invocation> current_;
  // The init timeout (kInitialising, kInitHeld; kInitFailed until its exit), the invocation's
  // timeout (kAssigned, kBusy), the answered worker's wait for `next` (kAnswered, kAnswerHeld)
  // or the shutdown phase's limit (kShuttingDown): which one is set follows from the state.
  Deadline deadline_;
  Deadline freeze_deadline_;  // kIdle with node.freeze_idle: freeze from then on

  // Extensions (docs/runtimes.md, "Extensions and layers").
  std::unique_ptr<ExtensionRegistry> extensions_;
  // Their Telemetry API subscriptions and the events for them (docs/runtimes.md, "Telemetry API").
  std::unique_ptr<WorkerTelemetry> telemetry_;
  // The reason SHUTDOWN gives: spindown, or what retired the worker (timeout, failure).
  std::string shutdown_reason_ = "spindown";
  // Paces watch_shutdown_exits(); its wait holds the worker (which has left its pool) for as
  // long as its shutdown phase lasts.
  boost::asio::steady_timer shutdown_poll_;
};

}  // namespace ember::engine
