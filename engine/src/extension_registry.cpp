#include "extension_registry.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <system_error>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

namespace fs = std::filesystem;
using runtime_api::extension_forbidden;
using runtime_api::ExtensionRefusal;

namespace {

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

runtime_api::NextEvent event_with(const boost::json::object& body) {
  runtime_api::NextEvent event;
  event.payload = boost::json::serialize(body);
  return event;
}

// The sandbox's side of with_extensions(): $0 names it in `ps`, "$@" is the runtime.
constexpr std::string_view kLauncherScript =
    R"(for f in /opt/extensions/*; do [ -f "$f" ] && (env STRIP"$f" &); done; exec "$@")";

}  // namespace

ExtensionRegistry::ExtensionRegistry(boost::asio::any_io_executor executor,
                                     std::vector<std::string> expected)
    : executor_(std::move(executor)), expected_(std::move(expected)) {}

std::variant<std::string, ExtensionRefusal> ExtensionRegistry::add(const std::string& name,
                                                                   unsigned events, bool open) {
  if (!open) {
    return extension_forbidden("Extension.RegistrationClosed",
                               "Extensions register during the init phase only");
  }
  const bool duplicate = std::any_of(extensions_.begin(), extensions_.end(),
                                     [&](const auto& e) { return e->name == name; });
  if (duplicate) {
    return extension_forbidden("Extension.InvalidExtensionState",
                               "An extension named " + name + " is already registered");
  }
  if (extensions_.size() >= kMaxExtensions) {
    return extension_forbidden(
        "Extension.TooManyExtensions",
        "At most " + std::to_string(kMaxExtensions) + " extensions register with one function");
  }
  // An extension whose name is a file of /opt/extensions is that external process; any other
  // is internal, a part of the runtime's own process, which SHUTDOWN never reaches.
  const bool external = std::binary_search(expected_.begin(), expected_.end(), name);
  if (!external && (events & runtime_api::kShutdownEvent) != 0) {
    return extension_forbidden("Extension.InvalidEventType",
                               "Only external extensions (files of /opt/extensions) may register "
                               "for SHUTDOWN; " +
                                   name + " is not one");
  }
  auto extension = std::make_unique<Extension>(executor_);
  extension->id = runtime_api::new_request_id();
  extension->name = name;
  extension->events = events;
  extension->external = external;
  extensions_.push_back(std::move(extension));
  return extensions_.back()->id;
}

std::variant<ExtensionRegistry::Extension*, ExtensionRefusal> ExtensionRegistry::find(
    const std::string& id) {
  for (const auto& extension : extensions_) {
    if (extension->id != id) continue;
    if (extension->failed) {
      return extension_forbidden(
          "Extension.InvalidExtensionState",
          "Extension " + extension->name + " reported an error and takes no further calls");
    }
    return extension.get();
  }
  return extension_forbidden("Extension.UnknownExtensionIdentifier",
                             "No registered extension has the identifier " + id);
}

std::size_t ExtensionRegistry::busy_count() const {
  return static_cast<std::size_t>(std::count_if(
      extensions_.begin(), extensions_.end(), [](const auto& e) { return e->busy && !e->failed; }));
}

std::string ExtensionRegistry::failure() const {
  for (const auto& extension : extensions_) {
    if (extension->failed) return extension->error_type + " (extension " + extension->name + ")";
  }
  return {};
}

bool ExtensionRegistry::phase_complete() const { return all_idle() && missing().empty(); }

std::string ExtensionRegistry::missing() const {
  std::string out;
  for (const auto& name : expected_) {
    const bool registered = std::any_of(extensions_.begin(), extensions_.end(),
                                        [&](const auto& e) { return e->name == name; });
    if (!registered) out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

void ExtensionRegistry::invoke(const runtime_api::NextEvent& event) {
  boost::json::object body;
  body["eventType"] = "INVOKE";
  body["deadlineMs"] = event.deadline_epoch_ms;
  body["requestId"] = event.request_id;
  body["invokedFunctionArn"] = event.invoked_function_arn;
  if (!event.trace_id.empty()) {
    body["tracing"] = {{"type", "X-Amzn-Trace-Id"}, {"value", event.trace_id}};
  }
  for (const auto& extension : extensions_) {
    if ((extension->events & runtime_api::kInvokeEvent) == 0 || extension->failed) continue;
    extension->busy = true;
    extension->slot.deliver(event_with(body));
  }
}

bool ExtensionRegistry::shut_down(std::string_view reason,
                                  std::chrono::system_clock::time_point deadline) {
  boost::json::object body;
  body["eventType"] = "SHUTDOWN";
  body["shutdownReason"] = reason;
  body["deadlineMs"] = epoch_ms(deadline);
  bool any = false;
  for (const auto& extension : extensions_) {
    if ((extension->events & runtime_api::kShutdownEvent) == 0 || extension->failed) continue;
    extension->owes_shutdown_next = extension->busy;
    extension->busy = true;
    extension->slot.deliver(event_with(body));
    any = true;
  }
  return any;
}

bool ExtensionRegistry::wants_shutdown() const {
  return std::any_of(extensions_.begin(), extensions_.end(), [](const auto& e) {
    return (e->events & runtime_api::kShutdownEvent) != 0 && !e->failed;
  });
}

void ExtensionRegistry::close() {
  for (const auto& extension : extensions_) extension->slot.close();
}

std::vector<std::string> external_extension_names(const std::vector<fs::path>& opt_dirs) {
  std::set<std::string> names;
  for (const auto& opt : opt_dirs) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(opt / "extensions", ec)) {
      std::error_code type_ec;
      if (entry.is_regular_file(type_ec)) names.insert(entry.path().filename().string());
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> with_extensions(std::vector<std::string> runtime,
                                         const std::vector<std::string>& env) {
  std::string strip;
  for (const auto& variable : env) {
    const auto name = variable.substr(0, variable.find('='));
    if (name.starts_with('_') || name == "AWS_XRAY_CONTEXT_MISSING") {
      strip += "-u " + name + " ";
    }
  }
  std::string script(kLauncherScript);
  script.replace(script.find("STRIP"), 5, strip.empty() ? std::string() : " " + strip);
  std::vector<std::string> argv{"/bin/sh", "-c", std::move(script), "ember-extensions"};
  argv.insert(argv.end(), std::make_move_iterator(runtime.begin()),
              std::make_move_iterator(runtime.end()));
  return argv;
}

}  // namespace ember::engine
