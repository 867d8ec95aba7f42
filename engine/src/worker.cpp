#include "worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/post.hpp>
#include <cstdlib>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "function_pool.hpp"
#include "live_workers.hpp"
#include "worker_launch.hpp"

namespace ember::engine {

namespace asio = boost::asio;
using runtime_api::InvokeResult;
using runtime_api::RuntimeRefusal;

namespace {
constexpr std::size_t kMaxInitLogBytes = std::size_t{64} * 1024;
}  // namespace

Worker::Worker(EngineContext& context, std::shared_ptr<const config::FunctionConfig> function,
               std::weak_ptr<FunctionPool> pool, WorkerKind kind, std::string id)
    : context_(context),
      live_workers_(context.live_workers),
      function_owner_(std::move(function)),
      function_(*function_owner_),
      pool_(std::move(pool)),
      kind_(kind),
      id_(std::move(id)),
      created_at_(context.clock.now()),
      output_(context.executor),
      exit_watch_(context.executor),
      session_(context.executor, *this),
      deadline_(context.executor, context.deadline_clock),
      freeze_deadline_(context.executor, context.deadline_clock),
      shutdown_poll_(context.executor) {
  live_workers_->add();
}

// The sandbox's own destructor kills and reaps whatever is left.
Worker::~Worker() {
  sandbox_.reset();
  live_workers_->remove();
}

std::string new_worker_id(EngineContext& context, const config::FunctionConfig& function) {
  return function.name + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(context.next_worker_number++);
}

std::optional<StartFailure> Worker::start(std::optional<PreparedWorker> prepared,
                                          std::optional<Steady::time_point> requested_at) {
  figures_.start_requested(requested_at.value_or(Steady::now()));
  deadline_.on_expiry(weak_from_this(), [this] { on_deadline(); });
  freeze_deadline_.on_expiry(weak_from_this(), [this] { on_freeze_deadline(); });
  try {
    log_ = std::make_unique<LogStream>(context_.function_log(function_), context_.echo);
  } catch (const std::exception& e) {
    return StartFailure::platform(e.what());
  }

  isolation::UniqueFd read_end;
  isolation::UniqueFd write_end;
  if (prepared) {
    read_end = std::move(prepared->output_read);
    write_end = std::move(prepared->output_write);
  } else {
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) < 0) {
      return StartFailure::platform(isolation::last_error("pipe2").message());
    }
    read_end = isolation::UniqueFd(pipe_fds[0]);
    write_end = isolation::UniqueFd(pipe_fds[1]);
  }
  extensions_ =
      std::make_unique<ExtensionRegistry>(context_.executor, extension_names(context_, function_));
  session_.set_extensions(this);
  telemetry_ = std::make_unique<WorkerTelemetry>(
      context_.executor, [weak = weak_from_this()]() -> isolation::Result<isolation::UniqueFd> {
        auto self = weak.lock();
        if (!self || !self->sandbox_) {
          return isolation::SysError{0, "telemetry: the worker has ended", {}, false};
        }
        return self->sandbox_->network_socket();
      });
  telemetry_->init_start(initialization_type(), function_.name);
  if (auto failure = launch(prepared, write_end.get())) return failure;
  write_end.reset();  // the worker holds the only write end now, so EOF means it is gone
  try {
    log_->open();  // while the runtime execs
  } catch (const std::exception& e) {
    return StartFailure::platform(e.what());
  }
  if (auto failure = watch(std::move(read_end))) return failure;
  state_.launched();
  deadline_.set_after(kInitTimeout);
  return std::nullopt;
}

// Makes the sandbox (or takes the prepared one) and launches the runtime in it.
std::optional<StartFailure> Worker::launch(std::optional<PreparedWorker>& prepared, int output_fd) {
  const LaunchNames names{.worker_id = id_,
                          .log_stream = log_->name(),
                          .initialization_type = std::string(initialization_type())};
  auto& backend = context_.backend_for(function_);
  const auto spec = make_sandbox_spec(context_, backend, function_, names, output_fd);
  if (prepared && prepared->made_ahead) figures_.sandbox_prepared_ahead(prepared->ready_at);
  // A sandbox made here, on the engine's thread (plain processes; a prepared one that died).
  const auto create = [&] {
    const auto began = Steady::now();
    auto made = backend.create(spec);
    if (made) context_.sandbox_made(Steady::now() - began, /*ahead=*/false);
    return made;
  };
  auto sandbox =
      prepared ? prepared->sandbox->start({spec.argv, spec.env, spec.working_dir}) : create();
  if (!sandbox && prepared && !sandbox.error().bad_entrypoint) {
    // The prepared sandbox died while it waited (its init killed, the host out of memory):
    // this start makes its own, as if none had been waiting.
    log("ember: prepared sandbox " + id_ + " unusable (" + sandbox.error().message() +
        "); making one now");
    figures_.sandbox_made_at_start();
    sandbox = create();
  }
  if (!sandbox) {
    const auto& error = sandbox.error();
    if (!error.bad_entrypoint) {
      return StartFailure::platform("start worker " + id_ + ": " + error.message());
    }
    // Lambda's answer when the runtime cannot be executed.
    log(init_error_report_line(std::chrono::nanoseconds(0), "Runtime.InvalidEntrypoint"));
    log("ember: " + error.message());
    auto failure = StartFailure::runtime("Runtime.InvalidEntrypoint", error.message());
    failure.log = init_log_;
    return failure;
  }
  sandbox_ = std::move(*sandbox);
  return std::nullopt;
}

// Reads the runtime's output, watches for its exit and serves its Runtime API.
std::optional<StartFailure> Worker::watch(isolation::UniqueFd output) {
  auto self = shared_from_this();
  if (auto ec = output_.start(
          std::move(output), self,
          [this](std::string_view line) {
            // Past the function's log caps a line is dropped (and counted) everywhere: file,
            // echo, log tail and telemetry.
            if (log_ && !log_->function_line(line)) return;
            capture(line);
            telemetry_->function_line(line);
          },
          [this] { flush_log(); })) {
    return StartFailure::platform("output pipe of " + id_ + ": " + ec.message());
  }
  if (auto ec = exit_watch_.start(
          sandbox_->exit_fd(), self, [this] { return sandbox_->try_reap(); },
          [this](const isolation::ExitStatus& status) { on_exit(status); })) {
    return StartFailure::platform("dup pidfd of " + id_ + ": " + ec.message());
  }
  // Shares the worker's lifetime: a Runtime API call in progress keeps the worker alive.
  const std::shared_ptr<runtime_api::RuntimeApiHandler> handler(self, &session_);
  if (auto ec = session_.serve(sandbox_->take_runtime_api_listener(), handler)) {
    return StartFailure::platform("runtime API listener of " + id_ + ": " + ec.message());
  }
  return std::nullopt;
}

void Worker::park() {
  // Only a worker that stays idle is frozen: a busy function's workers would otherwise pay
  // a freeze and a thaw (a few hundred microseconds on cgroup v1) on every invocation.
  if (context_.node.freeze_idle) freeze_deadline_.set_after(context_.node.freeze_idle_after);
}

void Worker::on_freeze_deadline() {
  if (state_.state() != WorkerState::kIdle) return;  // busy since it was parked
  if (telemetry_->pending()) {
    // A frozen subscriber would hold its telemetry (the last REPORT) until the next invocation:
    // it gets it now, and the worker freezes once nothing is left to deliver.
    telemetry_->flush();
    freeze_deadline_.set_after(context_.node.freeze_idle_after);
    return;
  }
  if (auto frozen = sandbox_->freeze(); !frozen) {
    log("ember: could not freeze idle worker " + id_ + ": " + frozen.error().message());
    return;
  }
  state_.freeze();
}

bool Worker::deadline_passed(Clock::TimePoint now) const {
  const auto passed = [now](const Deadline& d) { return d.due() && *d.due() <= now; };
  return passed(deadline_) || passed(freeze_deadline_);
}

void Worker::check_deadlines(Clock::TimePoint now) {
  deadline_.check(now);
  freeze_deadline_.check(now);
}

void Worker::on_deadline() {
  switch (state_.state()) {
    case WorkerState::kInitialising:
    case WorkerState::kInitHeld:
    case WorkerState::kInitFailed:  // its exit has not come
      if (auto missing = extensions_->missing(); !missing.empty()) {
        log("ember: extensions that never registered: " + missing);
      }
      kill_init();
      fail_start(StartFailure::runtime(
          "Sandbox.Timedout",
          "Init phase timed out after " + std::to_string(kInitTimeout.count()) + ".00 seconds"));
      return;
    case WorkerState::kAssigned:
    case WorkerState::kBusy:
      on_invocation_timeout();
      return;
    case WorkerState::kAnswered:
    case WorkerState::kAnswerHeld:
      // The pool counts on an answered worker coming back to `next`; one that never does is
      // hung, and is ended so it cannot hold a waiter.
      log(std::string("ember: ") +
          (state_.state() == WorkerState::kAnswerHeld ? "an extension" : "the runtime") +
          " did not call next within " + std::to_string(function_.timeout_s) +
          " s of answering; ending this worker");
      retire("did not return to next");
      return;
    case WorkerState::kShuttingDown:
      finish_shutdown();  // the shutdown phase's limit
      return;
    case WorkerState::kStarting:
    case WorkerState::kIdle:
    case WorkerState::kFrozen:
    case WorkerState::kEnded:
      return;
  }
}

void Worker::assign(std::shared_ptr<Invocation> invocation, Turn turn) {
  if (state_.state() == WorkerState::kFrozen) {
    if (auto thawed = sandbox_->thaw(); !thawed) {
      log("ember: could not thaw worker " + id_ + ": " + thawed.error().message());
    }
  }
  if (!state_.assign(invocation->id())) {
    // The pool only hands invocations to idle workers; anything else is a bug.
    log("ember: worker " + id_ + " was given an invocation while " +
        std::string(state_name(state_.state())));
    std::abort();
  }
  freeze_deadline_.clear();
  current_ = std::move(invocation);
  figures_.assigned(Steady::now(), turn, kind_ == WorkerKind::kOnDemand);
  if (figures_.cold()) current_->capture_log(init_log_, /*raw=*/true);
  log_->begin_invocation(current_->id());
  // Written once the event is handed out (see next_returns()), not before it.
  log(start_line(current_->id(), function_.version), /*flush=*/false);
  const auto timeout = std::chrono::seconds(function_.timeout_s);
  auto event = next_event_for(*current_, timeout);
  deadline_.set_after(timeout);
  telemetry_->start(current_->id(), event.trace_id);
  extensions_->invoke(event);
  session_.deliver(std::move(event));
}

std::optional<RuntimeRefusal> Worker::next_called() {
  if (auto refused = state_.check_next()) return refused;
  if (state_.state() == WorkerState::kInitialising) {
    telemetry_->init_runtime_done(initialization_type(), "success", {});
  }
  if (!extensions_->phase_complete()) {
    // Lambda's init (and invoke) phase ends when the runtime and every extension called next:
    // this `next` waits for the last extension (extension_idle()).
    state_.hold();
    return std::nullopt;
  }
  return become_ready();
}

std::optional<RuntimeRefusal> Worker::become_ready() {
  auto self = shared_from_this();
  const bool init = state_.initialising();
  const bool answered = !init;  // kAnswered or kAnswerHeld
  if (answered) {
    if (auto failure = extensions_->failure(); !failure.empty()) {
      retire("an extension reported exit/error " + failure);
      return RuntimeRefusal::kWorkerGone;
    }
  }
  if (init && !end_init()) return RuntimeRefusal::kWorkerGone;
  if (!state_.ready()) return RuntimeRefusal::kInvalidStateTransition;
  // Neither an init nor an answered worker's wait for `next` runs on.
  deadline_.clear();
  if (answered && !extensions_->empty()) {
    // REPORT went out with the answer; what the extensions took after it is Lambda's
    // PostRuntimeExtensionsDuration, logged once the invoke phase is over.
    log("ember: RequestId: " + state_.last_answered_id() + " PostRuntimeExtensionsDuration: " +
        format_ms(figures_.since_answer(Steady::now())) + " ms");
  }
  if (init) {
    const auto now = Steady::now();
    telemetry_->init_report(initialization_type(), "success", {}, figures_.init_duration(now));
    telemetry_->init_ended();
    figures_.init_done(now);
  }
  if (auto pool = pool_.lock()) pool->worker_ready(self, init);
  return std::nullopt;
}

bool Worker::end_init() {
  if (auto limited = sandbox_->end_init_burst(); !limited) {
    // A worker that keeps the whole CPU would starve its neighbours: it ends (and its
    // start fails with the exit), rather than serve unlimited.
    log("ember: could not apply the CPU quota after init: " + limited.error().message());
    kill_init();  // its exit fails the start (Runtime.ExitError, signal: killed)
    return false;
  }
  return true;
}

bool Worker::next_returns(bool delivered) {
  if (!state_.end_next(delivered)) return false;
  figures_.handed_out(Steady::now());
  // START goes to the log right after the event is written to the runtime (the session's
  // caller writes it before the posted flush runs), while the runtime works on it.
  asio::post(context_.executor, [weak = weak_from_this()] {
    if (auto worker = weak.lock()) worker->flush_log();
  });
  return true;
}

std::optional<RuntimeRefusal> Worker::answered(const std::string& request_id, AnswerHead head,
                                               std::string body) {
  if (auto refused = state_.check_answer(request_id)) return refused;
  InvokeResult result;
  if (!head.content_type.empty()) result.content_type = std::move(head.content_type);
  result.function_error = std::move(head.function_error);
  result.error_type = std::move(head.error_type);
  result.payload = std::move(body);
  finish(std::move(result), Ending::kAnswered);
  return std::nullopt;
}

runtime_api::StreamStart Worker::stream_started(const std::string& request_id,
                                                const std::string& content_type) {
  runtime_api::StreamStart start;
  start.refusal = state_.check_answer(request_id);
  if (start.refusal || !current_->wants_stream()) return start;
  // The caller gets the stream now; the invocation runs on (its timeout too) until it ends.
  start.stream = std::make_shared<runtime_api::ResponseStream>(context_.executor, content_type);
  current_->begin_stream(start.stream);
  return start;
}

void Worker::stream_ended(const std::string& request_id, const runtime_api::StreamEnd& end) {
  // Timed out or ended meanwhile: the stream was ended with that error already.
  if (state_.check_answer(request_id)) return;
  InvokeResult result;
  if (!end.error_type.empty()) {
    result.function_error = "Unhandled";
    result.error_type = end.error_type;
    result.payload = end.error_details;
  }
  finish(std::move(result), Ending::kAnswered);
}

std::optional<RuntimeRefusal> Worker::init_failed(StartFailure failure) {
  if (auto refused = state_.check_init_error()) return refused;
  fail_start(std::move(failure));
  return std::nullopt;
}

void Worker::finish(InvokeResult result, Ending ending) {
  const bool answered = ending == Ending::kAnswered;
  output_.drain();
  log_->end_invocation();  // what its caps dropped, said before END
  const auto now = Steady::now();
  const bool handed_out = state_.state() == WorkerState::kBusy;
  if (sandbox_) figures_.sample_memory(sandbox_->peak_memory_bytes());
  log(end_line(current_->id()), /*flush=*/false);
  if (current_->request().want_timings) {
    result.cold = figures_.cold();
    result.phases = figures_.phases(sandbox_->timings(), handed_out, now);
  }
  const auto report = figures_.report(current_->id(), function_.memory_mb, handed_out, now);
  log(report_line(report));
  log_->after_invocation();
  const Outcome outcome = ending == Ending::kTimedOut     ? Outcome::kTimeout
                          : ending == Ending::kExited     ? Outcome::kCrash
                          : result.function_error.empty() ? Outcome::kSuccess
                                                          : Outcome::kError;
  // The runtime's error-type header, else the errorType of the error document (a timeout's
  // Sandbox.Timedout, a crash's Runtime.ExitError); only failures pay for reading it.
  const std::string error_type = result.function_error.empty() ? std::string()
                                 : result.error_type.empty()   ? error_type_in(result.payload)
                                                               : result.error_type;
  emit_invocation_telemetry(result, answered, report, error_type);

  ++invocations_;
  last_used_ = context_.clock.now();
  if (auto pool = pool_.lock()) pool->invocation_finished(report, outcome, error_type);
  if (answered) {
    state_.answered();
    figures_.answered(now);
    deadline_.set_after(std::chrono::seconds(function_.timeout_s));  // back to `next` by then
  }
  std::exchange(current_, nullptr)->complete(std::move(result));
  if (answered && function_.max_reuse != 0 && invocations_ >= function_.max_reuse) {
    // After the caller's answer is on its way: ending a sandbox waits for its cgroup to empty.
    asio::post(context_.executor, [self = shared_from_this()] {
      self->retire("served max_reuse (" + std::to_string(self->function_.max_reuse) +
                   ") invocations");
    });
  }
}

void Worker::emit_invocation_telemetry(const InvokeResult& result, bool answered,
                                       const ReportFields& report, const std::string& error_type) {
  if (!telemetry_->active()) return;
  std::string_view status = "success";
  if (!result.function_error.empty()) {
    status = !answered && error_type == "Sandbox.Timedout" ? "timeout" : "error";
  }
  telemetry_->runtime_done(report.request_id, status, error_type, report.duration,
                           answered ? result.payload.size() : 0);
  telemetry_->report(status, error_type, report);
}

std::string_view Worker::initialization_type() const {
  return kind_ == WorkerKind::kProvisioned ? "provisioned-concurrency" : "on-demand";
}

boost::json::object Worker::status(engine::Clock::TimePoint now) const {
  static constexpr const char* kKinds[] = {"on-demand", "provisioned", "prewarmed"};
  boost::json::object out;
  out["id"] = id_;
  out["pid"] = sandbox_ ? sandbox_->pid() : 0;
  out["state"] = state_name(state_.state());
  out["kind"] = kKinds[static_cast<std::size_t>(kind_)];
  out["sandbox"] =
      figures_.sandbox_source() == SandboxSource::kPreparedAhead ? "prepared" : "made at start";
  out["age_s"] = std::chrono::duration<double>(now - created_at_).count();
  out["invocations"] = invocations_;
  if (last_used_) {
    out["last_used_s"] = std::chrono::duration<double>(now - *last_used_).count();
  } else {
    out["last_used_s"] = nullptr;
  }
  out["memory_peak_mb"] = memory_used_mb(
      std::max(figures_.peak_memory_bytes(), sandbox_ ? sandbox_->peak_memory_bytes() : 0));
  return out;
}

void Worker::on_invocation_timeout() {
  const auto timeout = std::chrono::seconds(function_.timeout_s);
  figures_.sample_memory(sandbox_->peak_memory_bytes());
  if (extensions_->wants_shutdown()) {
    // Lambda resets the environment through a shutdown phase: SHUTDOWN `timeout` first
    // (retire() below), the kill after it.
    shutdown_reason_ = "timeout";
  } else {
    sandbox_->kill_all();  // retire() ends it without a shutdown phase: nobody wants SHUTDOWN
  }
  output_.drain();
  log(timeout_line(std::chrono::system_clock::now(), current_->id(), timeout));
  InvokeResult result;
  result.function_error = "Unhandled";
  result.payload = runtime_api::error_body(
      "Sandbox.Timedout", "RequestId: " + current_->id() + " Error: " + timeout_message(timeout));
  finish(std::move(result), Ending::kTimedOut);
  retire("timed out");
}

void Worker::on_exit(const isolation::ExitStatus& status) {
  output_.drain();
  const std::string why = "Runtime exited with error: " + status.describe();
  shutdown_reason_ = "failure";
  switch (state_.state()) {
    case WorkerState::kInitialising:
    case WorkerState::kInitHeld:
    case WorkerState::kInitFailed:
      // The sandbox could not exec the runtime: the function's fault (a missing or
      // unexecutable bootstrap) or the node's.
      if (auto failure = sandbox_->launch_failure()) {
        log("ember: " + failure->message());
        if (failure->bad_entrypoint) {
          fail_start(StartFailure::runtime("Runtime.InvalidEntrypoint", failure->message()));
        } else {
          retire("could not start",
                 StartFailure::platform("start worker " + id_ + ": " + failure->message()));
        }
        return;
      }
      fail_start(StartFailure::runtime("Runtime.ExitError", why));
      return;
    case WorkerState::kAssigned:
    case WorkerState::kBusy: {
      // The memory cgroup's OOM killer ended it: Lambda calls that Runtime.OutOfMemory.
      const std::string error_type =
          sandbox_->oom_killed() ? "Runtime.OutOfMemory" : "Runtime.ExitError";
      const std::string message = "RequestId: " + current_->id() + " Error: " + why;
      log(message);
      log(error_type);
      InvokeResult result;
      result.function_error = "Unhandled";
      result.payload = runtime_api::error_body(error_type, message);
      finish(std::move(result), Ending::kExited);
      break;
    }
    case WorkerState::kStarting:
    case WorkerState::kIdle:
    case WorkerState::kFrozen:
    case WorkerState::kAnswered:
    case WorkerState::kAnswerHeld:
    case WorkerState::kShuttingDown:
    case WorkerState::kEnded:
      break;
  }
  retire(why);
}

void Worker::fail_start(StartFailure failure) {
  if (state_.retired()) return;
  output_.drain();
  const auto init_duration = figures_.init_duration(Steady::now());
  log(init_error_report_line(init_duration, failure.error_type));
  if (telemetry_) {
    const std::string_view status = failure.platform_fault                     ? "failure"
                                    : failure.error_type == "Sandbox.Timedout" ? "timeout"
                                                                               : "error";
    telemetry_->init_runtime_done(initialization_type(), status, failure.error_type);
    telemetry_->init_report(initialization_type(), status, failure.error_type, init_duration);
  }
  failure.log = init_log_;
  const std::string why = "failed to initialise: " + failure.error_type;
  retire(why, std::move(failure));
}

void Worker::retire(std::string_view why, std::optional<StartFailure> failure) {
  if (state_.retired()) return;
  const WorkerState before = state_.state();
  // Extensions subscribed to SHUTDOWN get a shutdown phase, unless the worker never got its
  // sandbox or its init was given up (killed already): the machine refuses those.
  const bool shutting_down =
      sandbox_ && extensions_ && extensions_->wants_shutdown() && state_.shut_down();
  if (!shutting_down) state_.end();
  auto self = shared_from_this();
  deadline_.cancel();
  freeze_deadline_.cancel();
  // What waits goes out now: the subscribers are gone once the sandbox is.
  if (telemetry_) telemetry_->flush();
  if (failure) shutdown_reason_ = "failure";
  const bool graceful = shutting_down && begin_shutdown(before);
  if (!graceful) {
    if (telemetry_) telemetry_->close();
    // Kill first: a runtime that saw its Runtime API close would log a confusing last error.
    if (sandbox_) sandbox_->kill_all();
    if (before == WorkerState::kFrozen) (void)sandbox_->thaw();  // a frozen process dies thawed
    if (extensions_) extensions_->close();
    session_.close();
  }
  auto pool = pool_.lock();
  if (current_) {
    // Only shutdown retires a worker with an invocation still open.
    if (pool && !current_->completed()) pool->count(Outcome::kServiceError);
    InvokeResult result;
    result.service_error = runtime_api::ServiceError::kServiceUnavailable;
    result.message = "The node is shutting down (worker " + id_ + ": " + std::string(why) + ")";
    std::exchange(current_, nullptr)->complete(std::move(result));
  }
  if (!graceful) {
    output_.drain();
    flush_log();
    output_.close();
  }
  if (pool) pool->worker_ended(self, std::move(failure));
}

void Worker::kill_init() {
  state_.fail_init();
  sandbox_->kill_all();
}

void Worker::flush_log() {
  if (log_) log_->flush();
}

void Worker::log(std::string_view line, bool flush) {
  if (log_) log_->write(line, flush);
  capture(line);
}

void Worker::capture(std::string_view line) {
  if (current_) {
    current_->capture_log(line);
  } else if ((state_.state() == WorkerState::kStarting || state_.initialising() ||
              state_.state() == WorkerState::kInitFailed) &&
             init_log_.size() < kMaxInitLogBytes) {
    init_log_.append(line).push_back('\n');
  }
}

}  // namespace ember::engine
