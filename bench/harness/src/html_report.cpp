#include "ember/bench/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "ember/runtime_api/html.hpp"

namespace ember::bench {

namespace {

using runtime_api::html_escape;

// Colour-blind-safe palette (Okabe-Ito), cycled.
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#F0E442", "#000000"};
constexpr std::size_t kColourCount = sizeof kColours / sizeof kColours[0];

std::string num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

const char* colour(std::size_t i) { return kColours[i % kColourCount]; }

// Latencies span from tens of microseconds (warm) to tens of milliseconds (cold Python):
// the CDF's x axis is logarithmic so both read well on one chart. All series share one unit,
// named on the axis.
std::string cdf_svg(const std::vector<const Series*>& all, const std::string& axis) {
  constexpr double kW = 760;
  constexpr double kH = 360;
  constexpr double kLeft = 60;
  constexpr double kRight = 20;
  constexpr double kTop = 20;
  constexpr double kBottom = 50;
  double lo = 1e300;
  double hi = 0;
  for (const auto* s : all) {
    for (const double v : s->values) {
      if (v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (hi <= 0) return "<p>No samples.</p>";
  const double l0 = std::floor(std::log10(lo));
  const double l1 = std::max(l0 + 1, std::ceil(std::log10(hi)));
  const auto x = [&](double v) {
    return kLeft + (std::log10(std::max(v, lo)) - l0) / (l1 - l0) * (kW - kLeft - kRight);
  };
  const auto y = [&](double f) { return kTop + (1 - f) * (kH - kTop - kBottom); };
  std::string svg = R"(<svg class="cdf" width=")" + num(kW, 0) + "\" height=\"" +
                    num(kH + 20.0 * static_cast<double>(all.size()), 0) + "\">\n";
  // l0 and l1 are whole numbers (floor and ceil), counted by an integer.
  for (int d = static_cast<int>(l0); d <= static_cast<int>(l1); ++d) {  // decades
    const double gx = x(std::pow(10, d));
    svg += "<line x1=\"" + num(gx) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(gx) + "\" y2=\"" +
           num(kH - kBottom) + "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + num(gx) + "\" y=\"" + num(kH - kBottom + 16) +
           R"(" text-anchor="middle" font-size="11">)" + num(std::pow(10, d), 0) + "</text>\n";
  }
  for (int q = 0; q <= 4; ++q) {
    const double f = q / 4.0;
    svg += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(y(f)) + "\" x2=\"" + num(kW - kRight) +
           "\" y2=\"" + num(y(f)) + "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y(f) + 4) +
           R"(" text-anchor="end" font-size="11">)" + num(f, 2) + "</text>\n";
  }
  svg += "<text x=\"" + num(kW / 2) + "\" y=\"" + num(kH - 12) +
         R"(" text-anchor="middle" font-size="12">)" + html_escape(axis) + " (log scale)</text>\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string points;
    double prev = 0;
    for (const auto& p : cdf(all[i]->values)) {  // a step function: across, then up
      points += num(x(p.value)) + "," + num(y(prev)) + " " + num(x(p.value)) + "," +
                num(y(p.fraction)) + " ";
      prev = p.fraction;
    }
    const bool dashed = all[i]->kind == SeriesKind::kBaseline;
    svg += R"(<polyline fill="none" stroke-width="2" stroke=")" + std::string(colour(i)) + "\"" +
           (dashed ? " stroke-dasharray=\"6,3\"" : "") + " points=\"" + points + "\"/>\n";
    const double ly = kH + 20.0 * static_cast<double>(i);
    svg += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(kLeft + 30) +
           "\" y2=\"" + num(ly) + R"(" stroke-width="2" stroke=")" + colour(i) + "\"" +
           (dashed ? " stroke-dasharray=\"6,3\"" : "") + "/>\n";
    svg += "<text x=\"" + num(kLeft + 36) + "\" y=\"" + num(ly + 4) + R"(" font-size="12">)" +
           html_escape(all[i]->label()) + "</text>\n";
  }
  return svg + "</svg>\n";
}

std::string histogram_svg(const Series& s, std::size_t index) {
  constexpr double kW = 370;
  constexpr double kH = 200;
  constexpr double kLeft = 40;
  constexpr double kBottom = 34;
  constexpr double kTop = 10;
  const auto bins = histogram(s.values, 30);
  if (bins.empty()) return "";
  std::size_t top = 1;
  for (const auto& b : bins) top = std::max(top, b.count);
  const double bw = (kW - kLeft - 10) / static_cast<double>(bins.size());
  std::string svg =
      R"(<svg class="histogram" width=")" + num(kW, 0) + "\" height=\"" + num(kH, 0) + "\">\n";
  svg += "<text x=\"" + num(kLeft) + "\" y=\"" + num(kTop + 2) + R"(" font-size="12">)" +
         html_escape(s.label()) + "</text>\n";
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const double h =
        (kH - kTop - kBottom - 10) * static_cast<double>(bins[i].count) / static_cast<double>(top);
    svg += "<rect x=\"" + num(kLeft + bw * static_cast<double>(i)) + "\" y=\"" +
           num(kH - kBottom - h) + "\" width=\"" + num(std::max(bw - 1, 1.0)) + "\" height=\"" +
           num(h) + "\" fill=\"" + colour(index) + "\"><title>" + num(bins[i].lo) + "-" +
           num(bins[i].hi) + " " + unit_name(s.unit) + ": " + std::to_string(bins[i].count) +
           "</title></rect>\n";
  }
  svg += "<text x=\"" + num(kLeft) + "\" y=\"" + num(kH - kBottom + 14) + R"(" font-size="11">)" +
         num(bins.front().lo) + "</text>\n";
  svg += "<text x=\"" + num(kW - 10) + "\" y=\"" + num(kH - kBottom + 14) +
         R"(" text-anchor="end" font-size="11">)" + num(bins.back().hi) + " " + unit_name(s.unit) +
         "</text>\n";
  svg += "<text x=\"" + num(kLeft - 4) + "\" y=\"" + num(kTop + 24) +
         R"(" text-anchor="end" font-size="11">)" + std::to_string(top) + "</text>\n";
  return svg + "</svg>\n";
}

// One bar per group, its phases stacked left to right by their mean (means add up; medians
// would not).
std::string phases_svg(const std::map<std::string, std::vector<const Series*>>& groups) {
  constexpr double kW = 760;
  constexpr double kBar = 28;
  constexpr double kLeft = 90;
  double widest = 0;
  for (const auto& [group, phases] : groups) {
    double total = 0;
    for (const auto* p : phases) total += summarize(p->values).mean;
    widest = std::max(widest, total);
  }
  if (widest <= 0) return "";
  std::size_t legend_rows = 0;
  for (const auto& [group, phases] : groups) legend_rows += phases.size();
  const double height = 20 + static_cast<double>(groups.size()) * (kBar + 12) +
                        18.0 * static_cast<double>(legend_rows);
  std::string svg =
      R"(<svg class="phases" width=")" + num(kW, 0) + "\" height=\"" + num(height, 0) + "\">\n";
  double y = 10;
  std::string legend;
  double ly = 20 + static_cast<double>(groups.size()) * (kBar + 12);
  for (const auto& [group, phases] : groups) {
    svg += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y + kBar / 2 + 4) +
           R"(" text-anchor="end" font-size="12">)" + html_escape(group) + "</text>\n";
    double x = kLeft;
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const double mean = std::max(0.0, summarize(phases[i]->values).mean);
      const double w = mean / widest * (kW - kLeft - 20);
      svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
             num(kBar) + "\" fill=\"" + colour(i) + "\"><title>" + html_escape(phases[i]->name) +
             ": " + num(mean) + " us</title></rect>\n";
      x += w;
      legend += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(ly - 10) + R"(" width="12" )" +
                R"(height="12" fill=")" + colour(i) + "\"/><text x=\"" + num(kLeft + 18) +
                "\" y=\"" + num(ly) + R"(" font-size="12">)" + html_escape(group) + " " +
                html_escape(phases[i]->name) + ": mean " + num(mean) + " us</text>\n";
      ly += 18;
    }
    y += kBar + 12;
  }
  return svg + legend + "</svg>\n";
}

// The summary table, then the ratio and figure tables when the report has any.
std::string tables_html(const Report& report) {
  std::string h =
      "<h2>Summary</h2>\n<table><tr><th>series</th><th>unit</th><th>count</th><th>min</th>"
      "<th>p50</th><th>p90</th><th>p99</th><th>max</th><th>mean</th></tr>\n";
  for (const auto& s : report.series) {
    const auto sum = summarize(s.values);
    h += "<tr><td>" + html_escape(s.label()) + "</td><td>" + unit_name(s.unit) + "</td><td>" +
         std::to_string(sum.count) + "</td><td>" + num(sum.min) + "</td><td>" + num(sum.p50) +
         "</td><td>" + num(sum.p90) + "</td><td>" + num(sum.p99) + "</td><td>" + num(sum.max) +
         "</td><td>" + num(sum.mean) + "</td></tr>\n";
  }
  h += "</table>\n";
  if (!report.ratios.empty()) {
    h += "<h2>Ratios to the same-run baselines</h2>\n<table><tr><th>figure</th><th>baseline</th>"
         "<th>p50 ratio</th><th>p99 ratio</th></tr>\n";
    for (const auto& r : report.ratios) {
      h += "<tr><td>" + html_escape(r.figure) + "</td><td>" + html_escape(r.baseline) +
           "</td><td>" + num(r.p50, 2) + "</td><td>" + num(r.p99, 2) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  if (!report.figures.empty()) {
    h += "<h2>Figures</h2>\n<table>\n";
    for (const auto& [name, value] : report.figures) {
      h += "<tr><td>" + html_escape(name) + "</td><td>" + num(value) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  return h;
}

// The CDFs, histograms and phase bars of the report's series.
std::string charts_html(const Report& report) {
  std::string h;
  std::vector<const Series*> distributions;
  std::map<std::string, std::vector<const Series*>> phase_groups;
  for (const auto& s : report.series) {
    if (s.kind == SeriesKind::kPhase) {
      phase_groups[s.group].push_back(&s);
    } else if (!s.values.empty()) {
      distributions.push_back(&s);
    }
  }
  std::vector<const Series*> latencies;
  std::vector<const Series*> memory;
  for (const auto* s : distributions) {
    (s->unit == Unit::kKibibytes ? memory : latencies).push_back(s);
  }
  if (!latencies.empty()) {
    h += "<h2>Latency CDF</h2>\n<p>Share of invocations at or below a latency; dashed lines are "
         "baselines.</p>\n" +
         cdf_svg(latencies, "latency, microseconds");
  }
  if (!memory.empty()) {
    h += "<h2>Memory CDF</h2>\n<p>Share of workers (or baseline processes) at or below an amount "
         "of memory; dashed lines are baselines.</p>\n" +
         cdf_svg(memory, "memory, KiB");
  }
  h += "<h2>Histograms</h2>\n<div class=\"histograms\">\n";
  for (std::size_t i = 0; i < distributions.size(); ++i) {
    h += histogram_svg(*distributions[i], i);
  }
  h += "</div>\n";
  if (!phase_groups.empty()) {
    h += "<h2>Where the time goes</h2>\n<p>Mean of each step between the engine's phase stamps "
         "(X-Ember-Timings), stacked; the last step runs to the client having the answer.</p>\n" +
         phases_svg(phase_groups);
  }
  return h;
}

// The trace replay's table per keep-alive policy and the notes, when the report has them.
std::string policies_and_notes_html(const Report& report) {
  std::string h;
  if (!report.policies.empty()) {
    h += "<h2>Trace replay per keep-alive policy</h2>\n<table><tr><th>policy</th>"
         "<th>invocations</th><th>errors</th><th>cold starts</th><th>cold share</th>"
         "<th>idle worker-seconds</th><th>max lateness (s)</th></tr>\n";
    for (const auto& p : report.policies) {
      h += "<tr><td>" + html_escape(p.policy) + "</td><td>" + std::to_string(p.invocations) +
           "</td><td>" + std::to_string(p.errors) + "</td><td>" + std::to_string(p.cold) +
           "</td><td>" + num(p.cold_share * 100, 2) + "%</td><td>" +
           (p.idle_worker_seconds ? num(*p.idle_worker_seconds) : std::string("n/a")) +
           "</td><td>" + num(p.max_lateness_s, 3) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  if (!report.notes.empty()) {
    h += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : report.notes) h += "<li>" + html_escape(n) + "</li>\n";
    h += "</ul>\n";
  }
  return h;
}

}  // namespace

std::string html_text(const Report& report) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>ember bench " +
      html_escape(report.mode) +
      "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1000px}"
      "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px;"
      "text-align:right}td:first-child,th:first-child{text-align:left}"
      "svg{display:block;margin:1em 0}.histograms svg{display:inline-block;margin:0 1em 1em 0}"
      "</style></head><body>\n";
  h += "<h1>ember bench " + html_escape(report.mode) + "</h1>\n<p>" + html_escape(report.target) +
       "; " + html_escape(report.payload) + "; " + html_escape(report.client) + " client.</p>\n";
  h += tables_html(report);
  h += charts_html(report);
  h += policies_and_notes_html(report);
  return h + "</body></html>\n";
}

}  // namespace ember::bench
