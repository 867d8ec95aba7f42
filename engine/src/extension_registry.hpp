// One worker's extensions (Extensions API 2020-01-01): who registered for which events, who
// is still working on its last event, and the channel each one's `event/next` waits on. The
// Worker asks it whether its init and each invocation are complete (docs/runtimes.md,
// "Extensions and layers").
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ember/runtime_api/extensions_api.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "next_event_slot.hpp"

namespace ember::engine {

// Lambda's limit on extensions per function.
inline constexpr std::size_t kMaxExtensions = 10;

class ExtensionRegistry {
 public:
  struct Extension {
    explicit Extension(const boost::asio::any_io_executor& executor) : slot(executor) {}
    std::string id;
    std::string name;
    unsigned events = runtime_api::kNoEvents;
    bool external = false;   // started from /opt/extensions (else inside the runtime process)
    bool busy = true;        // has not called `next` since registering or since its last event
    bool failed = false;     // reported init/error or exit/error: takes no further calls
    std::string error_type;  // what it reported, when it failed
    // SHUTDOWN came while it still worked on INVOKE: its next `next` ends that, and only the
    // one after it ends the shutdown.
    bool owes_shutdown_next = false;
    // The event JSON travels as a NextEvent's payload: the runtime's one-slot channel, reused.
    NextEventSlot slot;
  };

  // `expected`: the file names in /opt/extensions, each of which must register.
  ExtensionRegistry(boost::asio::any_io_executor executor, std::vector<std::string> expected);

  // A registration while `open`; the identifier, or Lambda's refusal.
  std::variant<std::string, runtime_api::ExtensionRefusal> add(const std::string& name,
                                                               unsigned events, bool open);
  // The extension of `id`, or the refusal for an identifier that names none.
  std::variant<Extension*, runtime_api::ExtensionRefusal> find(const std::string& id);

  // Every expected extension registered and none is working on an event: with the runtime
  // in `next` as well, the phase (init or invoke) is complete.
  [[nodiscard]] bool phase_complete() const;
  // No extension works on an event (the shutdown phase waits for this only).
  [[nodiscard]] bool all_idle() const { return busy_count() == 0; }
  // Extensions that have an event they have not finished (no `next` since).
  [[nodiscard]] std::size_t busy_count() const;
  // Names of expected extensions that have not registered yet, for the init timeout's message.
  [[nodiscard]] std::string missing() const;
  [[nodiscard]] bool empty() const { return extensions_.empty(); }
  // "ERROR_TYPE (extension NAME)" of the first extension that failed, or empty. After the
  // init, its worker ends once the phase is over, as Lambda resets the environment.
  [[nodiscard]] std::string failure() const;

  // Hands the INVOKE event to every extension subscribed to it.
  void invoke(const runtime_api::NextEvent& event);
  // Someone subscribed to SHUTDOWN and still able to take it.
  [[nodiscard]] bool wants_shutdown() const;
  // Hands SHUTDOWN to every extension subscribed to it; false when none is.
  bool shut_down(std::string_view reason, std::chrono::system_clock::time_point deadline);
  // Every waiting `next` ends (500), and every later one.
  void close();

 private:
  boost::asio::any_io_executor executor_;
  std::vector<std::string> expected_;
  std::vector<std::unique_ptr<Extension>> extensions_;
};

// The file names in each layer's extensions/ directory (host paths), or in an image's
// /opt/extensions: what the sandbox starts as external extensions. Sorted, unique.
std::vector<std::string> external_extension_names(
    const std::vector<std::filesystem::path>& opt_dirs);

// argv that starts every regular file of /opt/extensions in the background (each its own
// process, re-parented to the sandbox's init) with the runtime's environment `env` minus what
// Lambda keeps from extensions (every name starting with `_`, AWS_XRAY_CONTEXT_MISSING), then
// execs `runtime`.
std::vector<std::string> with_extensions(std::vector<std::string> runtime,
                                         const std::vector<std::string>& env);

}  // namespace ember::engine
