// What one `ember bench` run found, and its terminal table and JSON forms.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ember/bench/stats.hpp"

namespace ember::bench {

enum class SeriesKind {
  kFigure,    // an ember figure: client total, received->first next, engine-added, ...
  kPhase,     // one step between two engine stamps (X-Ember-Timings)
  kBaseline,  // measured without ember, in the same run
};

enum class Unit {
  kMicroseconds,  // latencies (every mode but memory)
  kKibibytes,     // memory per worker or process (memory mode)
};

// "us" or "KiB": the table's and the HTML page's unit label, and the JSON keys' suffix.
const char* unit_name(Unit unit);

struct Series {
  std::string group;  // "cold", "warm", "throughput", "baseline", "trace fixed", ...
  std::string name;   // "client total", "request->sandbox_begin", ...
  SeriesKind kind = SeriesKind::kFigure;
  std::vector<double> values;  // one value per invocation (or worker), in `unit`
  Unit unit = Unit::kMicroseconds;

  [[nodiscard]] std::string label() const { return group + ": " + name; }
};

// An ember figure over the baseline it should be compared with, at p50 and p99.
struct Ratio {
  std::string figure;    // Series::label()
  std::string baseline;  // Series::label()
  double p50 = 0;
  double p99 = 0;
};

// The outcome of replaying a trace under one keep-alive policy.
struct PolicyOutcome {
  std::string policy;  // "fixed" or "adaptive"
  std::size_t invocations = 0;
  std::size_t errors = 0;
  std::size_t cold = 0;  // from the answers' X-Ember-Timings
  double cold_share = 0;
  std::optional<double> idle_worker_seconds;  // from GET /ember/v1/functions
  std::optional<double> engine_cold_starts;   // likewise
  double max_lateness_s = 0;
  double wall_s = 0;
};

struct Report {
  std::string mode;     // cold, warm, throughput, trace, all
  std::string target;   // what was invoked
  std::string client;   // beast or curl
  std::string payload;  // e.g. "1024-byte JSON event"
  std::vector<Series> series;
  std::vector<Ratio> ratios;
  std::vector<std::pair<std::string, double>> figures;  // scalars, e.g. invocations_per_s
  std::vector<PolicyOutcome> policies;
  std::vector<std::string> notes;  // what was skipped and why, warnings

  [[nodiscard]] const Series* find(const std::string& label) const;
  // Adds a Ratio of two series already in the report (nothing when either is missing/empty).
  void add_ratio(const std::string& figure, const std::string& baseline);
};

// The terminal table: one row per series (count, min, p50, p90, p99, max, mean in the
// series' unit, a header line whenever the unit changes), then the ratios, scalar figures,
// policies and notes.
std::string table_text(const Report& report);
// Everything in the report, summaries and raw samples, as one JSON document. Each series
// has "unit" and its summary and samples under "summary_us"/"samples_us" (microseconds) or
// "summary_kib"/"samples_kib" (KiB).
std::string json_text(const Report& report);

}  // namespace ember::bench
