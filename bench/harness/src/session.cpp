#include "ember/bench/session.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "ember/bench/baselines.hpp"
#include "ember/bench/progress.hpp"
#include "ember/bench/runner.hpp"
#include "ember/client/child_process.hpp"
#include "ember/client/http.hpp"
#include "ember/runtime_api/runtime_environment.hpp"
#include "modes.hpp"
#include "soak_mode.hpp"

namespace ember::bench {

namespace detail {

bool is_python(const std::string& runtime) { return runtime.starts_with("python"); }

client::NodeFunction function_for(const BenchOptions& o, const std::string& name) {
  client::NodeFunction f;
  f.name = name;
  f.runtime = o.runtime;
  f.handler = o.handler;
  f.code = o.code;
  f.isolation = o.isolation;
  f.network = o.network;
  f.zygote = o.zygote;
  f.reserved_concurrency = 10;
  return f;
}

std::unique_ptr<client::LocalNode> start_node(const BenchOptions& o,
                                              std::vector<client::NodeFunction> functions,
                                              const client::NodeSettings& settings,
                                              std::optional<double> time_scale,
                                              std::optional<std::filesystem::path> state_dir) {
  client::LocalNodeSpec spec;
  spec.state_dir = std::move(state_dir);
  spec.ember = o.ember;
  spec.functions = std::move(functions);
  spec.settings = settings;
  spec.time_scale = time_scale;
  spec.dir_prefix = "ember-bench-";
  return std::make_unique<client::LocalNode>(spec);
}

Endpoint endpoint_of(const client::LocalNode& node) {
  const auto endpoint = parse_endpoint(node.address());
  if (!endpoint) throw std::runtime_error("ember serve printed the address " + node.address());
  return *endpoint;
}

namespace {

// Adds each phase span of a run to its phase's series, the series made on first sight.
void add_spans(std::vector<Series>& phases, const std::string& group, const Measured& m) {
  for (const auto& span : spans(m.engine, m.client_us)) {
    auto it = std::find_if(phases.begin(), phases.end(),
                           [&](const Series& s) { return s.name == span.name; });
    if (it == phases.end()) {
      phases.push_back({group, span.name, SeriesKind::kPhase, {}});
      it = phases.end() - 1;
    }
    it->values.push_back(span.us);
  }
}

std::string wrong_kind_note(const std::string& group, std::size_t wrong_kind, bool expect_cold) {
  return group + ": " + std::to_string(wrong_kind) + " invocations were " +
         (expect_cold ? "warm" : "cold") + " starts, not " + (expect_cold ? "cold" : "warm");
}

// A note of how many invocations failed; when all did, the run's failure: nothing was
// measured, and a report of empty rows would read as a result.
void note_failures(Report& report, const std::string& group, std::size_t failed, std::size_t runs,
                   const std::string& first_error) {
  if (failed == 0) return;
  if (failed == runs) {
    throw std::runtime_error(group + ": all " + std::to_string(failed) +
                             " invocations failed; first: " + first_error);
  }
  report.notes.push_back(group + ": " + std::to_string(failed) + " of " + std::to_string(runs) +
                         " invocations failed; first: " + first_error);
}

}  // namespace

void add_measured(Report& report, const std::string& group, const std::vector<Measured>& runs,
                  bool expect_cold) {
  Series total{group, "client total", SeriesKind::kFigure, {}};
  Series to_next{group, "received->first next", SeriesKind::kFigure, {}};
  Series added{group, "engine-added (total - handler)", SeriesKind::kFigure, {}};
  // Cold starts split by whether a prepared sandbox was waiting (prepared_sandboxes).
  Series to_next_prepared{group, "received->first next, prepared sandbox", SeriesKind::kFigure, {}};
  Series to_next_made{
      group, "received->first next, sandbox made at start", SeriesKind::kFigure, {}};
  std::vector<Series> phases;
  std::size_t failed = 0;
  std::size_t wrong_kind = 0;
  std::string first_error;
  for (const auto& m : runs) {
    if (!m.ok) {
      if (failed++ == 0) first_error = m.error;
      continue;
    }
    if (m.engine.cold != expect_cold) ++wrong_kind;
    total.values.push_back(m.client_us);
    if (const auto init = m.engine.at("init_done"); init && *init >= 0) {
      to_next.values.push_back(*init);
      (m.engine.at("sandbox_prepared") ? to_next_prepared : to_next_made).values.push_back(*init);
    }
    const auto out = m.engine.at("handed_out");
    const auto back = m.engine.at("answered");
    if (out && back) added.values.push_back(m.client_us - (*back - *out));
    add_spans(phases, group, m);
  }
  report.series.push_back(std::move(total));
  if (expect_cold) {
    report.notes.push_back(group + ": " + std::to_string(to_next_prepared.values.size()) + " of " +
                           std::to_string(to_next.values.size()) +
                           " cold starts found a prepared sandbox");
    // The split only when both kinds occurred: otherwise it repeats the overall line.
    const bool both = !to_next_prepared.values.empty() && !to_next_made.values.empty();
    report.series.push_back(std::move(to_next));
    if (both) {
      report.series.push_back(std::move(to_next_prepared));
      report.series.push_back(std::move(to_next_made));
    }
  }
  if (!expect_cold) report.series.push_back(std::move(added));
  for (auto& p : phases) report.series.push_back(std::move(p));
  note_failures(report, group, failed, runs.size(), first_error);
  if (wrong_kind > 0) report.notes.push_back(wrong_kind_note(group, wrong_kind, expect_cold));
}

BootstrapCommand bootstrap_command(const BenchOptions& o) {
  // As the node would start the runtime with `isolation: none`: the same command line and
  // Lambda environment, paths as the host sees them.
  runtime_api::RuntimeLaunch launch;
  launch.function_name = "baseline";
  launch.runtime = o.runtime;
  launch.handler = o.handler;
  if (is_python(o.runtime)) launch.interpreter = "/usr/bin/" + o.runtime;
  launch.log_stream = "baseline";
  launch.task_root = o.code.string();
  launch.runtimes_root = o.runtimes_dir;
  auto command = runtime_api::runtime_command(launch);
  BootstrapCommand c;
  c.cwd = o.code;
  c.argv = std::move(command.argv);
  for (const auto& entry : command.env) {
    const auto eq = entry.find('=');
    c.env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return c;
}

Target given_or_own_node(const BenchOptions& o, const client::NodeFunction& f,
                         std::unique_ptr<client::LocalNode>& node) {
  if (o.endpoint) return {*o.endpoint, o.function};
  node = start_node(o, {f});
  return {endpoint_of(*node), f.name};
}

}  // namespace detail

namespace {

using namespace detail;  // NOLINT: the helpers shared with the other modes' files

constexpr const char* kRuncBaseline = "baseline: runc run->first next";
constexpr const char* kLoopBaseline = "baseline: loopback round trip";

std::string target_text(const BenchOptions& o) {
  if (o.endpoint) {
    return "function " + o.function + " at " + o.endpoint->url() +
           (o.endpoint->sign_as ? ", signed (SigV4) as " + o.endpoint->sign_as->access_key_id
                                : std::string());
  }
  std::string text = o.runtime + " " + o.code.string();
  if (!o.handler.empty()) text += " (" + o.handler + ")";
  return text + " on a node started by the bench";
}

void add_cold_baselines(Report& report, const BenchOptions& o, std::size_t n) {
  {
    Progress progress("baseline posix_spawn", n);
    report.series.push_back({"baseline", "posix_spawn->first next", SeriesKind::kBaseline,
                             spawn_to_next_us(bootstrap_command(o), n, &progress)});
  }
  const auto runc = client::find_program("runc");
  if (!runc) {
    report.notes.emplace_back("runc baseline skipped: runc is not installed");
  } else if (is_python(o.runtime)) {
    report.notes.emplace_back("runc baseline skipped: it needs a static bootstrap, not Python");
  } else if (::geteuid() != 0) {
    report.notes.emplace_back("runc baseline skipped: runc run needs root");
  } else {
    try {
      Progress progress("baseline runc", n);
      report.series.push_back({"baseline", "runc run->first next", SeriesKind::kBaseline,
                               runc_to_next_us(*runc, o.code / "bootstrap", n)});
    } catch (const std::exception& e) {
      report.notes.push_back(std::string("runc baseline failed: ") + e.what());
    }
  }
}

void add_loopback_baseline(Report& report, const BenchOptions& o, std::size_t n) {
  report.series.push_back({"baseline", "loopback round trip", SeriesKind::kBaseline,
                           loopback_rtt_us(o.client, event_payload(o.payload_bytes), n)});
}

// The cold function: one with max_reuse: 1, checked with two unmeasured calls (a node that
// does not retire the worker answers the second warm). Where max_reuse is refused or ignored,
// N copies of the function, each invoked once, give the same cold starts.
std::vector<std::string> cold_functions(const BenchOptions& o,
                                        std::vector<client::NodeFunction>& functions,
                                        std::unique_ptr<client::LocalNode>& node, Report& report) {
  client::NodeFunction cold = function_for(o, "cold");
  cold.max_reuse = 1;
  cold.reserved_concurrency = 1;
  functions.push_back(cold);
  try {
    node = start_node(o, functions);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("max_reuse") == std::string::npos) throw;
  }
  if (node) {
    auto client = make_client(o.client, endpoint_of(*node));
    const auto payload = event_payload(o.payload_bytes);
    const auto first = invoke_once(*client, "cold", payload);
    const auto second = invoke_once(*client, "cold", payload);
    if (!first.ok) throw std::runtime_error("cold function: " + first.error);
    if (second.ok && second.engine.cold) return {"cold"};
    node.reset();
  }
  functions.pop_back();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < o.n; ++i) {
    auto f = function_for(o, "cold-" + std::to_string(i));
    f.reserved_concurrency = 1;
    functions.push_back(f);
    names.push_back(f.name);
  }
  report.notes.push_back("this node does not honour max_reuse: 1; cold starts use " +
                         std::to_string(o.n) + " copies of the function, each invoked once");
  node = start_node(o, functions);
  return names;
}

void run_cold_warm(const BenchOptions& o, Report& report, bool cold, bool warm) {
  std::unique_ptr<client::LocalNode> node;
  Endpoint endpoint;
  std::vector<std::string> cold_names{o.function};
  std::string warm_name = o.function;
  if (o.endpoint) {
    endpoint = *o.endpoint;
  } else {
    std::vector<client::NodeFunction> functions;
    if (warm) functions.push_back(function_for(o, "warm"));
    warm_name = "warm";
    if (cold) {
      cold_names = cold_functions(o, functions, node, report);
    } else {
      node = start_node(o, functions);
    }
    endpoint = endpoint_of(*node);
  }
  const auto payload = event_payload(o.payload_bytes);
  auto client = make_client(o.client, endpoint);
  if (cold) {
    Progress progress("cold", o.n);
    add_measured(report, "cold",
                 run_sequential(*client, cold_names, payload, o.n, &progress, o.cold_gap), true);
  }
  if (warm) {
    invoke_once(*client, warm_name, payload);  // the one cold start, not measured
    Progress progress("warm", o.n);
    add_measured(report, "warm", run_sequential(*client, {warm_name}, payload, o.n, &progress),
                 false);
  }
  client.reset();
  node.reset();  // stops the node before the baselines run, so they have the machine
  const bool images = cold && o.images && !o.endpoint;
  if (images) add_image_cold_starts(o, report);

  if (!o.baselines) return;
  if (cold) {
    add_cold_baselines(report, o, o.n);
    report.add_ratio("cold: received->first next", kSpawnBaseline);
    report.add_ratio("cold: client total", kSpawnBaseline);
    report.add_ratio("cold: received->first next", kRuncBaseline);
  }
  if (images) {
    for (const char* group : {"cold image native", "cold image runc", "cold image crun"}) {
      const std::string figure = std::string(group) + ": received->first next";
      report.add_ratio(figure, "cold: received->first next");
      report.add_ratio(figure, kRuncBaseline);
    }
  }
  if (warm) {
    add_loopback_baseline(report, o, o.n);
    report.add_ratio("warm: client total", kLoopBaseline);
    report.add_ratio("warm: engine-added (total - handler)", kLoopBaseline);
  }
}

void run_throughput_mode(const BenchOptions& o, Report& report) {
  auto f = function_for(o, "warm");
  f.reserved_concurrency = static_cast<std::uint32_t>(std::max<std::size_t>(o.concurrency, 1));
  std::unique_ptr<client::LocalNode> node;
  const auto [endpoint, name] = given_or_own_node(o, f, node);
  const std::size_t n = o.duration_s > 0 ? 0 : o.n;
  ThroughputResult result;
  {
    Progress progress("throughput", n);
    result = run_throughput(o.client, endpoint, name, event_payload(o.payload_bytes), o.concurrency,
                            n, o.duration_s, &progress);
  }
  node.reset();
  report.figures.emplace_back("invocations_per_s", result.per_second());
  report.figures.emplace_back("clients", static_cast<double>(o.concurrency));
  report.figures.emplace_back("wall_s", result.wall_s);
  report.figures.emplace_back("errors", static_cast<double>(result.errors));
  report.series.push_back(
      {"throughput", "client total", SeriesKind::kFigure, std::move(result.client_us)});
  if (o.baselines) {
    add_loopback_baseline(report, o, std::min<std::size_t>(o.n, 1000));
    report.add_ratio("throughput: client total", kLoopBaseline);
  }
}

// Sums a field over every function of GET /ember/v1/functions; nullopt when not served.
std::optional<double> functions_total(const std::string& body, const char* field) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* list = doc.as_object().if_contains("functions");
  if (list == nullptr || !list->is_array()) return std::nullopt;
  double total = 0;
  for (const auto& f : list->as_array()) {
    const auto* v = f.is_object() ? f.as_object().if_contains(field) : nullptr;
    if (v == nullptr) return std::nullopt;
    total += v->is_double() ? v->as_double() : static_cast<double>(v->to_number<double>());
  }
  return total;
}

void run_trace_mode(const BenchOptions& o, Report& report) {
  const auto trace = load_trace(o.trace_file, o.trace_format, o.trace_limits);
  report.figures.emplace_back("trace_functions", static_cast<double>(trace.functions.size()));
  report.figures.emplace_back("trace_invocations", static_cast<double>(trace.events.size()));
  report.figures.emplace_back("trace_span_s", trace.span_s);
  report.figures.emplace_back("time_scale", o.time_scale);
  const auto payload = event_payload(o.payload_bytes);

  std::vector<std::string> policies = {"fixed", "adaptive"};
  if (o.endpoint) policies = {"as configured"};
  for (const auto& policy : policies) {
    std::unique_ptr<client::LocalNode> node;
    Endpoint endpoint;
    std::vector<std::string> names;
    if (o.endpoint) {
      endpoint = *o.endpoint;
      names.assign(trace.functions.size(), o.function);
    } else {
      std::vector<client::NodeFunction> functions;
      for (std::size_t i = 0; i < trace.functions.size(); ++i) {
        auto f = function_for(o, "f" + std::to_string(i));
        f.keep_alive = policy;
        f.keep_alive_s = o.keep_alive_s;
        f.reserved_concurrency =
            static_cast<std::uint32_t>(std::max<std::size_t>(o.concurrency, 1));
        functions.push_back(f);
        names.push_back(f.name);
      }
      node = start_node(o, functions, {}, o.time_scale);
      endpoint = endpoint_of(*node);
    }
    ReplayOutcome outcome;
    {
      Progress progress("trace " + policy, trace.events.size());
      outcome =
          replay(trace, names, o.client, endpoint, o.time_scale, o.concurrency, payload, &progress);
    }
    PolicyOutcome p;
    p.policy = policy;
    p.invocations = outcome.invocations;
    p.errors = outcome.errors;
    p.cold = outcome.cold;
    p.cold_share = outcome.invocations > 0 ? static_cast<double>(outcome.cold) /
                                                 static_cast<double>(outcome.invocations)
                                           : 0;
    p.max_lateness_s = outcome.max_lateness_s;
    p.wall_s = outcome.wall_s;
    client::HttpRequest status;
    status.url = endpoint.url() + "/ember/v1/functions";
    const auto reply = client::http_request(status);
    if (reply.status == 200) {
      p.idle_worker_seconds = functions_total(reply.body, "idle_worker_seconds");
      p.engine_cold_starts = functions_total(reply.body, "cold_starts");
    } else {
      report.notes.push_back("GET /ember/v1/functions: not served by this node (status " +
                             std::to_string(reply.status) + "); no idle worker-seconds");
    }
    report.series.push_back(
        {"trace " + policy, "client total", SeriesKind::kFigure, std::move(outcome.client_us)});
    report.policies.push_back(p);
  }
}

}  // namespace

Report run_bench(const BenchOptions& o) {
  Report report;
  report.mode = o.mode;
  report.target = target_text(o);
  report.client = o.client == ClientKind::kCurl ? "libcurl" : "Beast";
  report.payload = std::to_string(event_payload(o.payload_bytes).size()) + "-byte JSON event";
  if (o.mode == "cold") {
    run_cold_warm(o, report, true, false);
  } else if (o.mode == "warm") {
    run_cold_warm(o, report, false, true);
  } else if (o.mode == "all") {
    run_cold_warm(o, report, true, true);
  } else if (o.mode == "throughput") {
    run_throughput_mode(o, report);
  } else if (o.mode == "trace") {
    run_trace_mode(o, report);
  } else if (o.mode == "memory") {
    detail::run_memory_mode(o, report);
  } else if (o.mode == "rate") {
    detail::run_rate_mode(o, report);
  } else if (o.mode == "unpack") {
    detail::run_unpack_mode(o, report);
  } else if (o.mode == "async") {
    detail::run_async_mode(o, report);
  } else if (o.mode == "http") {
    detail::run_http_mode(o, report);
  } else if (o.mode == "bucket") {
    detail::run_bucket_mode(o, report);
  } else if (o.mode == "soak") {
    detail::run_soak_mode(o, report);
  } else {
    throw std::runtime_error("unknown mode '" + o.mode + "'");
  }
  return report;
}

}  // namespace ember::bench
