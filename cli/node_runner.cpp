#include "node_runner.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <boost/algorithm/string/join.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>

#include "config_reloader.hpp"
#include "ember/config/host_ids.hpp"
#include "ember/engine/node.hpp"
#include "ember/engine/status_page.hpp"
#include "ember/engine/terminal_echo.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/queue/event_queue.hpp"
#include "ember/runtime_api/http_routes.hpp"
#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "function_checks.hpp"
#include "function_images.hpp"
#include "install_layout.hpp"

namespace ember::cli {

namespace asio = boost::asio;

namespace {

asio::ip::address listen_address(const std::string& host) {
  if (host == "localhost") return asio::ip::address_v4::loopback();
  return asio::ip::make_address(host);
}

// Restricts this thread (and so every process it starts later) to one CPU.
bool pin_to_cpu(const std::string& who, int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    std::cerr << who << ": sched_getaffinity: " << std::system_category().message(errno) << "\n";
    return false;
  }
  const auto index = static_cast<std::size_t>(cpu);
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(index, &allowed)) {
    std::cerr << who << ": --pin-cpu " << cpu << ": not one of the CPUs this process may use\n";
    return false;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(index, &one);
  if (::sched_setaffinity(0, sizeof one, &one) != 0) {
    std::cerr << who << ": sched_setaffinity(" << cpu
              << "): " << std::system_category().message(errno) << "\n";
    return false;
  }
  return true;
}

std::optional<isolation::IdRange> sandbox_ids(const config::NodeConfig& node) {
  if (!node.sandbox_uid_range) return std::nullopt;
  return isolation::IdRange{node.sandbox_uid_range->first, node.sandbox_uid_range->count};
}

// The range was checked when the file was read, if it names one; the default is checked here,
// and a written one again: a user may have been added since.
std::optional<std::string> foreign_sandbox_ids(const config::Config& config) {
  const auto& range = config.node.sandbox_uid_range;
  if (!range) return std::nullopt;
  auto used = config::host_use_of(*range);
  if (!used) return std::nullopt;
  return "node.sandbox_uid_range " + std::to_string(range->first) + "-" +
         std::to_string(range->last()) + " (" + config.file.string() +
         ") is not the node's own: " + *used +
         "; set it to ids no user, group or subordinate range of the host has, or to `none`";
}

// The OCI runtime's sandboxes for the `isolation: oci` functions; null (after saying why, in
// the runtime's own words) when it cannot start a container here.
std::unique_ptr<isolation::SandboxBackend> make_oci(const config::Config& config,
                                                    const std::vector<std::string>& functions,
                                                    const NodeRun& run) {
  isolation::OciOptions options;
  if (config.node.oci_runtime != "auto") options.runtime = config.node.oci_runtime;
  options.state_dir = config.node.state_dir / "oci";
  options.uid = config.node.sandbox_uid;
  options.gid = config.node.sandbox_gid;
  options.ids = sandbox_ids(config.node);
  auto backend = isolation::make_oci_backend(options);
  if (!backend) {
    std::cerr << run.command << ": cannot run " << boost::algorithm::join(functions, ", ")
              << " with isolation: oci (node.oci_runtime: " << config.node.oci_runtime << " in "
              << config.file.string() << "): " << backend.error().message()
              << "\nSet node.oci_runtime to a runtime that works here, or `isolation: native` "
                 "on those functions.\n";
    return nullptr;
  }
  if (run.announce) {
    std::printf("ember: isolation: oci runs %s with %s\n",
                boost::algorithm::join(functions, ", ").c_str(), (*backend)->name().c_str());
  }
  return std::move(*backend);
}

// Native sandboxes for every function that does not opt out; refuses to start, naming what
// is missing, when the host cannot provide them. Never falls back silently.
std::optional<engine::Backends> make_backends(const config::Config& config,
                                              const InstallLayout& layout, const NodeRun& run) {
  engine::Backends backends;
  backends.process = isolation::make_process_backend();
  std::vector<std::string> isolated;
  std::vector<std::string> oci_functions;
  for (const auto& f : config.functions) {
    if (f.isolation == config::Isolation::kNone) {
      if (!run.announce) continue;
      std::printf(
          "ember: function %s runs without isolation (isolation: none at %s): it can "
          "see the host and the node\n",
          f.name.c_str(), f.source.c_str());
      continue;
    }
    (f.isolation == config::Isolation::kOci ? oci_functions : isolated).push_back(f.name);
    if (auto problem = seccomp_problem(f)) {
      std::cerr << run.command << ": " << *problem << "\n";
      return std::nullopt;
    }
    if (run.announce && !f.seccomp_allow.empty()) {
      std::printf("ember: function %s lifts seccomp denials: %s\n", f.name.c_str(),
                  boost::algorithm::join(f.seccomp_allow, ", ").c_str());
    }
  }
  if (!oci_functions.empty() || !isolated.empty()) {
    if (auto foreign = foreign_sandbox_ids(config)) {
      std::cerr << run.command << ": " << *foreign << "\n";
      return std::nullopt;
    }
  }
  if (!oci_functions.empty()) {
    backends.oci = make_oci(config, oci_functions, run);
    if (!backends.oci) return std::nullopt;
  }
  if (isolated.empty()) return backends;

  isolation::NativeOptions options;
  options.init_path = layout.sandbox_init;
  options.uid = config.node.sandbox_uid;
  options.gid = config.node.sandbox_gid;
  options.ids = sandbox_ids(config.node);
  options.leftovers = [&run](const std::string& notice) {
    std::cout << run.command << ": " << notice << std::endl;
  };
  auto native = isolation::detect_native_support(options);
  auto backend =
      native ? isolation::make_native_backend(options)
             : isolation::Result<std::unique_ptr<isolation::SandboxBackend>>(native.error());
  if (!backend) {
    std::cerr << run.command << ": cannot isolate " << boost::algorithm::join(isolated, ", ")
              << ": " << backend.error().message()
              << "\nTo run functions as plain processes instead (weaker: they can reach the "
                 "host and the node), set `isolation: none` on the node or on each function in "
              << config.file.string() << ".\n";
    return std::nullopt;
  }
  backends.native = std::move(*backend);
  return backends;
}

// The durable queue of Event invocations, STATE_DIR/async/events.db; null after saying why it
// cannot be used (a corrupt or foreign file is refused, never overwritten).
std::unique_ptr<queue::EventQueue> open_event_queue(const config::Config& config,
                                                    const NodeRun& run) {
  const auto file = config.node.state_dir / "async" / "events.db";
  try {
    return queue::open_sqlite_queue(file);
  } catch (const queue::QueueError& e) {
    std::cerr << run.command << ": " << e.what() << " (the event queue under node.state_dir in "
              << config.file.string() << ")\n";
    return nullptr;
  }
}

// What the node takes besides its config and backends; nullopt after saying what is wrong.
std::optional<engine::NodeOptions> make_node_options(const config::Config& config,
                                                     const InstallLayout& layout,
                                                     const FunctionImages& images,
                                                     const NodeRun& run,
                                                     engine::TerminalEcho& terminal) {
  if (run.time_scale <= 0) {
    std::cerr << run.command << ": --time-scale must be positive\n";
    return std::nullopt;
  }
  engine::NodeOptions options;
  options.event_queue = open_event_queue(config, run);
  if (!options.event_queue) return std::nullopt;
  options.runtimes_dir = layout.runtimes_dir;
  options.arm_library = layout.arm_library;
  options.echo =
      run.echo ? run.echo : [&terminal](std::string_view function, std::string_view lines) {
        terminal(function, lines);
      };
  options.time_scale = run.time_scale;
  options.images = images.by_function;
  return options;
}

// Binds and listens on HOST:PORT, the value of `key`; false after saying why not.
bool open_listener(asio::ip::tcp::acceptor& acceptor, const std::string& host, std::uint16_t port,
                   const std::string& origin, const NodeRun& run) {
  try {
    const asio::ip::tcp::endpoint endpoint(listen_address(host), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    std::cerr << run.command << ": cannot listen on " << host << ":" << port << ": "
              << e.code().message() << " (" << origin << ")\n";
    return false;
  }
  return true;
}

// The functions' `http` routes, for the routes' listener.
std::vector<runtime_api::HttpRoute> http_routes(const config::Config& config) {
  std::vector<runtime_api::HttpRoute> routes;
  for (const auto& function : config.functions) {
    if (function.http.empty()) continue;
    runtime_api::HttpRoute route;
    route.path = function.http.path;
    route.methods = function.http.methods;
    route.format = function.http.format == config::HttpEventFormat::kFunctionUrl
                       ? runtime_api::HttpEventFormat::kFunctionUrl
                       : runtime_api::HttpEventFormat::kAlb;
    route.multi_value_headers = function.http.multi_value_headers;
    route.function = function.name;
    routes.push_back(std::move(route));
  }
  return routes;
}

std::string address_of(const std::shared_ptr<runtime_api::HttpServer>& server) {
  const auto bound = server->local_endpoint();
  const std::string host = bound.address().to_string();
  return (bound.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(bound.port());
}

// The node's listening sockets, bound before anything starts so a taken port stops the start.
struct Listeners {
  explicit Listeners(asio::io_context& io) : invoke(io), routes(io) {}
  asio::ip::tcp::acceptor invoke;
  asio::ip::tcp::acceptor routes;  // open only when a function has an HTTP route
  std::vector<runtime_api::HttpRoute> route_table;
};

// Whether the Invoke API checks signatures; said at start, as an opt-out of isolation is. No
// secret is printed, only how many keys there are.
void announce_auth(const config::NodeConfig& node) {
  if (node.auth.mode == config::AuthMode::kSigV4) {
    std::printf("ember: Invoke API requires AWS SigV4 signatures (%zu access key(s), region %s)\n",
                node.auth.credentials.size(), node.region.c_str());
  } else if (!config::is_loopback_host(node.listen_host)) {
    std::printf(
        "ember: Invoke API on %s takes unsigned requests from anyone who can reach it "
        "(node.auth mode: none)\n",
        node.listen_host.c_str());
  }
}

bool open_listeners(Listeners& listeners, const config::Config& config, const NodeRun& run) {
  const std::string origin =
      run.listen_origin.empty() ? "node.listen in " + config.file.string() : run.listen_origin;
  if (!open_listener(listeners.invoke, config.node.listen_host, config.node.listen_port, origin,
                     run)) {
    return false;
  }
  listeners.route_table = http_routes(config);
  return listeners.route_table.empty() ||
         open_listener(listeners.routes, config.node.http.listen_host, config.node.http.listen_port,
                       "node.http.listen in " + config.file.string(), run);
}

// The Invoke API's server and, with routes, the routes' server, both serving `node`.
class Servers {
 public:
  Servers(Listeners& listeners, engine::Node& node, const std::string& only_function,
          runtime_api::ReloadService* reload)
      : invoke_(std::make_shared<runtime_api::HttpServer>(
            std::move(listeners.invoke),
            runtime_api::make_invoke_api(node,
                                         invoke_options(node, listeners, only_function, reload)),
            runtime_api::invoke_api_limits())) {
    invoke_->start();
    if (listeners.route_table.empty()) return;
    runtime_api::HttpSite site;
    site.region = node.config().node.region;
    site.account_id = node.config().node.account_id;
    const std::size_t count = listeners.route_table.size();
    routes_ = std::make_shared<runtime_api::HttpServer>(
        std::move(listeners.routes),
        runtime_api::make_http_routes_api(node, std::move(listeners.route_table), std::move(site),
                                          route_stats_),
        runtime_api::http_routes_limits());
    routes_->start();
    std::printf("ember: HTTP routes on http://%s (%zu route(s))\n", address_of(routes_).c_str(),
                count);
  }

  // For --ready-fd: the Invoke API's address, then `http ADDRESS` with routes.
  [[nodiscard]] std::string ready_text() const {
    return address_of(invoke_) + "\n" + (routes_ ? "http " + address_of(routes_) + "\n" : "");
  }
  [[nodiscard]] std::string invoke_address() const { return address_of(invoke_); }
  void stop_accepting() {
    invoke_->stop_accepting();
    if (routes_) routes_->stop_accepting();
  }
  void close() {
    invoke_->close();
    if (routes_) routes_->close();
  }

 private:
  runtime_api::InvokeApiOptions invoke_options(engine::Node& node, const Listeners& listeners,
                                               const std::string& only_function,
                                               runtime_api::ReloadService* reload) {
    runtime_api::InvokeApiOptions options;
    options.status = &node;
    options.logs = &node;
    if (node.config().node.metrics) options.metrics = &node;
    // The node's status with each function's HTTP route and its counts.
    options.add_to_status = [stats = route_stats_, routes = listeners.route_table](
                                boost::json::object& out) { stats->describe(out, routes); };
    // GET /: the status page; not for ember rie, which serves one function as aws-lambda-rie.
    if (only_function.empty()) {
      options.status_page = [](const boost::json::object& status) {
        return engine::render_status_page(status, std::chrono::system_clock::now());
      };
    }
    options.only_function = only_function;
    options.auth = authenticator(node.config().node);
    // The control plane (aws lambda create-function, ...); not for ember rie's one function.
    if (only_function.empty()) options.control = &node.control();
    options.reload = reload;
    return options;
  }

  // node.auth as the Invoke API checks it; nullptr with `mode: none`.
  static std::shared_ptr<const runtime_api::Authenticator> authenticator(
      const config::NodeConfig& node) {
    if (node.auth.mode != config::AuthMode::kSigV4) return nullptr;
    runtime_api::AuthSettings settings;
    for (const auto& credential : node.auth.credentials) {
      settings.credentials.push_back(
          {credential.access_key_id, credential.secret_access_key, credential.allow});
    }
    settings.region = node.region;
    settings.account_id = node.account_id;
    settings.max_skew = node.auth.max_clock_skew;
    return std::make_shared<const runtime_api::Authenticator>(std::move(settings));
  }

  // Before the servers, which count into it and show it.
  std::shared_ptr<runtime_api::HttpRouteStats> route_stats_ =
      std::make_shared<runtime_api::HttpRouteStats>();
  std::shared_ptr<runtime_api::HttpServer> invoke_;
  std::shared_ptr<runtime_api::HttpServer> routes_;
};

// SIGINT and SIGTERM. The first stops taking requests (open connections carry on, so callers
// still waiting get their answer) and drains for up to node.shutdown_grace_s; a second signal,
// or the end of the grace period, ends every worker, waits for them to be reaped (up to 5 s;
// those left are killed and reaped by their destructors), then stops the io_context.
class Shutdown {
 public:
  Shutdown(asio::io_context& io, engine::Node& node, Servers& servers, bool announce,
           std::chrono::seconds grace)
      : io_(io),
        node_(node),
        servers_(servers),
        announce_(announce),
        grace_(grace),
        signals_(io, SIGINT, SIGTERM),
        give_up_(io),
        grace_timer_(io) {}

  void on_signals() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      servers_.stop_accepting();
      if (draining_ || grace_.count() == 0) {
        if (announce_) {
          std::printf("ember: %s received, ending every worker\n", sigdescr_np(signal));
        }
        finish();
        return;
      }
      drain(signal);
      on_signals();
    });
  }

 private:
  void drain(int signal) {
    draining_ = true;
    if (announce_) {
      std::printf(
          "ember: %s received, draining: running invocations have %llds to finish "
          "(signal again to stop now)\n",
          sigdescr_np(signal), static_cast<long long>(grace_.count()));
    }
    node_.drain();
    grace_timer_.expires_after(grace_);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    // Running invocations finish (their workers end as they answer): done early once no
    // worker is left.
    node_.when_no_live_workers([this] { finish(); });
  }

  void finish() {
    if (finishing_) return;
    finishing_ = true;
    grace_timer_.cancel();
    node_.shutdown();
    give_up_.expires_after(std::chrono::seconds(5));
    give_up_.async_wait([this](boost::system::error_code ec) {
      if (!ec) stop();
    });
    node_.when_no_live_workers([this] { stop(); });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    give_up_.cancel();
    servers_.close();
    io_.stop();
  }

  asio::io_context& io_;
  engine::Node& node_;
  Servers& servers_;
  bool announce_;
  std::chrono::seconds grace_;
  asio::signal_set signals_;
  asio::steady_timer give_up_;
  asio::steady_timer grace_timer_;
  bool draining_ = false;
  bool finishing_ = false;
  bool stopped_ = false;
};

// --ready-fd: the lines, then the descriptor closed.
void announce_ready(int ready_fd, const std::string& lines) {
  if (ready_fd < 0) return;
  [[maybe_unused]] auto n = ::write(ready_fd, lines.data(), lines.size());
  ::close(ready_fd);
}

}  // namespace

int run_node(config::Config config, const NodeRun& run) {
  // A client that disconnects must not kill the node.
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  asio::io_context io;
  Listeners listeners(io);
  if (!open_listeners(listeners, config, run)) return 2;

  // Before any sandbox exists: every worker inherits the mask from the thread that starts it.
  if (run.pin_cpu && !pin_to_cpu(run.command, *run.pin_cpu)) return 2;
  const InstallLayout layout = locate_install();
  auto backends = make_backends(config, layout, run);
  if (!backends) return 2;
  // Before the node takes the configuration: a bare program name becomes its path.
  auto images = prepare_function_images(config);
  if (!images) return 2;
  const std::size_t function_count = config.functions.size();
  // Outlives the node, whose workers echo their logs through it until they end.
  engine::TerminalEcho terminal(STDOUT_FILENO);
  auto node_options = make_node_options(config, layout, *images, run, terminal);
  if (!node_options) return 2;
  const auto grace = config.node.shutdown_grace;
  ConfigReloader::Setup reload{.command = run.command,
                               .file = run.reloadable ? config.file : std::filesystem::path(),
                               .native = backends->native != nullptr,
                               .oci = backends->oci != nullptr,
                               .watch = run.watch};
  engine::Node node(io.get_executor(), std::move(config), std::move(*backends),
                    std::move(*node_options));
  ConfigReloader reloader(io, node, std::move(reload), node.config(), images->by_function);
  Servers servers(listeners, node, run.only_function, run.reloadable ? &reloader : nullptr);
  node.start();
  reloader.start();

  if (run.announce) {
    std::printf("ember %s: Invoke API on http://%s serving %zu function(s); state in %s\n",
                EMBER_VERSION, servers.invoke_address().c_str(), function_count,
                node.config().node.state_dir.c_str());
    // ember rie has no node.auth: it serves anyone, as aws-lambda-rie does, and says nothing.
    if (run.listen_origin.empty()) announce_auth(node.config().node);
  }
  announce_ready(run.ready_fd, servers.ready_text());
  Shutdown shutdown(io, node, servers, run.announce, grace);
  shutdown.on_signals();
  io.run();
  if (run.announce) std::printf("ember: stopped\n");
  return 0;
}

}  // namespace ember::cli
