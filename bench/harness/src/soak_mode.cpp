// `ember bench soak`: a mixed load against one node for --duration (warm and cold
// invocations, function errors, timeouts, OOM kills, 1 MiB payloads both ways, asynchronous
// events), the node's fds, RSS, threads, sandbox cgroups, mounts and log bytes sampled each
// second. The report gives each at the start, after the warm-up and at the end, and flags
// what grew after the warm-up (docs/benchmarks.md#soak).
#include "soak_mode.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "ember/bench/http_client.hpp"
#include "ember/bench/node_sample.hpp"
#include "ember/bench/progress.hpp"
#include "ember/client/temp_dir.hpp"
#include "modes.hpp"

namespace ember::bench::detail {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Paced so the soak measures what stays behind, not how fast the machine is: each warm
// client sends at most this many requests per second.
constexpr double kWarmPerClientPerSecond = 50;
constexpr std::size_t kLargeBytes = 1U << 20U;  // a 1 MiB event, echoed back

// A Python handler whose event says what to do: fail, overrun its 1 s timeout, go over its
// 128 MB, echo (a large event comes back as large), or answer.
void write_soak_function(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "lambda_function.py") << R"(import time


def lambda_handler(event, context):
    what = event.get("do")
    if what == "error":
        raise ValueError("soak: a function error on purpose")
    if what == "sleep":
        time.sleep(5)
    if what == "oom":
        hog = []
        while True:
            hog.append(b"x" * (16 << 20))
    if what == "echo":
        return event
    return {"ok": True}
)";
}

// One kind of request of the mix, and what it must get.
struct Kind {
  std::string name;
  std::string function;
  std::string payload;
  bool event = false;           // X-Amz-Invocation-Type: Event, 202 expected
  bool function_error = false;  // a 200 with X-Amz-Function-Error expected
  std::size_t min_body = 0;
};

struct KindCount {
  std::size_t sent = 0;
  std::size_t unexpected = 0;
  std::string first_unexpected;
};

class Counts {
 public:
  void add(const std::string& kind, const std::optional<std::string>& problem) {
    const std::lock_guard lock(mutex_);
    auto& c = by_kind_[kind];
    ++c.sent;
    if (!problem) return;
    ++c.unexpected;
    if (c.first_unexpected.empty()) c.first_unexpected = *problem;
  }
  std::map<std::string, KindCount> take() {
    const std::lock_guard lock(mutex_);
    return by_kind_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, KindCount> by_kind_;
};

// Sends one request of `kind`; nullopt when the answer is the expected one, else what it was.
// A 429 (a pool still retiring a worker that timed out or was killed) is retried.
std::optional<std::string> send(HttpClient& client, const Kind& kind, Clock::time_point stop) {
  const auto target = invoke_target(kind.function);
  HttpResult r;
  for (;;) {
    r = kind.event ? client.post_event(target, kind.payload)
                   : client.post(target, kind.payload, false);
    if (!r.ok || r.status != 429 || Clock::now() >= stop) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!r.ok) return "no answer: " + r.error;
  const int want = kind.event ? 202 : 200;
  if (r.status != want) {
    return "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
  }
  if (r.function_error != kind.function_error) {
    return std::string(kind.function_error ? "no function error" : "a function error") + ": " +
           r.body.substr(0, 200);
  }
  if (r.body.size() < kind.min_body) {
    return "a " + std::to_string(r.body.size()) + "-byte answer, " + std::to_string(kind.min_body) +
           " expected";
  }
  return std::nullopt;
}

// Sends `kinds` round and round until `stop`, at most `per_second` requests a second (0: as
// fast as they answer).
void run_client(ClientKind client_kind, const Endpoint& endpoint, const std::vector<Kind>& kinds,
                double per_second, Clock::time_point stop, Counts& counts) {
  auto client = make_client(client_kind, endpoint);
  const auto gap = per_second > 0 ? std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(1.0 / per_second))
                                  : Clock::duration::zero();
  auto next = Clock::now();
  for (std::size_t i = 0; Clock::now() < stop; ++i) {
    const auto& kind = kinds[i % kinds.size()];
    counts.add(kind.name, send(*client, kind, stop));
    next += gap;
    std::this_thread::sleep_until(std::min(next, stop));
  }
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Whether `growth` of a figure after the warm-up is within what its noise allows: counts of
// things may move by a couple (a sandbox being made or retired), RSS by 4 MiB or 10 %.
bool is_flat(const std::string& figure, double after_warmup, double growth) {
  if (figure == "rss_kib") return growth <= std::max(4096.0, after_warmup * 0.1);
  if (figure == "mounts") return growth <= 0;
  if (figure == "log_bytes") return growth <= 0;
  return growth <= 2;
}

// One figure's start, after-warm-up and end values, max, growth and flatness; `all` holds
// its samples, and those from `first_after` on came after the warm-up. Returns the growth
// when it is not flat.
std::optional<double> add_figure(Report& report, const std::string& name,
                                 const std::vector<double>& all, std::size_t first_after,
                                 const std::vector<double>& at_s) {
  // After the warm-up and at the end: the median of a window of samples, so a sandbox being
  // made or retired at the one second read does not decide.
  const std::vector<double> after(all.begin() + static_cast<std::ptrdiff_t>(first_after),
                                  all.end());
  const std::size_t window = std::clamp<std::size_t>(after.size() / 4, 1, 10);
  const auto n = static_cast<std::ptrdiff_t>(std::min(window, after.size()));
  const double at_warmup = after.empty() ? all.back() : median({after.begin(), after.begin() + n});
  const double at_end = after.empty() ? all.back() : median({after.end() - n, after.end()});
  const double growth = at_end - at_warmup;
  const double span_s = after.empty() ? 0 : at_s.back() - at_s[first_after];
  report.figures.emplace_back(name + "_start", all.front());
  report.figures.emplace_back(name + "_after_warmup", at_warmup);
  report.figures.emplace_back(name + "_end", at_end);
  report.figures.emplace_back(name + "_max", *std::max_element(all.begin(), all.end()));
  report.figures.emplace_back(name + "_growth", growth);
  if (span_s > 0) report.figures.emplace_back(name + "_growth_per_min", growth / span_s * 60);
  const bool flat = is_flat(name, at_warmup, growth);
  report.figures.emplace_back(name + "_flat", flat ? 1 : 0);
  if (flat) return std::nullopt;
  return growth;
}

// The figures of the samples (add_figure) and a note naming what grew.
void add_samples(Report& report, const std::vector<NodeSample>& samples, double warmup_s) {
  report.figures.emplace_back("duration_s", samples.back().at_s);
  report.figures.emplace_back("warmup_s", warmup_s);
  report.figures.emplace_back("samples", static_cast<double>(samples.size()));
  std::size_t first_after = 0;
  while (first_after < samples.size() && samples[first_after].at_s < warmup_s) ++first_after;
  std::vector<double> at_s;
  at_s.reserve(samples.size());
  for (const auto& s : samples) at_s.push_back(s.at_s);
  std::string growing;
  const auto names = figures_of(samples.front());
  for (std::size_t f = 0; f < names.size(); ++f) {
    std::vector<double> all;
    all.reserve(samples.size());
    for (const auto& s : samples) all.push_back(figures_of(s)[f].second);
    const auto growth = add_figure(report, names[f].first, all, first_after, at_s);
    if (!growth) continue;
    growing += (growing.empty() ? "" : ", ") + names[f].first + " +" +
               std::to_string(static_cast<long long>(*growth));
  }
  report.notes.push_back(growing.empty() ? "flat after the warm-up: fds, rss_kib, threads, "
                                           "cgroups, mounts, log_bytes"
                                         : "GROWS after the warm-up: " + growing);
}

// Each kind's requests and those not answered as expected, with the first such answer.
void add_counts(Report& report, const std::map<std::string, KindCount>& counts) {
  for (const auto& [kind, c] : counts) {
    report.figures.emplace_back(kind + "_requests", static_cast<double>(c.sent));
    report.figures.emplace_back(kind + "_unexpected", static_cast<double>(c.unexpected));
    if (c.unexpected > 0) {
      report.notes.push_back(kind + ": " + std::to_string(c.unexpected) + " of " +
                             std::to_string(c.sent) +
                             " not as expected; first: " + c.first_unexpected);
    }
  }
}

}  // namespace

void run_soak_mode(const BenchOptions& o, Report& report) {
  const double duration_s = o.duration_s > 0 ? o.duration_s : 600;
  const double warmup_s = std::clamp(duration_s / 5, 1.0, 60.0);
  const client::TempDir work("ember-bench-soak-");
  write_soak_function(work.path() / "soak");

  auto warm = function_for(o, "soak-warm");
  warm.reserved_concurrency = 4;
  auto cold = function_for(o, "soak-cold");
  cold.max_reuse = 1;
  cold.reserved_concurrency = 2;
  client::NodeFunction py;
  py.name = "soak-py";
  py.runtime = "python3";
  py.handler = "lambda_function.lambda_handler";
  py.code = work.path() / "soak";
  py.isolation = o.isolation;
  py.network = o.network;
  py.timeout_s = 1;
  py.memory_mb = 128;
  py.reserved_concurrency = 2;
  auto node = start_node(o, {warm, cold, py});
  const auto endpoint = endpoint_of(*node);
  const auto log_dir = node->state_dir() / "logs";
  const auto stdout_file = node->dir() / "stdout";

  const auto payload = event_payload(o.payload_bytes);
  // Every field given: name, function, event, Event invocation, function error, least answer.
  const Kind warm_kind{"warm", "soak-warm", payload, false, false, 0};
  const std::vector<Kind> fast = {
      warm_kind, warm_kind, warm_kind, warm_kind, {"async", "soak-warm", payload, true, false, 0}};
  const std::vector<Kind> mix = {
      {"cold", "soak-cold", payload, false, false, 0},
      {"error", "soak-py", R"({"do":"error"})", false, true, 0},
      {"large", "soak-py", R"({"do":"echo","pad":")" + std::string(kLargeBytes, 'x') + "\"}", false,
       false, kLargeBytes},
      {"timeout", "soak-py", R"({"do":"sleep"})", false, true, 0},
      {"oom", "soak-py", R"({"do":"oom"})", false, true, 0},
      {"python", "soak-py", R"({"do":"answer"})", false, false, 0},
  };

  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(duration_s));
  std::vector<NodeSample> samples;
  auto take_sample = [&] {
    auto s = sample_node(node->pid(), log_dir, stdout_file);
    if (!s) throw std::runtime_error("the node (pid " + std::to_string(node->pid()) + ") is gone");
    s->at_s = std::chrono::duration<double>(Clock::now() - start).count();
    samples.push_back(*s);
  };
  take_sample();
  Counts counts;
  {
    std::vector<std::jthread> clients;
    clients.emplace_back([&] { run_client(o.client, endpoint, mix, 0, stop, counts); });
    const std::size_t warm_clients =
        std::max<std::size_t>(1, o.concurrency > 1 ? o.concurrency - 1 : 1);
    for (std::size_t i = 0; i < warm_clients; ++i) {
      clients.emplace_back(
          [&] { run_client(o.client, endpoint, fast, kWarmPerClientPerSecond, stop, counts); });
    }
    Progress progress("soak", 0);
    for (auto next = start + std::chrono::seconds(1); next < stop;
         next += std::chrono::seconds(1)) {
      std::this_thread::sleep_until(next);
      take_sample();
      progress.set_fraction(std::chrono::duration<double>(Clock::now() - start).count() /
                            duration_s);
    }
  }  // the clients end by `stop`, each after its request in flight
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last answers' logs and retirements
  take_sample();

  report.figures.emplace_back("node_pid", static_cast<double>(node->pid()));
  add_samples(report, samples, warmup_s);
  add_counts(report, counts.take());
  node->stop();
}

}  // namespace ember::bench::detail
