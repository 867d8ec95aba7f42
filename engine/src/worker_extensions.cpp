// Worker's side of the Extensions API: registration, each extension's `next`, its errors, and
// the shutdown phase. The decisions about phases are here; the bookkeeping is the registry's.
#include <boost/asio/post.hpp>

#include "destination_record.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "function_pool.hpp"
#include "worker.hpp"

namespace ember::engine {

namespace asio = boost::asio;
using runtime_api::ExtensionRefusal;

namespace {

std::string events_text(unsigned events) {
  std::string out;
  if ((events & runtime_api::kInvokeEvent) != 0) out = "INVOKE";
  if ((events & runtime_api::kShutdownEvent) != 0) out += out.empty() ? "SHUTDOWN" : ",SHUTDOWN";
  return "[" + out + "]";
}

std::string types_text(unsigned types) {
  std::string out;
  for (const auto& name : runtime_api::telemetry_type_names(types)) {
    out += (out.empty() ? "" : ",") + name;
  }
  return "[" + out + "]";
}

// How often the shutdown phase looks for extensions that exited (watch_shutdown_exits).
constexpr std::chrono::milliseconds kShutdownPoll{20};

ExtensionRefusal worker_gone() {
  auto refusal =
      runtime_api::extension_forbidden("ServiceException", "The worker is shutting down");
  refusal.status = boost::beast::http::status::internal_server_error;
  return refusal;
}

// What the caller of a failed init reads: the extension's own message, under its name.
std::string message_of(std::string_view body, const std::string& name) {
  auto own = error_message_of(body);
  return "Extension " + name + (own.empty() ? " failed to initialise" : ": " + own);
}

}  // namespace

std::variant<runtime_api::ExtensionRegistration, ExtensionRefusal> Worker::register_extension(
    const std::string& name, unsigned events) {
  if (state_.retired()) return worker_gone();
  auto added = extensions_->add(name, events, state_.initialising());
  if (auto* refused = std::get_if<ExtensionRefusal>(&added)) return std::move(*refused);
  runtime_api::ExtensionRegistration registration;
  registration.identifier = std::move(std::get<std::string>(added));
  registration.function_name = function_.name;
  registration.handler = function_.handler;
  log("EXTENSION\tName: " + name + "\tState: Registered\tEvents: " + events_text(events));
  std::vector<std::string> event_names;
  if ((events & runtime_api::kInvokeEvent) != 0) event_names.emplace_back("INVOKE");
  if ((events & runtime_api::kShutdownEvent) != 0) event_names.emplace_back("SHUTDOWN");
  telemetry_->extension(name, event_names);
  return registration;
}

asio::awaitable<std::optional<runtime_api::NextEvent>> Worker::next_extension_event(
    const std::string& identifier, ExtensionRefusal& refusal) {
  auto found = extensions_->find(identifier);
  if (auto* refused = std::get_if<ExtensionRefusal>(&found)) {
    refusal = std::move(*refused);
    return NextEventSlot::nothing();
  }
  auto* extension = std::get<ExtensionRegistry::Extension*>(found);
  if (!extension->busy) {
    refusal = runtime_api::extension_forbidden(
        "Extension.InvalidExtensionState",
        "Extension " + extension->name + " is already waiting in event/next");
    return NextEventSlot::nothing();
  }
  if (extension->owes_shutdown_next) {
    extension->owes_shutdown_next = false;  // done with INVOKE; SHUTDOWN is what it gets now
  } else {
    extension->busy = false;
    extension_idle();
  }
  return extension->slot.receive([&refusal](bool delivered) {
    if (!delivered) refusal = worker_gone();
    return delivered;
  });
}

void Worker::extension_idle() {
  if (state_.state() == WorkerState::kShuttingDown) {
    if (extensions_->all_idle()) {
      // After the answer to this `next` is written, not before: SIGKILL would cut it.
      asio::post(context_.executor, [self = shared_from_this()] { self->finish_shutdown(); });
    }
    return;
  }
  if (!state_.held() || !extensions_->phase_complete()) return;
  (void)become_ready();
}

std::optional<ExtensionRefusal> Worker::extension_error(const std::string& identifier, bool at_init,
                                                        std::string error_type, std::string body) {
  auto found = extensions_->find(identifier);
  if (auto* refused = std::get_if<ExtensionRefusal>(&found)) return std::move(*refused);
  auto* extension = std::get<ExtensionRegistry::Extension*>(found);
  const bool initialising = state_.initialising();
  if (at_init && !initialising) {
    return runtime_api::extension_forbidden("Extension.InvalidExtensionState",
                                            "init/error after the init phase ended");
  }
  extension->failed = true;
  extension->error_type = error_type;
  log("EXTENSION\tName: " + extension->name + "\tState: " + (at_init ? "InitError" : "ExitError") +
      "\tError Type: " + error_type);
  if (initialising) {
    // Lambda fails the init with the extension's error and resets the environment.
    auto message = message_of(body, extension->name);
    fail_start(StartFailure::runtime(error_type, std::move(message), std::move(body)));
    return std::nullopt;
  }
  // Once the phase is over (become_ready), or now for a worker between invocations.
  if (state_.state() == WorkerState::kIdle || state_.state() == WorkerState::kFrozen) {
    asio::post(context_.executor, [self = shared_from_this()] {
      self->retire("an extension reported exit/error " + self->extensions_->failure());
    });
  } else {
    extension_idle();  // it will not call `next` again: the phase need not wait for it
  }
  return std::nullopt;
}

std::optional<ExtensionRefusal> Worker::subscribe_telemetry(
    const std::string& identifier, const runtime_api::TelemetrySubscription& subscription) {
  auto found = extensions_->find(identifier);
  if (auto* refused = std::get_if<ExtensionRefusal>(&found)) return std::move(*refused);
  if (!state_.initialising()) {
    // RIE's answer; Lambda's documentation has extensions subscribe during their init.
    return runtime_api::extension_forbidden("Telemetry.SubscriptionClosed",
                                            "Telemetry API subscription is closed: extensions "
                                            "subscribe during the init phase");
  }
  const auto* extension = std::get<ExtensionRegistry::Extension*>(found);
  log("TELEMETRY\tName: " + extension->name + "\tState: Subscribed\tTypes: " +
      types_text(subscription.types) + "\tDestination: " + subscription.uri);
  telemetry_->subscribe(extension->name, subscription);
  return std::nullopt;
}

bool Worker::begin_shutdown(WorkerState before) {
  // A native sandbox whose init exited (its runtime did) has taken every process with it.
  const auto processes = sandbox_->process_count();
  if (processes == std::size_t{0}) {
    state_.end();
    return false;
  }
  if (before == WorkerState::kFrozen) (void)sandbox_->thaw();
  const auto deadline = std::chrono::system_clock::now() + kShutdownLimit;
  extensions_->shut_down(shutdown_reason_, deadline);  // someone wants it: see retire()
  deadline_.set_after(kShutdownLimit);
  watch_shutdown_exits(processes);
  return true;
}

void Worker::watch_shutdown_exits(std::optional<std::size_t> processes) {
  shutdown_poll_.expires_after(kShutdownPoll);
  // `self`: nothing else holds a worker that has left its pool.
  shutdown_poll_.async_wait([self = shared_from_this(), processes](boost::system::error_code ec) {
    if (ec || self->state() != WorkerState::kShuttingDown) return;
    const auto now = self->sandbox_->process_count();
    const auto left = processes && now && *now <= *processes ? *processes - *now : std::size_t{0};
    // An unknown count never ends the phase early: the extensions' `next` or the limit do.
    if (processes && left >= self->extensions_->busy_count()) {
      self->finish_shutdown();
      return;
    }
    self->watch_shutdown_exits(processes);
  });
}

void Worker::finish_shutdown() {
  if (state_.state() != WorkerState::kShuttingDown) return;  // ended already
  state_.end();
  deadline_.cancel();
  shutdown_poll_.cancel();
  sandbox_->kill_all();
  extensions_->close();
  telemetry_->close();
  session_.close();
  output_.drain();
  flush_log();
  output_.close();
}

}  // namespace ember::engine
