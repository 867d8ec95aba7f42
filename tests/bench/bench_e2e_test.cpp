// `ember bench` end to end against the no-op C runtime: the JSON it prints holds ordered
// engine phases and totals that add up, memory that follows what the function holds, and
// sandbox counts that match the invocations. Speed and size are never asserted as targets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"

namespace {

namespace json = boost::json;

struct Output {
  int status = -1;
  std::string text;  // stdout, and stderr after it when the run failed
};

// Runs `ember bench ARGS --json` and captures stdout (the node's own output goes to its log).
Output run_bench(const std::string& args) {
  ember::client::ChildOptions options;
  options.argv = {std::string(EMBER_BINARY_DIR) + "/ember", "bench"};
  std::istringstream words(args);
  for (std::string word; words >> word;) options.argv.push_back(word);
  options.argv.emplace_back("--json");
  const ember::client::TempDir dir("ember-test-bench-");
  options.output = dir.path() / "out";
  options.errors = dir.path() / "err";
  Output out;
  {
    ember::client::ChildProcess bench(options);
    out.status = bench.wait_for(std::chrono::minutes(5)).value_or(-1);
  }
  out.text = ember::client::read_file(dir.path() / "out");
  if (out.status != 0) out.text += ember::client::read_file(dir.path() / "err");
  return out;
}

// Series by "group: name", samples in invocation order (microseconds or KiB).
std::map<std::string, std::vector<double>> series(const json::object& doc) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& s : doc.at("series").as_array()) {
    const auto& o = s.as_object();
    auto& samples =
        out[std::string(o.at("group").as_string()) + ": " + std::string(o.at("name").as_string())];
    const auto* values = o.if_contains("samples_us");
    if (values == nullptr) values = &o.at("samples_kib");
    for (const auto& v : values->as_array()) samples.push_back(v.to_number<double>());
  }
  return out;
}

double figure(const json::object& doc, const std::string& name) {
  const auto* value = doc.at("figures").as_object().if_contains(name);
  if (value == nullptr) {
    ADD_FAILURE() << "no figure " << name;
    return 0;
  }
  return value->to_number<double>();
}

// The summary ("p50", "p99", "mean", ...) of the series "group: name".
json::object summary_us(const json::object& doc, const std::string& label) {
  for (const auto& v : doc.at("series").as_array()) {
    const auto& o = v.as_object();
    if (std::string(o.at("group").as_string()) + ": " + std::string(o.at("name").as_string()) ==
        label) {
      return o.at("summary_us").as_object();
    }
  }
  ADD_FAILURE() << "no series " << label;
  return {};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

bool native_sandbox_possible() { return ::geteuid() == 0; }

std::vector<std::string> phase_names(const json::object& doc, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& s : doc.at("series").as_array()) {
    const auto& o = s.as_object();
    if (o.at("group").as_string() == group && o.at("kind").as_string() == "phase") {
      out.emplace_back(o.at("name").as_string());
    }
  }
  return out;
}

TEST(BenchEndToEnd, WarmRunHasOrderedPhasesAndEngineAddedWithinTheTotal) {
  const auto out = run_bench("warm -n 20");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  const auto& total = s.at("warm: client total");
  ASSERT_EQ(total.size(), 20U);
  const auto names = phase_names(doc, "warm");
  ASSERT_GE(names.size(), 3U);
  EXPECT_EQ(names.front().substr(0, 9), "request->");
  EXPECT_EQ(names.back(), "answered->client");
  for (std::size_t i = 0; i < total.size(); ++i) {
    double sum = 0;
    for (const auto& name : names) {
      const double step = s.at("warm: " + name).at(i);
      EXPECT_GE(step, 0) << name << " of invocation " << i << ": stamps out of order";
      sum += step;
    }
    EXPECT_NEAR(sum, total[i], 1.0) << "the steps add up to what the client saw";
    const double added = s.at("warm: engine-added (total - handler)").at(i);
    EXPECT_GT(added, 0);
    EXPECT_LE(added, total[i]);
  }
  EXPECT_EQ(s.at("baseline: loopback round trip").size(), 20U);
}

TEST(BenchEndToEnd, ColdRunSplitsTheSandboxAndInitAndStaysWithinTheTotal) {
  const auto out = run_bench("cold -n 5");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  const auto& total = s.at("cold: client total");
  ASSERT_EQ(total.size(), 5U);
  const auto names = phase_names(doc, "cold");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "request->sandbox_begin");
  EXPECT_EQ(names.back(), "answered->client");
  for (const auto* needed : {"sandbox_begin->", "->spawned", "->init_done", "->answered"}) {
    EXPECT_TRUE(std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n.find(needed) != std::string::npos;
    })) << needed;
  }
  for (std::size_t i = 0; i < total.size(); ++i) {
    for (const auto& name : names) EXPECT_GE(s.at("cold: " + name).at(i), 0) << name;
    const double to_next = s.at("cold: received->first next").at(i);
    EXPECT_GT(to_next, 0);
    EXPECT_LT(to_next, total[i]) << "the client waits for more than the engine's init";
  }
  EXPECT_EQ(s.at("baseline: posix_spawn->first next").size(), 5U);
}

TEST(BenchEndToEnd, MemoryPerWorkerGrowsByWhatTheFunctionHolds) {
  if (!native_sandbox_possible()) GTEST_SKIP() << "the memory mode's cgroup figures need root";
  const auto plain = run_bench("memory -n 2 --settle-ms 50");
  ASSERT_EQ(plain.status, 0) << plain.text;
  const std::string hold_dir = std::string(EMBER_BINARY_DIR) + "/tests/bench/hold_memory";
  const auto holding = run_bench("memory -n 2 --settle-ms 50 --no-baselines --code " + hold_dir);
  ASSERT_EQ(holding.status, 0) << holding.text;
  const auto plain_doc = json::parse(plain.text).as_object();
  const auto holding_doc = json::parse(holding.text).as_object();
  const auto p = series(plain_doc);
  const auto h = series(holding_doc);
  constexpr double kHeldKib = 16 * 1024;  // hold_memory.c holds 16 MiB
  for (const auto* name :
       {"memory: cgroup charge per worker", "memory: Pss per worker (all its processes)"}) {
    ASSERT_EQ(p.at(name).size(), 2U) << name;
    ASSERT_EQ(h.at(name).size(), 2U) << name;
    EXPECT_GT(median(p.at(name)), 0) << name;
    const double grew = median(h.at(name)) - median(p.at(name));
    EXPECT_GT(grew, kHeldKib * 0.9) << name;
    EXPECT_LT(grew, kHeldKib * 1.5) << name;
  }
  EXPECT_EQ(figure(plain_doc, "workers"), 2);
  // System-wide deltas move with whatever else the machine does: present, not asserted.
  figure(plain_doc, "system_unavailable_kib_per_worker");
  figure(plain_doc, "system_slab_kib_per_worker");
  figure(plain_doc, "baseline_system_unavailable_kib_per_process");
  // It adds system-wide kernel deltas to Pss: with two processes, whatever else the machine
  // frees meanwhile can make it negative (CI runs the ASan tests alongside). Present only.
  figure(plain_doc, "baseline_unreclaimable_plus_pss_kib_per_process");
  figure(plain_doc, "unreclaimable_plus_pss_kib_per_worker");
  ASSERT_EQ(p.at("baseline: Pss per process (posix_spawn)").size(), 2U);
  EXPECT_GT(median(p.at("baseline: Pss per process (posix_spawn)")), 0);
}

TEST(BenchEndToEnd, RateModeCreatesOneSandboxPerInvocation) {
  const auto out = run_bench("rate -n 12 -c 2");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  EXPECT_EQ(figure(doc, "sandboxes"), 12);
  EXPECT_EQ(figure(doc, "invocations"), 12);
  EXPECT_EQ(figure(doc, "errors"), 0);
  EXPECT_GT(figure(doc, "wall_s"), 0);
  EXPECT_GT(figure(doc, "sandboxes_per_s"), 0);
  EXPECT_GT(figure(doc, "creation_window_s"), 0);
  const auto& creation = s.at("rate: sandbox_begin->first next");
  const auto& to_next = s.at("rate: received->first next");
  ASSERT_EQ(creation.size(), 12U);
  ASSERT_EQ(to_next.size(), 12U);
  // Not creation <= received->first next per invocation: a waiter may be served by a worker
  // another invocation started before this one was received.
  EXPECT_GT(median(creation), 0);
  EXPECT_GT(median(to_next), 0);
  EXPECT_EQ(s.at("baseline: posix_spawn->first next").size(), 12U);
  EXPECT_GT(figure(doc, "baseline_spawns_per_s"), 0);
}

// --images: the same bootstrap as an image, cold-started on the native backend and through
// runc (crun, which cannot run a container on this cgroup v1 host, is noted, not measured).
TEST(BenchEndToEnd, ImagesMeasureTheRuntimeAsAnImageOnEachBackend) {
  if (!native_sandbox_possible()) GTEST_SKIP() << "image functions need root";
  const auto out = run_bench("cold -n 3 --images");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  for (const char* group : {"cold image native", "cold image runc"}) {
    const auto& to_next = s.at(std::string(group) + ": received->first next");
    ASSERT_EQ(to_next.size(), 3U) << group;
    EXPECT_GT(median(to_next), 0) << group;
  }
  EXPECT_EQ(s.at("baseline: runc run->first next").size(), 3U);
  std::size_t ratios = 0;
  for (const auto& r : doc.at("ratios").as_array()) {
    if (std::string(r.at("figure").as_string()).starts_with("cold image")) ++ratios;
  }
  EXPECT_GE(ratios, 4U) << "each image series against the code function and the runc baseline";
}

// unpack: an image's first use next to tar -x of its layers, each run on empty directories.
TEST(BenchEndToEnd, UnpackModeTimesTheStoreAndTarOnTheSameLayers) {
  if (!native_sandbox_possible()) GTEST_SKIP() << "the store keeps the image's owners: root";
  const ember::client::TempDir images("ember-test-bench-image-");
  ember::client::ChildOptions build;
  build.argv = {"bash", std::string(EMBER_SOURCE_DIR) + "/examples/images/build-echo-image.sh",
                (images.path() / "echo").string()};
  build.output = images.path() / "build.log";
  ember::client::ChildProcess builder(build);
  ASSERT_EQ(builder.wait_for(std::chrono::minutes(2)), 0)
      << ember::client::read_file(images.path() / "build.log");
  const auto out =
      run_bench("unpack -n 2 --image oci:" + (images.path() / "echo").string() + ":latest");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  EXPECT_EQ(s.at("unpack: ImageStore::ensure, empty store").size(), 2U);
  EXPECT_EQ(s.at("baseline: tar -x of the layers + sync -f").size(), 2U);
  EXPECT_NE(std::string(doc.at("target").as_string()).find("1 layers"), std::string::npos)
      << doc.at("target");
}

// async: Event invocations accepted at two concurrency levels next to the append baselines,
// the queue drained after a restart, and the crash check losing nothing across a SIGKILL.
TEST(BenchEndToEnd, AsyncModeAcceptsDrainsAndLosesNothingAcrossAKill) {
  const auto out = run_bench("async --events 50 --concurrency 1,4 --crash-events 60");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  for (const char* c : {"1", "4"}) {
    const std::string level = std::string("async c=") + c;
    EXPECT_EQ(figure(doc, std::string("accepted_c") + c), 50) << level;
    EXPECT_EQ(figure(doc, std::string("errors_c") + c), 0) << level;
    EXPECT_GT(figure(doc, std::string("events_per_s_c") + c), 0) << level;
    EXPECT_GT(figure(doc, std::string("accept_us_per_event_over_append_fdatasync_c") + c), 0);
    ASSERT_EQ(s.at(level + ": 202 latency").size(), 50U) << level;
    const auto summary = summary_us(doc, level + ": 202 latency");
    EXPECT_GT(summary.at("p50").to_number<double>(), 0) << level;
    EXPECT_GE(summary.at("p99").to_number<double>(), summary.at("p50").to_number<double>());
    EXPECT_GE(summary.at("mean").to_number<double>(), summary.at("min").to_number<double>());
  }
  EXPECT_GT(figure(doc, "events_per_s_c4_over_c1"), 0);
  for (const char* c : {"1", "4"}) {
    const std::string group = std::string("baseline c=") + c;
    for (const char* name :
         {": append + fdatasync", ": overwrite in place + fdatasync", ": append, no fsync"}) {
      ASSERT_EQ(s.at(group + name).size(), 50U) << group << name;
      EXPECT_GT(median(s.at(group + name)), 0) << group << name;
    }
    EXPECT_GT(figure(doc, std::string("baseline_append_fdatasync_c") + c + "_us_mean"), 0);
    EXPECT_GT(figure(doc, std::string("accept_us_per_event_over_overwrite_fdatasync_c") + c), 0);
  }
  // What the node had not run when it was stopped ran after the restart.
  EXPECT_GE(figure(doc, "drain_events"), figure(doc, "drain_queued_at_start"));
  EXPECT_GE(figure(doc, "drain_events_per_s"), 0);
  EXPECT_EQ(figure(doc, "crash_accepted"), 60);
  EXPECT_GE(figure(doc, "crash_succeeded_at_kill"), 30);
  EXPECT_EQ(figure(doc, "crash_lost"), 0);
  EXPECT_GE(figure(doc, "crash_duplicated"), 0);
  // Only what was running at the kill runs again: at most the function's 10 reserved workers.
  EXPECT_LE(figure(doc, "crash_redelivered"), 10);
  EXPECT_GE(figure(doc, "crash_record_files"), 60);
  EXPECT_EQ(figure(doc, "crash_records_of_unacknowledged_ids"), 0);
  EXPECT_GT(figure(doc, "crash_recovery_s"), figure(doc, "crash_restart_s"));
}

// http: both routes and the direct baseline at two levels, every request answered well.
TEST(BenchEndToEnd, HttpModeMeasuresBothRoutesNextToADirectInvoke) {
  const auto out = run_bench("http -n 50 --concurrency 1,4");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  EXPECT_EQ(doc.at("notes").as_array().size(), 0U) << doc.at("notes");
  for (const char* c : {"1", "4"}) {
    const std::string group = std::string("http c=") + c;
    for (const char* kind : {": alb route", ": function_url route", ": direct invoke"}) {
      ASSERT_EQ(s.at(group + kind).size(), 50U) << group << kind;
      EXPECT_GT(median(s.at(group + kind)), 0) << group << kind;
    }
    for (const char* key : {"alb_route", "url_route", "direct"}) {
      EXPECT_GT(figure(doc, std::string(key) + "_requests_per_s_c" + c), 0) << key;
    }
    EXPECT_GT(figure(doc, std::string("alb_route_over_direct_rps_c") + c), 0);
    EXPECT_GT(figure(doc, std::string("url_route_over_direct_rps_c") + c), 0);
  }
  const auto ratios = doc.at("ratios").as_array();
  EXPECT_EQ(ratios.size(), 4U);
}

// bucket: every file's close to its handler's start, one at a time and at once, next to a
// plain inotify watcher.
TEST(BenchEndToEnd, BucketModeMeasuresCloseToHandlerStart) {
  const auto out = run_bench("bucket -n 20");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  const auto s = series(doc);
  for (const char* name :
       {"bucket: close->handler start, one at a time", "bucket: close->handler start, 20 at once",
        "baseline: close->inotify event read"}) {
    ASSERT_EQ(s.at(name).size(), 20U) << name;
    EXPECT_GT(median(s.at(name)), 0) << name;
  }
  // The handler starts after the kernel told the node: above the bare notification.
  EXPECT_GT(median(s.at("bucket: close->handler start, one at a time")),
            median(s.at("baseline: close->inotify event read")));
  EXPECT_EQ(figure(doc, "burst_files"), 20);
  EXPECT_GT(figure(doc, "burst_files_per_s"), 0);
  EXPECT_EQ(doc.at("ratios").as_array().size(), 1U);
}

TEST(BenchEndToEnd, AsyncModeRefusesBadOptionsNamingThem) {
  for (const char* bad : {"1,,8", "0", "1,x", "8,"}) {
    const auto out = run_bench(std::string("async --concurrency ") + bad);
    EXPECT_EQ(out.status, 2) << bad;
    EXPECT_NE(out.text.find(std::string("--concurrency must be a comma-separated list")),
              std::string::npos)
        << out.text;
    EXPECT_NE(out.text.find(std::string("'") + bad + "'"), std::string::npos) << out.text;
  }
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"async --events 0", "--events must be positive"},
           {"async --crash-events 1", "--crash-events at least 2"},
           {"async --endpoint http://127.0.0.1:9 --function f", "drop --endpoint"}}) {
    const auto out = run_bench(args);
    EXPECT_EQ(out.status, 2) << args;
    EXPECT_NE(out.text.find(message), std::string::npos) << args << ": " << out.text;
  }
  const auto list_elsewhere = run_bench("throughput --concurrency 1,8");
  EXPECT_EQ(list_elsewhere.status, 2);
  EXPECT_NE(list_elsewhere.text.find("--concurrency must be a number"), std::string::npos)
      << list_elsewhere.text;
}

}  // namespace

// A short soak: the node's figures are read from the running node (a node has open fds,
// resident memory, threads and mounts), every kind of the mix was sent and answered as
// expected, and the report names each figure at the start, after the warm-up and at the end.
TEST(BenchEndToEnd, SoakSamplesTheNodeUnderAMixedLoad) {
  const auto out = run_bench("soak --duration 8s");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto doc = json::parse(out.text).as_object();
  EXPECT_GE(figure(doc, "samples"), 8);
  EXPECT_GE(figure(doc, "duration_s"), 8);
  for (const char* name : {"fds", "rss_kib", "threads", "mounts"}) {
    for (const char* when : {"_start", "_after_warmup", "_end", "_max"}) {
      EXPECT_GT(figure(doc, std::string(name) + when), 0) << name << when;
    }
  }
  EXPECT_GE(figure(doc, "rss_kib_end"), 1024);  // a node is more than 1 MiB
  EXPECT_GE(figure(doc, "threads_end"), 2);
  // Logs: the platform's START/END/REPORT lines at least.
  EXPECT_GT(figure(doc, "log_bytes_end"), figure(doc, "log_bytes_start"));
  for (const char* kind : {"warm", "async", "cold", "error", "large", "python"}) {
    EXPECT_GT(figure(doc, std::string(kind) + "_requests"), 0) << kind;
    EXPECT_EQ(figure(doc, std::string(kind) + "_unexpected"), 0) << kind << ": " << out.text;
  }
  if (native_sandbox_possible()) {
    // Sandboxes' cgroups were seen while they lived; timeouts and OOM kills were answered as
    // function errors (an OOM kill needs the sandbox's memory cgroup).
    EXPECT_GT(figure(doc, "cgroups_max"), 0);
    for (const char* kind : {"timeout", "oom"}) {
      EXPECT_GT(figure(doc, std::string(kind) + "_requests"), 0) << kind;
      EXPECT_EQ(figure(doc, std::string(kind) + "_unexpected"), 0) << kind << ": " << out.text;
    }
  }
  const auto bad = run_bench("soak --duration 10x");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.text.find("--duration must be"), std::string::npos) << bad.text;
}
