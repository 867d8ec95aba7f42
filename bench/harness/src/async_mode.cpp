// `ember bench async`: asynchronous invocations (X-Amz-Invocation-Type: Event).
// - Accepts: at each concurrency level, on a node of its own, C keep-alive clients post N
//   events in all to a no-op function; the rate is N over the time to the last 202, and each
//   202's latency is kept. The node answers 202 only once the event is committed with fsync,
//   so C = 1 shows one commit per event and higher C what the queue's group commit gains.
// - Baselines, right after each level (the disk's load moves during a run) on the same file
//   system (the stopped node's state directory): the payload appended to a plain file with
//   fdatasync per event (data and the file's new size: a journal commit), written in place
//   over synced blocks with fdatasync (the data alone, the device's flush), and appended
//   without any sync.
// - Drain: the last level's node, stopped with its queue still full (queued events stay
//   queued), is started again; the queue empties at the rate the function's reserved
//   concurrency allows.
// - Crash check: K events into a slow Python function that records each success in a
//   directory; the node is killed with SIGKILL once half have run, started again on the same
//   state, and every accepted request id must get its record (lost, duplicated, time).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
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
// Listing a directory of a thousand records costs about a millisecond of the node's CPU.
constexpr std::chrono::milliseconds kRecordsPollEvery{20};
constexpr std::chrono::seconds kDrainLimit{300};
constexpr std::uint32_t kCrashReserved = 10;
constexpr std::size_t kBaselineWrites = 500;  // per level and kind, at most
constexpr const char* kAppendSynced = "append + fdatasync";
constexpr const char* kOverwriteSynced = "overwrite in place + fdatasync";
constexpr const char* kAppendPlain = "append, no fsync";

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

// The durable write without SQLite, timed per event (microseconds).
enum class WriteKind {
  kAppend,              // write() at the end of the file: it grows
  kAppendFdatasync,     // the same, then fdatasync: data and the new size (a journal commit)
  kOverwriteFdatasync,  // pwrite() over blocks written and synced before, then fdatasync:
                        // the data alone, as SQLite's WAL, reused from its start, mostly is
};

isolation::UniqueFd open_or_throw(const fs::path& file) {
  isolation::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) {
    throw std::runtime_error("open " + file.string() + ": " +
                             std::generic_category().message(errno));
  }
  return fd;
}

[[noreturn]] void throw_write_error(const fs::path& file) {
  throw std::runtime_error("write to " + file.string() + ": " +
                           std::generic_category().message(errno));
}

std::vector<double> write_us(const fs::path& file, const std::string& record, std::size_t n,
                             WriteKind kind) {
  const auto fd = open_or_throw(file);
  const auto size = static_cast<ssize_t>(record.size());
  if (kind == WriteKind::kOverwriteFdatasync) {
    for (std::size_t i = 0; i < n; ++i) {
      if (::write(fd.get(), record.data(), record.size()) != size) throw_write_error(file);
    }
    if (::fsync(fd.get()) != 0) throw_write_error(file);
  }
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto begin = Clock::now();
    const auto written =
        kind == WriteKind::kOverwriteFdatasync
            ? ::pwrite(fd.get(), record.data(), record.size(), static_cast<off_t>(i) * size)
            : ::write(fd.get(), record.data(), record.size());
    if (written != size || (kind != WriteKind::kAppend && ::fdatasync(fd.get()) != 0)) {
      throw_write_error(file);
    }
    out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
  }
  std::error_code ec;
  fs::remove(file, ec);
  return out;
}

// One request id's success records.
struct Records {
  std::size_t files = 0;
  std::size_t most_attempts = 0;  // approximateInvokeCount of its latest run
};

// The records of an on_success directory by request id: DIR/<requestId>-Success-<attempts>.json
// (dot files are the destination's temporaries, not yet renamed).
std::map<std::string, Records> success_records(const fs::path& dir) {
  constexpr std::string_view kMark = "-Success-";
  std::map<std::string, Records> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    const auto mark = name.find(kMark);
    if (name.starts_with(".") || !name.ends_with(".json") || mark == std::string::npos) continue;
    auto& r = out[name.substr(0, mark)];
    ++r.files;
    std::size_t attempts = 0;
    const auto* digits = name.data() + mark + kMark.size();
    std::from_chars(digits, name.data() + name.size(), attempts);
    r.most_attempts = std::max(r.most_attempts, attempts);
  }
  return out;
}

std::size_t missing(const std::vector<std::string>& ids,
                    const std::map<std::string, Records>& records) {
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

// Starts a node on the state of one that stopped with events queued, and times the queue
// emptying.
void measure_drain(const BenchOptions& o, const client::NodeFunction& f, const fs::path& state_dir,
                   Report& report) {
  const auto function = f.name;
  const auto reserved = *f.reserved_concurrency;
  const auto node = start_node(o, {f}, {}, std::nullopt, state_dir);
  auto client = make_client(o.client, endpoint_of(*node));
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
  node->stop();
  if (events < 1) {
    report.notes.emplace_back(
        "drain: the queue was empty when the node came back (the dispatcher kept up with the "
        "accepts); no drain rate");
  }
}

// The baselines of one level, measured in the state directory of the node just stopped (the
// disk's load moves over a run; each level is compared with what it saw right after it).
void add_level_baselines(Report& report, std::size_t concurrency, const fs::path& state_dir,
                         const std::string& record, std::size_t n, double us_per_event) {
  const auto c = std::to_string(concurrency);
  const auto group = "baseline c=" + c;
  const std::pair<WriteKind, const char*> kinds[] = {
      {WriteKind::kAppendFdatasync, kAppendSynced},
      {WriteKind::kOverwriteFdatasync, kOverwriteSynced},
      {WriteKind::kAppend, kAppendPlain}};
  for (const auto& [kind, name] : kinds) {
    auto us = write_us(state_dir / "baseline-write", record, n, kind);
    const double mean = summarize(us).mean;
    report.series.push_back({group, name, SeriesKind::kBaseline, std::move(us)});
    if (kind == WriteKind::kAppend) continue;
    // e.g. "append_fdatasync_c8"
    std::string key = kind == WriteKind::kAppendFdatasync ? "append" : "overwrite";
    key += "_fdatasync_c";
    key += c;
    report.figures.emplace_back("baseline_" + key + "_us_mean", mean);
    if (mean > 0) {
      report.figures.emplace_back("accept_us_per_event_over_" + key, us_per_event / mean);
    }
    report.add_ratio(level_group(concurrency) + ": 202 latency", group + ": " + name);
  }
}

// Each level on a node of its own (an empty queue, as the others had), stopped before its
// baselines; the last one's leftovers are drained after a restart.
void run_accepts(const BenchOptions& o, Report& report) {
  const auto f = function_for(o, "sink");
  const auto payload = event_payload(o.payload_bytes);
  std::map<std::size_t, double> rates;
  for (std::size_t i = 0; i < o.concurrency_levels.size(); ++i) {
    const auto concurrency = o.concurrency_levels[i];
    const client::TempDir state("ember-bench-async-state-");
    auto node = start_node(o, {f}, {}, std::nullopt, state.path());
    AcceptRun run;
    {
      Progress progress(level_group(concurrency), o.events);
      run = accept_events(o.client, endpoint_of(*node), f.name, payload, concurrency, o.events,
                          &progress);
    }
    const auto accepted = static_cast<double>(run.ids.size());
    rates[concurrency] = run.wall_s > 0 ? accepted / run.wall_s : 0;
    const double us_per_event = accepted > 0 ? run.wall_s * 1e6 / accepted : 0;
    add_level(report, concurrency, std::move(run));
    node->stop();  // queued events stay queued
    if (o.baselines) {
      add_level_baselines(report, concurrency, state.path(), payload + "\n",
                          std::min<std::size_t>(o.events, kBaselineWrites), us_per_event);
    }
    if (i + 1 == o.concurrency_levels.size()) measure_drain(o, f, state.path(), report);
  }
  // What concurrent clients gain over one: at C = 1 every event waits for its own commit.
  if (rates.contains(1) && rates.at(1) > 0) {
    for (const auto& [concurrency, rate] : rates) {
      if (concurrency == 1) continue;
      report.figures.emplace_back("events_per_s_c" + std::to_string(concurrency) + "_over_c1",
                                  rate / rates.at(1));
    }
  }
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
  f.async.retry_delays_s = {1};
  f.async.on_success = "dir:" + records.string();
  const auto state = work.path() / "state";
  fs::create_directories(state);
  auto node = start_node(o, {f}, {}, std::nullopt, state);
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
  node->stop(std::chrono::milliseconds(0));  // no grace: SIGKILL, a crash
  const auto killed = Clock::now();
  node = start_node(o, {f}, {}, std::nullopt, state);  // on the same state: a restart
  const double restart_s = seconds_since(killed);
  while (missing(run.ids, success_records(records)) > 0 && Clock::now() - killed < kDrainLimit) {
    std::this_thread::sleep_for(kRecordsPollEvery);
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
  std::size_t redelivered = 0;
  std::size_t unacknowledged = 0;
  std::size_t record_files = 0;
  for (const auto& [id, r] : found) {
    record_files += r.files;
    if (!accepted.contains(id)) ++unacknowledged;
    if (r.files > 1) ++duplicated;
    if (r.most_attempts > 1) ++redelivered;
  }
  const auto lost = missing(run.ids, found);
  report.figures.emplace_back("crash_accepted", static_cast<double>(run.ids.size()));
  report.figures.emplace_back("crash_succeeded_at_kill", at_kill.succeeded);
  report.figures.emplace_back("crash_running_at_kill", at_kill.running);
  report.figures.emplace_back("crash_lost", static_cast<double>(lost));
  report.figures.emplace_back("crash_duplicated", static_cast<double>(duplicated));
  // Ran again after the restart (approximateInvokeCount > 1): what was running at the kill.
  report.figures.emplace_back("crash_redelivered", static_cast<double>(redelivered));
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
