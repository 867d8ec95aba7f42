#include "config_reloader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <set>

#include "code_fingerprint.hpp"
#include "function_checks.hpp"
#include "function_images.hpp"

namespace ember::cli {

namespace asio = boost::asio;

// A file that loaded, with what the node needs to serve it.
struct ConfigReloader::Loaded {
  Served next;
  FunctionImages images;
  std::set<std::string, std::less<>> code_changed;
  std::optional<std::string> problem;  // set: nothing else is
};

ConfigReloader::ConfigReloader(asio::io_context& io, engine::Node& node, Setup setup,
                               const config::Config& started,
                               const std::map<std::string, image::StoredImage>& images)
    : io_(io),
      node_(node),
      setup_(std::move(setup)),
      hangup_(io, SIGHUP),
      watch_timer_(io),
      served_{.config = started, .images = images, .code = {}, .file = 0} {
  if (setup_.file.empty()) return;
  // The baseline a reload compares with, taken on the thread: walking code directories
  // must not hold up the node's start.
  const std::lock_guard starting(mutex_);
  busy_ = true;
  asio::post(thread_, [this] {
    // Only this thread changes served_ while busy_: read without the lock, which the
    // node's thread takes for a moment only.
    auto code = code_fingerprints(served_.config, served_.images);
    const auto file = file_fingerprint(setup_.file);
    const std::lock_guard lock(mutex_);
    served_.code = std::move(code);
    served_.file = file;
    seen_code_ = served_.code;
    seen_file_ = served_.file;
    busy_ = false;
    if (!again_.empty() || !waiting_.empty()) begin_locked();
  });
}

ConfigReloader::~ConfigReloader() {
  // A destructor cannot report: what went wrong is said on stderr.
  try {
    stop();
    thread_.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: stopping the reloader: %s\n", setup_.command.c_str(), e.what());
  }
}

void ConfigReloader::start() {
  on_hangup();
  if (setup_.watch && !setup_.file.empty()) schedule_watch();
}

void ConfigReloader::stop() {
  const std::lock_guard lock(mutex_);
  stopped_ = true;
  boost::system::error_code ignored;
  hangup_.cancel(ignored);
  watch_timer_.cancel();
}

void ConfigReloader::on_hangup() {
  hangup_.async_wait([this](boost::system::error_code ec, int /*signal*/) {
    if (ec) return;
    if (setup_.file.empty()) {
      std::printf("%s: SIGHUP ignored: there is no configuration file to reload\n",
                  setup_.command.c_str());
    } else {
      request("SIGHUP", nullptr);
    }
    on_hangup();
  });
}

void ConfigReloader::schedule_watch() {
  watch_timer_.expires_after(setup_.watch_interval);
  watch_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    {
      const std::lock_guard lock(mutex_);
      if (stopped_) return;
      if (!busy_) asio::post(thread_, [this] { look_for_changes(); });
    }
    schedule_watch();
  });
}

void ConfigReloader::request(std::string origin, Done done) {
  const std::lock_guard lock(mutex_);
  if (done) waiting_.push_back(std::move(done));
  if (setup_.file.empty()) {
    engine::ReloadOutcome outcome;
    outcome.refused = "this node has no configuration file to reload";
    auto waiters = std::exchange(waiting_, {});
    asio::post(io_, [waiters = std::move(waiters), outcome] {
      for (const auto& waiter : waiters) waiter(outcome);
    });
    return;
  }
  again_ = std::move(origin);
  if (!busy_) begin_locked();
}

void ConfigReloader::begin_locked() {
  busy_ = true;
  running_ = std::exchange(waiting_, {});
  auto origin = std::exchange(again_, {});
  if (origin.empty()) origin = "a request";
  asio::post(thread_, [this, origin = std::move(origin)] { load(origin); });
}

std::optional<std::string> ConfigReloader::unservable(const config::Config& next) const {
  for (const auto& f : next.functions) {
    if (auto problem = seccomp_problem(f)) return problem;
    const bool native = f.isolation == config::Isolation::kNative && !setup_.native;
    const bool oci = f.isolation == config::Isolation::kOci && !setup_.oci;
    if (native || oci) {
      return f.source + ": function " + f.name + ": isolation: " + (native ? "native" : "oci") +
             " needs sandboxes this node did not set up when it started (no function used "
             "them then); restart the node to serve it";
    }
  }
  return std::nullopt;
}

void ConfigReloader::load(const std::string& origin) {
  auto loaded = std::make_shared<Loaded>();
  try {
    loaded->next.config = config::load_config(setup_.file);
  } catch (const config::ConfigError& e) {
    loaded->problem = e.what();
  } catch (const std::exception& e) {
    loaded->problem = "cannot load " + setup_.file.string() + ": " + e.what();
  }
  if (!loaded->problem) loaded->problem = unservable(loaded->next.config);
  if (!loaded->problem) {
    auto images = load_function_images(loaded->next.config);
    if (auto* problem = std::get_if<std::string>(&images)) {
      loaded->problem = std::move(*problem);
    } else {
      loaded->images = std::get<FunctionImages>(std::move(images));
      loaded->next.images = loaded->images.by_function;
    }
  }
  if (!loaded->problem) {
    loaded->next.code = code_fingerprints(loaded->next.config, loaded->next.images);
    loaded->next.file = file_fingerprint(setup_.file);
    const std::lock_guard lock(mutex_);
    for (const auto& [name, fingerprint] : loaded->next.code) {
      const auto it = served_.code.find(name);
      if (it != served_.code.end() && it->second != fingerprint) {
        loaded->code_changed.insert(name);
      }
    }
  }
  asio::post(io_, [this, origin, loaded] { apply(origin, loaded); });
}

void ConfigReloader::look_for_changes() {
  Served now;
  {
    const std::lock_guard lock(mutex_);
    if (busy_ || stopped_) return;
    now.config = served_.config;
    now.images = served_.images;
  }
  // Walked without the lock, which the node's thread takes for a moment only.
  const auto file = file_fingerprint(setup_.file);
  auto code = code_fingerprints(now.config, now.images);
  std::string what;
  {
    const std::lock_guard lock(mutex_);
    if (file != seen_file_) {
      what = "a change to " + setup_.file.string();
    } else {
      for (const auto& [name, fingerprint] : code) {
        const auto it = seen_code_.find(name);
        if (it != seen_code_.end() && it->second == fingerprint) continue;
        what = "a change to the code of " + name;
        break;
      }
    }
    seen_file_ = file;
    seen_code_ = std::move(code);
  }
  if (!what.empty()) request(what, nullptr);
}

void ConfigReloader::apply(const std::string& origin, const std::shared_ptr<Loaded>& loaded) {
  engine::ReloadOutcome outcome;
  if (loaded->problem) {
    outcome.refused = *loaded->problem;
  } else {
    auto next = loaded->next.config;
    outcome = node_.reconfigure(std::move(next), loaded->next.images, loaded->code_changed);
  }
  std::printf("%s: reload (%s) of %s: %s\n", setup_.command.c_str(), origin.c_str(),
              setup_.file.c_str(), outcome.summary().c_str());
  if (!outcome.refused) {
    for (auto& lease : loaded->images.leases) leases_.push_back(std::move(lease));
    const std::lock_guard lock(mutex_);
    seen_code_ = loaded->next.code;
    seen_file_ = loaded->next.file;
    served_ = std::move(loaded->next);
  }
  finish(outcome);
}

void ConfigReloader::finish(const engine::ReloadOutcome& outcome) {
  std::vector<Done> waiters;
  {
    const std::lock_guard lock(mutex_);
    waiters = std::exchange(running_, {});
    busy_ = false;
    if (!again_.empty() && !stopped_) begin_locked();
  }
  for (const auto& waiter : waiters) waiter(outcome);
}

asio::awaitable<boost::json::object> ConfigReloader::reload() {
  using Channel = asio::experimental::channel<void(boost::system::error_code, boost::json::object)>;
  auto channel = std::make_shared<Channel>(io_.get_executor(), 1);
  request("ember reload", [channel](const engine::ReloadOutcome& outcome) {
    channel->try_send(boost::system::error_code{}, outcome.to_json());
  });
  auto [ec, answer] = co_await channel->async_receive(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return boost::json::object{{"refused", "the node stopped during the reload"}};
  co_return answer;
}

}  // namespace ember::cli
