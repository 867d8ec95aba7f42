// `ember bench async`: asynchronous invocations (X-Amz-Invocation-Type: Event).
// - Accepts: at each concurrency level, C keep-alive clients post N events in all to a no-op
//   function; the rate is N over the time to the last 202, and each 202's latency is kept.
//   The node answers 202 only once the event is committed with fsync, so C = 1 shows one
//   commit per event and higher C what the queue's group commit gains.
// - Baseline, same run and same file system (the node's state directory): the payload
//   appended to a plain file with fdatasync per event, and without it.
// - Drain: the node is stopped (queued events stay queued) and started again; the queue
//   then empties at the rate the function's reserved concurrency allows.
// - Crash check: K events into a slow Python function that records each success in a
//   directory; the node is killed with SIGKILL once half have run, started again on the same
//   state, and every accepted request id must get its record (lost, duplicated, time).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include "ember/bench/progress.hpp"
#include "ember/bench/stats.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "modes.hpp"

namespace ember::bench::detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollEvery{2};
constexpr std::chrono::seconds kDrainLimit{300};
constexpr std::uint32_t kCrashReserved = 10;
constexpr const char* kSyncBaseline = "baseline: append + fdatasync";
constexpr const char* kPlainBaseline = "baseline: append, no fsync";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string level_group(std::size_t concurrency) {
  return "async c=" + std::to_string(concurrency);
}

struct AcceptRun {
  std::vector<double> latency_us;  // one per 202
  std::vector<std::string> ids;    // each 202's X-Amzn-RequestId
  std::size_t errors = 0;
  std::string first_error;
  double wall_s = 0;  // first request sent to the last 202 read
};

// `concurrency` threads, each with its own keep-alive connection, post `n` Event invocations
// of `function` in all.
AcceptRun accept_events(ClientKind kind, const Endpoint& endpoint, const std::string& function,
                        const std::string& payload, std::size_t concurrency, std::size_t n,
                        Progress* progress) {
  const auto target = invoke_target(function);
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  AcceptRun out;
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < concurrency; ++t) {
      threads.emplace_back([&] {
        auto client = make_client(kind, endpoint);
        AcceptRun mine;
        while (next.fetch_add(1) < n) {
          auto r = client->post_event(target, payload);
          if (r.ok && r.status == 202 && !r.request_id.empty()) {
            mine.latency_us.push_back(r.total_us);
            mine.ids.push_back(std::move(r.request_id));
          } else if (mine.errors++ == 0) {
            mine.first_error =
                r.ok ? "status " + std::to_string(r.status) + ": " + r.body : r.error;
          }
          if (progress != nullptr) progress->tick();
        }
        const std::scoped_lock lock(merge);
        out.latency_us.insert(out.latency_us.end(), mine.latency_us.begin(), mine.latency_us.end());
        out.ids.insert(out.ids.end(), mine.ids.begin(), mine.ids.end());
        if (out.errors == 0) out.first_error = mine.first_error;
        out.errors += mine.errors;
      });
    }
  }  // joined
  out.wall_s = seconds_since(start);
  return out;
}

// The function's "async" object of GET /ember/v1/functions.
struct QueueCounts {
  double queued = 0;
  double running = 0;
  double succeeded = 0;
  [[nodiscard]] bool empty() const { return queued == 0 && running == 0; }
};

QueueCounts queue_counts(HttpClient& client, const std::string& function) {
  const auto reply = client.get("/ember/v1/functions");
  if (!reply.ok || reply.status != 200) {
    throw std::runtime_error("GET /ember/v1/functions: " +
                             (reply.ok ? "status " + std::to_string(reply.status) : reply.error));
  }
  boost::system::error_code ec;
  const auto doc = boost::json::parse(reply.body, ec);
  const auto* list = doc.is_object() ? doc.as_object().if_contains("functions") : nullptr;
  if (ec || list == nullptr || !list->is_array()) {
    throw std::runtime_error("GET /ember/v1/functions: not the expected JSON: " + reply.body);
  }
  for (const auto& f : list->as_array()) {
    const auto* name = f.is_object() ? f.as_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string() || name->as_string() != function) continue;
    const auto* async = f.as_object().if_contains("async");
    if (async == nullptr || !async->is_object()) break;
    const auto& a = async->as_object();
    QueueCounts c;
    c.queued = a.at("queued").to_number<double>();
    c.running = a.at("running").to_number<double>();
    c.succeeded = a.at("succeeded").to_number<double>();
    return c;
  }
  throw std::runtime_error("GET /ember/v1/functions: no \"async\" object for " + function);
}

// Polls until `done(counts)` or `limit`; the last counts. Throws when the limit passes.
template <typename Done>
QueueCounts wait_for_counts(HttpClient& client, const std::string& function, Done done,
                            std::chrono::seconds limit, const std::string& what) {
  const auto start = Clock::now();
  for (;;) {
    const auto c = queue_counts(client, function);
    if (done(c)) return c;
    if (Clock::now() - start > limit) {
      throw std::runtime_error(what + ": not done after " + std::to_string(limit.count()) +
                               " s (queued " + std::to_string(c.queued) + ", running " +
                               std::to_string(c.running) + ")");
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

// Microseconds per append of `record` to `file`, each followed by fdatasync when `sync`.
std::vector<double> append_us(const fs::path& file, const std::string& record, std::size_t n,
                              bool sync) {
  const isolation::UniqueFd fd(
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) {
    throw std::runtime_error("open " + file.string() + ": " +
                             std::generic_category().message(errno));
  }
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto begin = Clock::now();
    const auto written = ::write(fd.get(), record.data(), record.size());
    if (written != static_cast<ssize_t>(record.size()) || (sync && ::fdatasync(fd.get()) != 0)) {
      throw std::runtime_error("append to " + file.string() + ": " +
                               std::generic_category().message(errno));
    }
    out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
  }
  return out;
}

// Records per request id in an on_success directory: DIR/<requestId>-Success-<attempts>.json
// (dot files are the destination's temporaries, not yet renamed).
std::map<std::string, std::size_t> success_records(const fs::path& dir) {
  std::map<std::string, std::size_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    const auto mark = name.find("-Success-");
    if (name.starts_with(".") || !name.ends_with(".json") || mark == std::string::npos) continue;
    ++out[name.substr(0, mark)];
  }
  return out;
}

std::size_t missing(const std::vector<std::string>& ids,
                    const std::map<std::string, std::size_t>& records) {
  return static_cast<std::size_t>(std::count_if(
      ids.begin(), ids.end(), [&](const std::string& id) { return !records.contains(id); }));
}

void add_level(Report& report, std::size_t concurrency, AcceptRun run) {
  const auto c = "_c" + std::to_string(concurrency);
  const auto accepted = static_cast<double>(run.ids.size());
  report.figures.emplace_back("events_per_s" + c, run.wall_s > 0 ? accepted / run.wall_s : 0);
  report.figures.emplace_back("accepted" + c, accepted);
  report.figures.emplace_back("errors" + c, static_cast<double>(run.errors));
  report.figures.emplace_back("accept_wall_s" + c, run.wall_s);
  report.figures.emplace_back("accept_us_per_event" + c,
                              accepted > 0 ? run.wall_s * 1e6 / accepted : 0);
  if (run.errors > 0) {
    report.notes.push_back(level_group(concurrency) + ": " + std::to_string(run.errors) +
                           " events not accepted; first: " + run.first_error);
  }
  report.series.push_back(
      {level_group(concurrency), "202 latency", SeriesKind::kFigure, std::move(run.latency_us)});
}

// Stops the node (queued events stay queued), starts it again and times the queue emptying.
void measure_drain(client::LocalNode& node, const BenchOptions& o, const std::string& function,
                   std::uint32_t reserved, Report& report) {
  node.stop();
  node.restart();
  auto client = make_client(o.client, endpoint_of(node));
  const auto start = Clock::now();
  const auto first = queue_counts(*client, function);
  const auto last = wait_for_counts(
      *client, function, [](const QueueCounts& c) { return c.empty(); }, kDrainLimit, "drain");
  const double seconds = seconds_since(start);
  const double events = last.succeeded - first.succeeded;
  report.figures.emplace_back("drain_queued_at_start", first.queued + first.running);
  report.figures.emplace_back("drain_events", events);
  report.figures.emplace_back("drain_s", seconds);
  report.figures.emplace_back("drain_events_per_s", seconds > 0 ? events / seconds : 0);
  report.figures.emplace_back("drain_reserved_concurrency", reserved);
  if (events < 1) {
    report.notes.emplace_back(
        "drain: the queue was empty when the node came back (the dispatcher kept up with the "
        "accepts); no drain rate");
  }
}

void run_accepts(const BenchOptions& o, Report& report) {
  auto f = function_for(o, "sink");
  const auto reserved = *f.reserved_concurrency;
  auto node = start_node(o, {f});
  const auto payload = event_payload(o.payload_bytes);
  std::map<std::size_t, double> rates;
  std::map<std::size_t, double> us_per_event;  // the run's wall time over its events
  for (const auto concurrency : o.concurrency_levels) {
    AcceptRun run;
    {
      Progress progress(level_group(concurrency), o.events);
      run = accept_events(o.client, endpoint_of(*node), f.name, payload, concurrency, o.events,
                          &progress);
    }
    const auto accepted = static_cast<double>(run.ids.size());
    rates[concurrency] = run.wall_s > 0 ? accepted / run.wall_s : 0;
    us_per_event[concurrency] = accepted > 0 ? run.wall_s * 1e6 / accepted : 0;
    add_level(report, concurrency, std::move(run));
  }
  // What concurrent clients gain over one: at C = 1 every event waits for its own commit.
  if (rates.contains(1) && rates.at(1) > 0) {
    for (const auto& [concurrency, rate] : rates) {
      if (concurrency == 1) continue;
      report.figures.emplace_back("events_per_s_c" + std::to_string(concurrency) + "_over_c1",
                                  rate / rates.at(1));
    }
  }
  measure_drain(*node, o, f.name, reserved, report);
  node->stop();  // the baselines get the machine, in the same state directory
  if (!o.baselines) return;

  const auto file = node->dir() / "state" / "baseline-append";
  const auto record = payload + "\n";
  const std::size_t n = std::min<std::size_t>(o.events, 2000);
  auto synced = append_us(file, record, n, true);
  auto plain = append_us(file, record, n, false);
  fs::remove(file);
  // Per event on average, as the accept rates are: a slow fsync counts with its full time.
  const double synced_mean = summarize(synced).mean;
  report.figures.emplace_back("baseline_append_fdatasync_us_mean", synced_mean);
  report.figures.emplace_back("baseline_append_us_mean", summarize(plain).mean);
  report.series.push_back(
      {"baseline", "append + fdatasync", SeriesKind::kBaseline, std::move(synced)});
  report.series.push_back(
      {"baseline", "append, no fsync", SeriesKind::kBaseline, std::move(plain)});
  for (const auto& [concurrency, us] : us_per_event) {
    if (synced_mean > 0) {
      report.figures.emplace_back(
          "accept_us_per_event_over_fdatasync_append_c" + std::to_string(concurrency),
          us / synced_mean);
    }
    report.add_ratio(level_group(concurrency) + ": 202 latency", kSyncBaseline);
  }
  report.add_ratio(kSyncBaseline, kPlainBaseline);
}

// A Python handler that sleeps `ms` and returns.
void write_slow_function(const fs::path& dir, unsigned ms) {
  fs::create_directories(dir);
  std::ofstream(dir / "lambda_function.py")
      << "import time\n\n\ndef lambda_handler(event, context):\n    time.sleep(" << ms / 1000.0
      << ")\n    return {\"ok\": True}\n";
}

void run_crash_check(const BenchOptions& o, Report& report) {
  const client::TempDir work("ember-bench-async-");
  const auto records = work.path() / "records";
  fs::create_directories(records);
  write_slow_function(work.path() / "slow", o.crash_sleep_ms);
  client::NodeFunction f;
  f.name = "slow";
  f.runtime = "python3";
  f.handler = "lambda_function.lambda_handler";
  f.code = work.path() / "slow";
  f.isolation = o.isolation;
  f.network = o.network;
  f.reserved_concurrency = kCrashReserved;
  f.async = client::NodeFunction::Async{};
  f.async->retry_delays_s = {1};
  f.async->on_success = "dir:" + records.string();
  auto node = start_node(o, {f});
  const auto concurrency = o.concurrency_levels.back();
  AcceptRun run;
  {
    Progress progress("crash check: accept", o.crash_events);
    run = accept_events(o.client, endpoint_of(*node), f.name, event_payload(o.payload_bytes),
                        concurrency, o.crash_events, &progress);
  }
  if (run.errors > 0) {
    report.notes.push_back("crash check: " + std::to_string(run.errors) +
                           " events not accepted; first: " + run.first_error);
  }
  const auto half = static_cast<double>(run.ids.size()) / 2;
  QueueCounts at_kill;
  {
    auto client = make_client(o.client, endpoint_of(*node));
    at_kill = wait_for_counts(
        *client, f.name, [&](const QueueCounts& c) { return c.succeeded >= half; }, kDrainLimit,
        "crash check: half the events");
  }
  node->kill();
  const auto killed = Clock::now();
  node->restart();
  const double restart_s = seconds_since(killed);
  while (missing(run.ids, success_records(records)) > 0 && Clock::now() - killed < kDrainLimit) {
    std::this_thread::sleep_for(kPollEvery);
  }
  const double recovery_s = seconds_since(killed);
  {
    // Every attempt that was running when the node died has run again by now, or is running:
    // wait for the queue to be empty so its duplicates are counted too.
    auto client = make_client(o.client, endpoint_of(*node));
    wait_for_counts(
        *client, f.name, [](const QueueCounts& c) { return c.empty(); }, kDrainLimit,
        "crash check: the queue emptying after the restart");
  }
  node->stop();
  const auto found = success_records(records);
  const std::set<std::string> accepted(run.ids.begin(), run.ids.end());
  std::size_t duplicated = 0;
  std::size_t unacknowledged = 0;
  std::size_t record_files = 0;
  for (const auto& [id, count] : found) {
    record_files += count;
    if (!accepted.contains(id)) ++unacknowledged;
    if (count > 1) ++duplicated;
  }
  const auto lost = missing(run.ids, found);
  report.figures.emplace_back("crash_accepted", static_cast<double>(run.ids.size()));
  report.figures.emplace_back("crash_succeeded_at_kill", at_kill.succeeded);
  report.figures.emplace_back("crash_running_at_kill", at_kill.running);
  report.figures.emplace_back("crash_lost", static_cast<double>(lost));
  report.figures.emplace_back("crash_duplicated", static_cast<double>(duplicated));
  report.figures.emplace_back("crash_record_files", static_cast<double>(record_files));
  report.figures.emplace_back("crash_records_of_unacknowledged_ids",
                              static_cast<double>(unacknowledged));
  report.figures.emplace_back("crash_restart_s", restart_s);
  report.figures.emplace_back("crash_recovery_s", recovery_s);
  if (lost > 0) {
    report.notes.push_back("crash check: " + std::to_string(lost) +
                           " accepted events have no success record " +
                           std::to_string(kDrainLimit.count()) + " s after the kill");
  }
}

}  // namespace

void run_async_mode(const BenchOptions& o, Report& report) {
  run_accepts(o, report);
  if (o.crash) run_crash_check(o, report);
}

}  // namespace ember::bench::detail
