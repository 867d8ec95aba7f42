// `ember bench memory`: memory per idle warm worker, kernel objects included. A node whose
// function has `provisioned: N` starts N workers; once all N are frozen the bench reads
//  - system-wide, /proc/meminfo before and after (medians of a few reads, after a settle),
//    minus the same delta for the node without workers, divided by N;
//  - per worker, the memory cgroup's charge and the Pss of every process in the cgroup.
// Baseline (measured first): N copies of the same bootstrap started with posix_spawn, each
// blocked in its first `next`, measured the same way.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include "ember/bench/memory.hpp"
#include "ember/bench/progress.hpp"
#include "ember/bench/stats.hpp"
#include "ember/client/http.hpp"
#include "modes.hpp"

namespace ember::bench::detail {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kReads = 5;              // meminfo reads per median
constexpr std::uint32_t kFreezeAfterMs = 100;  // the node's freeze_idle_after_ms
constexpr std::uint64_t kWorkerMb = 128;       // memory_mb of the function (the default)

// The meminfo fields reported per worker besides MemTotal - MemAvailable, with their
// figure names: the kernel's own objects (namespaces, page tables, stacks, sockets, tmpfs).
constexpr std::pair<const char*, const char*> kFields[] = {
    {"Slab", "slab"},
    {"SUnreclaim", "slab_unreclaimable"},
    {"KernelStack", "kernel_stack"},
    {"PageTables", "page_tables"},
    {"Shmem", "shmem"},
    {"Percpu", "percpu"},
};

// Waits `settle` (exits, RCU frees and slab work finish) first; the reads are a quarter of
// it apart, at most 100 ms.
MemInfo settled_meminfo(std::chrono::milliseconds settle) {
  std::this_thread::sleep_for(settle);
  return median_meminfo(kReads, std::clamp<std::chrono::milliseconds>(settle / 4, 1ms, 100ms));
}

// after - before in KiB: "unavailable" (MemTotal - MemAvailable) and each of kFields.
std::map<std::string, double> delta(const MemInfo& before, const MemInfo& after) {
  std::map<std::string, double> out;
  out["unavailable"] = unavailable_kib(after) - unavailable_kib(before);
  for (const auto& [field, name] : kFields) {
    const auto b = before.find(field);
    const auto a = after.find(field);
    if (b != before.end() && a != after.end()) out[name] = a->second - b->second;
  }
  return out;
}

struct WorkerState {
  pid_t pid = 0;
  std::string state;
};

// The workers of `function` from GET /ember/v1/functions; empty when it cannot be read.
std::vector<WorkerState> workers_of(const Endpoint& endpoint, const std::string& function) {
  client::HttpRequest request;
  request.url = endpoint.url() + "/ember/v1/functions";
  const auto reply = client::http_request(request);
  std::vector<WorkerState> out;
  if (reply.status != 200) return out;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(reply.body, ec);
  if (ec || !doc.is_object()) return out;
  const auto* functions = doc.as_object().if_contains("functions");
  if (functions == nullptr || !functions->is_array()) return out;
  for (const auto& f : functions->as_array()) {
    const auto* name = f.is_object() ? f.as_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string() || name->get_string() != function) continue;
    const auto* workers = f.as_object().if_contains("workers");
    if (workers == nullptr || !workers->is_array()) continue;
    for (const auto& w : workers->as_array()) {
      out.push_back({static_cast<pid_t>(w.at("pid").to_number<std::int64_t>()),
                     std::string(w.at("state").as_string())});
    }
  }
  return out;
}

// Waits until `n` workers of `function` are frozen (parked and frozen by the node); their
// pids (the sandbox's init, or the runtime without a sandbox). Throws on a timeout.
std::vector<pid_t> wait_frozen(const Endpoint& endpoint, const std::string& function,
                               std::size_t n) {
  Progress progress("memory: workers idle and frozen", n);
  std::size_t shown = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s + n * 100ms;
  while (true) {
    const auto workers = workers_of(endpoint, function);
    std::vector<pid_t> frozen;
    std::map<std::string, std::size_t> states;
    for (const auto& w : workers) {
      ++states[w.state];
      if (w.state == "frozen" && w.pid > 0) frozen.push_back(w.pid);
    }
    for (; shown < std::min(frozen.size(), n); ++shown) progress.tick();
    if (frozen.size() >= n) return frozen;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string seen;
      for (const auto& [state, count] : states) seen += " " + state + "=" + std::to_string(count);
      throw std::runtime_error(
          "memory: " + std::to_string(n) +
          " workers were not all frozen in time; workers:" + (seen.empty() ? " none" : seen));
    }
    std::this_thread::sleep_for(50ms);
  }
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

// The kernel's own memory in a delta, which it cannot reclaim (this host has no swap):
// SUnreclaim + KernelStack + PageTables + Percpu + Shmem. Unlike MemAvailable it does not
// move with other processes' page cache, so it reads well on a busy machine; with the Pss of
// the processes it is a second estimate of the whole.
double unreclaimable_kib(const std::map<std::string, double>& d) {
  double sum = 0;
  for (const auto* name :
       {"slab_unreclaimable", "kernel_stack", "page_tables", "percpu", "shmem"}) {
    if (const auto it = d.find(name); it != d.end()) sum += it->second;
  }
  return sum;
}

void add_system_figures(Report& report, const std::string& prefix, const std::string& per,
                        const std::map<std::string, double>& total, std::size_t n) {
  for (const auto& [name, kib] : total) {
    report.figures.emplace_back(std::string(prefix).append(name).append("_kib_per_").append(per),
                                kib / static_cast<double>(n));
  }
}

// Each worker's cgroup charge (when it has a cgroup of its own) and the Pss of its processes.
struct WorkerMemory {
  Series charge{"memory", "cgroup charge per worker", SeriesKind::kFigure, {}, Unit::kKibibytes};
  Series kernel{"memory", "cgroup charge, kernel part", SeriesKind::kFigure, {}, Unit::kKibibytes};
  Series pss{
      "memory", "Pss per worker (all its processes)", SeriesKind::kFigure, {}, Unit::kKibibytes};
  std::string cgroup_kind;
};

WorkerMemory measure_workers(const std::vector<pid_t>& pids, pid_t node_pid) {
  WorkerMemory out;
  // Without a sandbox a worker shares the node's cgroup: only its own process's Pss counts.
  const auto node_cgroup = memory_cgroup_of(node_pid);
  for (const pid_t pid : pids) {
    const auto cgroup = memory_cgroup_of(pid);
    const bool own = cgroup && (!node_cgroup || cgroup->path != node_cgroup->path);
    std::vector<pid_t> members{pid};
    if (own) {
      out.cgroup_kind = cgroup->v2 ? "v2 memory.current" : "v1 memory.usage_in_bytes";
      if (const auto kib = cgroup->charge_kib()) out.charge.values.push_back(*kib);
      if (const auto kib = cgroup->kernel_kib()) out.kernel.values.push_back(*kib);
      members = cgroup->pids();
    }
    double sum = 0;
    for (const pid_t member : members) sum += pss_kib(member).value_or(0);
    out.pss.values.push_back(sum);
  }
  return out;
}

}  // namespace

void run_memory_mode(const BenchOptions& o, Report& report) {
  if (o.endpoint) {
    throw std::runtime_error(
        "memory mode starts its own nodes (it compares the machine before and after the "
        "workers start); drop --endpoint");
  }
  if (o.n > 1000) throw std::runtime_error("memory mode: -n is at most 1000 workers");
  const auto n = static_cast<std::uint32_t>(o.n);
  const std::chrono::milliseconds settle(static_cast<std::int64_t>(o.settle_ms));
  report.figures.emplace_back("workers", static_cast<double>(n));
  report.figures.emplace_back("load_average_1m_at_start", load_average());

  // The baseline first: after a node, the kernel would still be freeing its N sandboxes
  // (network namespaces go in a work queue) while the baseline reads /proc/meminfo.
  Series spawned{
      "baseline", "Pss per process (posix_spawn)", SeriesKind::kBaseline, {}, Unit::kKibibytes};
  std::map<std::string, double> parked;
  if (o.baselines) {
    Progress progress("baseline: parked processes", n);
    const auto parked_before = settled_meminfo(settle);
    with_parked_runtimes(
        bootstrap_command(o), n,
        [&](const std::vector<pid_t>& parked_pids) {
          parked = delta(parked_before, settled_meminfo(settle));
          for (const pid_t pid : parked_pids) spawned.values.push_back(pss_kib(pid).value_or(0));
        },
        &progress);
  }

  auto f = function_for(o, "idle");
  f.reserved_concurrency = n;
  client::NodeSettings settings;
  settings.memory_budget_mb = kWorkerMb * n + 1024;  // room for N whatever the RAM
  settings.max_workers = n + 16;
  settings.freeze_idle_after_ms = kFreezeAfterMs;

  // The node on its own, with the function but no worker: what is not per worker.
  std::map<std::string, double> node_alone;
  {
    const auto before = settled_meminfo(settle);
    const auto node = start_node(o, {f}, settings);
    node_alone = delta(before, settled_meminfo(settle));
  }
  report.figures.emplace_back("node_without_workers_kib", node_alone["unavailable"]);

  f.provisioned = n;
  const auto before = settled_meminfo(settle);
  auto node = start_node(o, {f}, settings);
  const auto pids = wait_frozen(endpoint_of(*node), "idle", n);
  auto with_workers = delta(before, settled_meminfo(settle));
  for (auto& [name, kib] : with_workers) kib -= node_alone[name];

  auto [charge, kernel, pss, cgroup_kind] = measure_workers(pids, node->pid());
  node.reset();
  if (charge.values.empty()) {
    report.notes.emplace_back(
        "memory: the workers have no cgroup of their own (isolation: none?); "
        "no cgroup charge");
  } else {
    report.notes.push_back("memory: cgroup charge is " + cgroup_kind + " of each worker's cgroup");
  }
  add_system_figures(report, "system_", "worker", with_workers, n);
  const double worker_total = unreclaimable_kib(with_workers) / n + summarize(pss.values).mean;
  report.figures.emplace_back("unreclaimable_plus_pss_kib_per_worker", worker_total);
  report.series.push_back(std::move(charge));
  if (!kernel.values.empty()) report.series.push_back(std::move(kernel));
  report.series.push_back(std::move(pss));
  if (!o.baselines) return;

  add_system_figures(report, "baseline_system_", "process", parked, n);
  const double process_total = unreclaimable_kib(parked) / n + summarize(spawned.values).mean;
  report.figures.emplace_back("baseline_unreclaimable_plus_pss_kib_per_process", process_total);
  if (process_total > 0) {
    report.figures.emplace_back("unreclaimable_plus_pss_ratio_to_spawn",
                                worker_total / process_total);
  }
  if (parked["unavailable"] > 0) {
    report.figures.emplace_back("system_unavailable_ratio_to_spawn",
                                with_workers["unavailable"] / parked["unavailable"]);
  }
  report.series.push_back(std::move(spawned));
  report.add_ratio("memory: Pss per worker (all its processes)",
                   "baseline: Pss per process (posix_spawn)");
}

}  // namespace ember::bench::detail
