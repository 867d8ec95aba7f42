#include "ember/bench/report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <optional>

namespace ember::bench {

namespace json = boost::json;

namespace {

// printf into a std::string; the attribute keeps the format checked at every call.
// NOLINTNEXTLINE(cert-dcl50-cpp): gnu::format needs C varargs; a pack breaks -Wformat=2.
[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return {buf, static_cast<std::size_t>(std::max(0, std::min(n, 511)))};
}

const char* kind_name(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kFigure:
      return "figure";
    case SeriesKind::kPhase:
      return "phase";
    case SeriesKind::kBaseline:
      return "baseline";
  }
  return "figure";
}

json::object summary_json(const Summary& s) {
  return {{"count", s.count}, {"min", s.min}, {"p50", s.p50},  {"p90", s.p90},
          {"p99", s.p99},     {"max", s.max}, {"mean", s.mean}};
}

}  // namespace

const char* unit_name(Unit unit) { return unit == Unit::kKibibytes ? "KiB" : "us"; }

const Series* Report::find(const std::string& label) const {
  for (const auto& s : series) {
    if (s.label() == label) return &s;
  }
  return nullptr;
}

void Report::add_ratio(const std::string& figure, const std::string& baseline) {
  const auto* f = find(figure);
  const auto* b = find(baseline);
  if (f == nullptr || b == nullptr || f->values.empty() || b->values.empty()) return;
  const auto fs = summarize(f->values);
  const auto bs = summarize(b->values);
  ratios.push_back(
      {figure, baseline, bs.p50 > 0 ? fs.p50 / bs.p50 : 0, bs.p99 > 0 ? fs.p99 / bs.p99 : 0});
}

std::string table_text(const Report& report) {
  std::string out = "ember bench " + report.mode + ": " + report.target + "; " + report.payload +
                    "; " + report.client + " client\n";
  std::optional<Unit> unit;
  for (const auto& s : report.series) {
    if (unit != s.unit) {
      unit = s.unit;
      out += format("%-48s %7s %9s %9s %9s %9s %9s %9s\n",
                    s.unit == Unit::kKibibytes ? "KiB" : "microseconds", "count", "min", "p50",
                    "p90", "p99", "max", "mean");
    }
    const auto sum = summarize(s.values);
    const std::string label = (s.kind == SeriesKind::kPhase ? "  " : "") + s.label();
    out += format("%-48s %7zu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", label.c_str(), sum.count,
                  sum.min, sum.p50, sum.p90, sum.p99, sum.max, sum.mean);
  }
  if (!report.ratios.empty()) out += "\nratio to the same-run baseline (p50 / p99):\n";
  for (const auto& r : report.ratios) {
    out += format("  %-44s / %-36s %7.2fx / %.2fx\n", r.figure.c_str(), r.baseline.c_str(), r.p50,
                  r.p99);
  }
  if (!report.figures.empty()) out += "\n";
  for (const auto& [name, value] : report.figures) {
    // Small figures (ratios, seconds) keep three decimals, the others one.
    out += format(std::abs(value) < 10 ? "%-48s %12.3f\n" : "%-48s %12.1f\n", name.c_str(), value);
  }
  if (!report.policies.empty()) {
    out += format("\n%-10s %11s %7s %6s %11s %18s %12s\n", "policy", "invocations", "errors",
                  "cold", "cold share", "idle worker-s", "max late s");
  }
  for (const auto& p : report.policies) {
    const std::string idle =
        p.idle_worker_seconds ? format("%.1f", *p.idle_worker_seconds) : std::string("n/a");
    out += format("%-10s %11zu %7zu %6zu %10.2f%% %18s %12.3f\n", p.policy.c_str(), p.invocations,
                  p.errors, p.cold, p.cold_share * 100, idle.c_str(), p.max_lateness_s);
  }
  if (!report.notes.empty()) out += "\n";
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  return out;
}

std::string json_text(const Report& report) {
  json::array series;
  for (const auto& s : report.series) {
    json::array samples;
    for (const double v : s.values) samples.push_back(v);
    const std::string suffix = s.unit == Unit::kKibibytes ? "kib" : "us";
    series.push_back(json::object{{"group", s.group},
                                  {"name", s.name},
                                  {"kind", kind_name(s.kind)},
                                  {"unit", unit_name(s.unit)},
                                  {"summary_" + suffix, summary_json(summarize(s.values))},
                                  {"samples_" + suffix, samples}});
  }
  json::array ratios;
  for (const auto& r : report.ratios) {
    ratios.push_back(json::object{
        {"figure", r.figure}, {"baseline", r.baseline}, {"p50", r.p50}, {"p99", r.p99}});
  }
  json::object figures;
  for (const auto& [name, value] : report.figures) figures[name] = value;
  json::array policies;
  for (const auto& p : report.policies) {
    json::object o{{"policy", p.policy},         {"invocations", p.invocations},
                   {"errors", p.errors},         {"cold", p.cold},
                   {"cold_share", p.cold_share}, {"max_lateness_s", p.max_lateness_s},
                   {"wall_s", p.wall_s}};
    o["idle_worker_seconds"] =
        p.idle_worker_seconds ? json::value(*p.idle_worker_seconds) : json::value(nullptr);
    o["engine_cold_starts"] =
        p.engine_cold_starts ? json::value(*p.engine_cold_starts) : json::value(nullptr);
    policies.push_back(std::move(o));
  }
  json::array notes;
  for (const auto& n : report.notes) notes.push_back(json::string(n));
  const json::object doc{
      {"mode", report.mode},       {"target", report.target}, {"client", report.client},
      {"payload", report.payload}, {"series", series},        {"ratios", ratios},
      {"figures", figures},        {"policies", policies},    {"notes", notes}};
  return json::serialize(doc) + "\n";
}

}  // namespace ember::bench
