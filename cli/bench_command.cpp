// ember bench: cold, warm, throughput, trace-replay, memory, sandbox-rate, unpack, async, http,
// bucket and soak
// measurements (bench/harness does the work; this file only turns the command line into
// BenchOptions and writes the outputs).
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/bench/html_report.hpp"
#include "ember/bench/session.hpp"
#include "ember/client/aws_credentials.hpp"
#include "install_layout.hpp"

namespace ember::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kAbout =
    R"(Measures ember: cold and warm invocations with the engine's phase split, throughput,
and trace replay per keep-alive policy, each next to baselines measured in the same run.

modes:
  cold        N invocations, each on a fresh sandbox
  warm        N sequential invocations on one warm worker
  all         cold, then warm, in one run and one report
  throughput  C concurrent clients for --duration seconds (or -n invocations)
  trace       replay a trace CSV in compressed time, once per keep-alive policy
  memory      memory per idle warm worker: N provisioned workers, frozen, against N plain
              processes of the same bootstrap blocked in their first `next`
  rate        sandboxes created per second to the first `next`: N invocations of a
              max_reuse: 1 function from C clients, against posix_spawn at the same C
  unpack      an image's first use: --image oci:DIR:TAG unpacked N times into an empty
              store, against GNU tar extracting the same layers (then sync -f)
  async       asynchronous (Event) invocations: --events accepted per second at each
              --concurrency level with the 202 latency, next to a plain file append with
              fdatasync per event on the same file system; the queue's drain rate after a
              restart; and a crash check: --crash-events into a slow Python function, the node
              killed with SIGKILL mid-way and restarted, every accepted event's success
              record counted (lost, duplicated, time to recover)
  http        HTTP routes: at each --concurrency level, -n requests each through an ALB
              route, a Function URL route and, as the baseline, a direct Invoke of the same
              function, in turns; latency p50/p99 and requests per second (the function must
              answer a response document; the default no-op runtime does)
  bucket      object notifications: -n files written into a bucket one at a time, then -n at
              once; each file's close to the start of the Python handler it invokes, next to a
              plain inotify watcher's close -> event
  soak        a mixed load for --duration (default 10m): warm and cold invocations, function
              errors, timeouts, OOM kills, 1 MiB payloads and async events against one node,
              whose fds, RSS, threads, sandbox cgroups, mounts and log bytes are sampled each
              second: shown at the start, after the warm-up and at the end, growth flagged

Without --endpoint the bench starts its own node (this ember binary) serving --code, by
default the no-op C runtime built next to it, and stops it at the end. With --endpoint and
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set (region: AWS_REGION, else AWS_DEFAULT_REGION,
else us-east-1), every request is signed with SigV4 before its clock starts, for a node with
node.auth.

)";

bool is_mode(const std::string& mode) {
  return mode == "cold" || mode == "warm" || mode == "all" || mode == "throughput" ||
         mode == "trace" || mode == "memory" || mode == "rate" || mode == "unpack" ||
         mode == "async" || mode == "http" || mode == "bucket" || mode == "soak";
}

// Modes whose --concurrency is a list of levels.
bool takes_levels(const std::string& mode) { return mode == "async" || mode == "http"; }

// --concurrency: one positive number, or for async and http a comma-separated list of them
// (1,8,32); false (after saying why) when not. Unset: 2, and for async and http 1,8,32.
bool set_concurrency(bench::BenchOptions& o, const std::string& mode, std::string text) {
  if (text.empty()) text = takes_levels(mode) ? "1,8,32" : "2";
  std::vector<std::size_t> levels;
  std::size_t start = 0;
  bool ok = true;
  while (ok && start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    std::size_t value = 0;
    const auto* first = text.data() + start;
    const auto* last = text.data() + end;
    const auto [stop, err] = std::from_chars(first, last, value);
    ok = first != last && err == std::errc{} && stop == last && value > 0 && value <= 10'000;
    levels.push_back(value);
    start = end + 1;
  }
  if (!ok || (!takes_levels(mode) && levels.size() != 1)) {
    std::cerr << "ember bench: --concurrency must be "
              << (takes_levels(mode) ? "a comma-separated list of numbers 1..10000 (e.g. 1,8,32)"
                                     : "a number 1..10000")
              << ", got '" << text << "'\n";
    return false;
  }
  o.concurrency = levels.front();
  o.concurrency_levels = std::move(levels);
  return true;
}

// --endpoint, when given, must be http://IPv4:PORT and come with --function; false (after
// saying why) when not.
bool set_endpoint(bench::BenchOptions& o, const std::string& endpoint) {
  if (endpoint.empty()) return true;
  o.endpoint = bench::parse_endpoint(endpoint);
  if (!o.endpoint) {
    std::cerr << "ember bench: --endpoint must be http://IPv4:PORT (no DNS), got " << endpoint
              << "\n";
    return false;
  }
  if (o.function.empty()) {
    std::cerr << "ember bench: --endpoint needs --function\n";
    return false;
  }
  o.endpoint->sign_as = client::aws_credentials_from_environment();
  return true;
}

// The checks of one mode's own options; false (after saying why) when they fail.
bool check_mode_options(bench::BenchOptions& o, const std::string& mode,
                        const std::string& endpoint, bool no_crash) {
  if (mode == "unpack" && o.image.empty()) {
    std::cerr << "ember bench unpack: --image oci:DIR:TAG is required\n";
    return false;
  }
  if (mode == "memory" && !endpoint.empty()) {
    std::cerr << "ember bench memory: starts its own nodes (it compares the machine before and "
                 "after the workers start); drop --endpoint\n";
    return false;
  }
  if ((mode == "http" || mode == "bucket" || mode == "soak") && !endpoint.empty()) {
    std::cerr << "ember bench " << mode
              << ": starts its own node (with the routes, buckets or functions it measures, and "
                 "the pid it samples); drop --endpoint\n";
    return false;
  }
  if (mode != "async") return true;
  if (!endpoint.empty()) {
    std::cerr << "ember bench async: starts its own node (it restarts it and kills it); drop "
                 "--endpoint\n";
    return false;
  }
  if (o.events == 0 || (!no_crash && o.crash_events < 2)) {
    std::cerr << "ember bench async: --events must be positive and --crash-events at least 2\n";
    return false;
  }
  o.crash = !no_crash;
  return true;
}

// --duration: seconds, or a number with s, m or h (90, 90s, 10m, 1h); nullopt when not.
std::optional<double> parse_duration(const std::string& text) {
  double value = 0;
  const auto* first = text.data();
  const auto* last = text.data() + text.size();
  const auto [stop, err] = std::from_chars(first, last, value);
  if (err != std::errc{} || stop == first || value < 0) return std::nullopt;
  const std::string_view unit(stop, static_cast<std::size_t>(last - stop));
  if (unit.empty() || unit == "s") return value;
  if (unit == "m") return value * 60;
  if (unit == "h") return value * 3600;
  return std::nullopt;
}

// --duration into o.duration_s (soak's default is 10 minutes); false (after saying why) when
// it is not a duration.
bool set_duration(bench::BenchOptions& o, const std::string& mode, const std::string& text,
                  bool defaulted) {
  const auto duration_s = parse_duration(text);
  if (!duration_s) {
    std::cerr << "ember bench: --duration must be seconds or a number with s, m or h (10m), got '"
              << text << "'\n";
    return false;
  }
  o.duration_s = mode == "soak" && defaulted ? 600 : *duration_s;
  return true;
}

// Runs the bench, prints its table (or JSON) and writes the HTML report; the exit code.
int run_and_print(const bench::BenchOptions& o, bool json, const std::string& report_file) {
  bench::Report report;
  try {
    report = bench::run_bench(o);
  } catch (const std::exception& e) {
    std::cerr << "ember bench " << o.mode << ": " << e.what() << "\n";
    return 1;
  }
  std::cout << (json ? bench::json_text(report) : bench::table_text(report));
  if (!report_file.empty()) {
    std::ofstream out(report_file);
    out << bench::html_text(report);
    if (!out) {
      std::cerr << "ember bench: cannot write " << report_file << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  bench::BenchOptions o;
  std::string mode;
  std::string endpoint;
  std::string code;
  std::string client = "beast";
  std::string format = "azure2019";
  std::string report_file;
  std::string isolation;
  std::string network;
  bool json = false;
  bool no_baselines = false;
  double trace_minutes = 0;
  unsigned cold_gap_ms = 10;
  std::size_t trace_functions = 0;
  std::string concurrency;
  std::string duration = "10";
  bool no_crash = false;
  po::options_description options(
      "ember bench cold|warm|all|throughput|trace|memory|rate|unpack|async|http|bucket|soak "
      "[options]");
  options.add_options()("help,h", "show this help")("function", po::value(&o.function),
                                                    "function to invoke on --endpoint")(
      "endpoint", po::value(&endpoint), "a running node's Invoke API, http://127.0.0.1:PORT")(
      "code", po::value(&code), "function code directory (default: the no-op C runtime)")(
      "runtime", po::value(&o.runtime)->default_value("provided"), "provided or python3[.N]")(
      "handler", po::value(&o.handler), "handler (Python: module.function)")(
      "isolation", po::value(&isolation), "functions' isolation: native or none (node default)")(
      "network", po::value(&network), "functions' network: none (own namespace, default) or host")(
      "zygote", po::bool_switch(&o.zygote), "python: fork workers from the zygote")(
      "image", po::value(&o.image), "unpack: the image, oci:DIR[:TAG]")(
      "images", po::bool_switch(&o.images),
      "cold: also the runtime as a container image (umoci), on the native backend and through "
      "runc and crun, next to the code function and the runc baseline")(
      "n,n", po::value(&o.n)->default_value(100),
      "invocations (memory: workers; http: requests per kind and level, default 2000)")(
      "concurrency,c", po::value(&concurrency),
      "client threads (throughput, trace, rate; default 2); async and http: a list of levels "
      "(default 1,8,32), each a run of --events (async) or -n requests per kind (http)")(
      "events", po::value(&o.events)->default_value(2000),
      "async: Event invocations per concurrency level")(
      "crash-events", po::value(&o.crash_events)->default_value(1000),
      "async: events of the crash check")(
      "crash-sleep-ms", po::value(&o.crash_sleep_ms)->default_value(30),
      "async: how long the crash check's function sleeps per event")(
      "no-crash", po::bool_switch(&no_crash), "async: skip the crash check")(
      "duration", po::value(&duration)->default_value("10"),
      "throughput: seconds to run (0 runs -n invocations instead); soak: how long (default "
      "10m); a number of seconds or with s, m or h (90s, 10m)")(
      "payload-bytes", po::value(&o.payload_bytes)->default_value(1024), "event size")(
      "settle-ms", po::value(&o.settle_ms)->default_value(1000),
      "memory: milliseconds to wait before reading /proc/meminfo")(
      "cold-gap-ms", po::value(&cold_gap_ms)->default_value(10),
      "cold: pause between invocations, so the node can refill its prepared sandboxes as "
      "between real cold starts (0: back to back)")(
      "client", po::value(&client)->default_value("beast"), "HTTP client: beast or curl")(
      "no-baselines", po::bool_switch(&no_baselines), "skip the baselines")(
      "json", po::bool_switch(&json), "print JSON instead of the table")(
      "report", po::value(&report_file), "also write a self-contained HTML report here")(
      "trace", po::value(&o.trace_file), "trace CSV file (trace mode)")(
      "format", po::value(&format)->default_value("azure2019"), "azure2019 or azure2021")(
      "time-scale", po::value(&o.time_scale)->default_value(600),
      "trace time runs this many times faster than the wall clock")(
      "trace-minutes", po::value(&trace_minutes)->default_value(0),
      "replay only the first M trace minutes (0: all)")(
      "trace-functions", po::value(&trace_functions)->default_value(0),
      "replay only the first F functions (0: all)")(
      "keep-alive-s", po::value(&o.keep_alive_s)->default_value(600),
      "trace mode: keep_alive_s of the functions (trace seconds)");
  po::positional_options_description positional;
  positional.add("mode", 1);
  po::options_description hidden;
  hidden.add_options()("mode", po::value(&mode));
  po::options_description all;
  all.add(options).add(hidden);
  po::variables_map vm;
  const CommandLine command_line{"ember bench", kAbout, &options, &all, &positional};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  if (!is_mode(mode)) {
    std::cerr << "ember bench: give a mode: cold, warm, all, throughput, trace, memory, rate, "
                 "unpack, async, http, bucket or soak\n"
              << options;
    return 2;
  }
  if (!check_mode_options(o, mode, endpoint, no_crash)) return 2;
  if (!set_concurrency(o, mode, concurrency)) return 2;
  o.mode = mode;
  if (!set_duration(o, mode, duration, vm["duration"].defaulted())) return 2;
  if (mode == "http" && vm["n"].defaulted()) o.n = 2000;  // per kind and level
  if (mode == "throughput" && !vm["n"].defaulted() && vm["duration"].defaulted()) {
    o.duration_s = 0;  // -n alone bounds the run by count
  }
  if (!set_endpoint(o, endpoint)) return 2;
  if (client != "beast" && client != "curl") {
    std::cerr << "ember bench: --client must be beast or curl\n";
    return 2;
  }
  o.client = client == "curl" ? bench::ClientKind::kCurl : bench::ClientKind::kBeast;
  const auto parsed_format = bench::parse_trace_format(format);
  if (!parsed_format) {
    std::cerr << "ember bench: --format must be azure2019 or azure2021\n";
    return 2;
  }
  o.trace_format = *parsed_format;
  if (mode == "trace" && o.trace_file.empty()) {
    std::cerr << "ember bench trace: --trace FILE is required\n";
    return 2;
  }
  if (o.time_scale <= 0 || o.n == 0) {
    std::cerr << "ember bench: -n and --time-scale must be positive\n";
    return 2;
  }
  o.trace_limits.max_span_s = trace_minutes * 60;
  o.cold_gap = std::chrono::milliseconds(cold_gap_ms);
  o.trace_limits.max_functions = trace_functions;
  o.baselines = !no_baselines;
  if (!isolation.empty()) o.isolation = isolation;
  if (!network.empty()) o.network = network;
  // The bench starts nodes with this same `ember`; the no-op runtime is built next to it
  // (<build>/bench/runtimes/noop).
  o.ember = self_exe();
  o.runtimes_dir = locate_install().runtimes_dir;
  o.code = code.empty() ? o.ember.parent_path() / "bench" / "runtimes" / "noop" : fs::path(code);
  std::error_code ec;
  o.code = fs::absolute(o.code, ec);
  if (!o.endpoint && !fs::is_directory(o.code)) {
    std::cerr << "ember bench: code directory " << o.code.string() << " does not exist\n";
    return 2;
  }
  if (o.runtime.starts_with("python") && o.handler.empty()) {
    o.handler = "lambda_function.lambda_handler";
  }

  std::signal(SIGPIPE, SIG_IGN);  // a node that dies mid-run must not take the bench with it
  return run_and_print(o, json, report_file);
}

}  // namespace ember::cli
