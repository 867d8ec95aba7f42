#include "latency_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ember/runtime_api/html.hpp"

namespace ember::engine {

namespace {

using runtime_api::html_escape;

constexpr double kWidth = 640;
constexpr double kHeight = 200;
constexpr double kLeft = 64;  // room for the axis labels
constexpr double kRight = 12;
constexpr double kTop = 10;
constexpr double kBottom = 24;
constexpr double kFloorMs = 0.01;  // REPORT's resolution: nothing is drawn below it

std::string num(double v, int decimals = 1) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double number(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_number() ? 0.0 : v->to_number<double>();
}

std::string text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_string() ? std::string() : std::string(v->get_string());
}

bool is_cold(const boost::json::object& report) {
  const auto* v = report.if_contains("cold");
  return v != nullptr && v->is_bool() && v->get_bool();
}

// What the caller waited for on the worker, in ms: Init Duration + Duration when cold.
double latency_ms(const boost::json::object& report) {
  const double ms = number(report, "duration_ms") + number(report, "init_duration_ms");
  return std::max(ms, kFloorMs);
}

// "0.01 ms", "1 ms", "10 s": a decade's label.
std::string decade_label(int exponent) {
  if (exponent >= 3) return num(std::pow(10.0, exponent - 3), 0) + " s";
  if (exponent >= 0) return num(std::pow(10.0, exponent), 0) + " ms";
  return num(std::pow(10.0, exponent), -exponent) + " ms";
}

}  // namespace

std::string latency_plot_svg(const std::vector<const boost::json::object*>& reports) {
  if (reports.empty()) return {};
  double lo = 1e300;
  double hi = 0;
  for (const auto* report : reports) {
    lo = std::min(lo, latency_ms(*report));
    hi = std::max(hi, latency_ms(*report));
  }
  const int d0 = static_cast<int>(std::floor(std::log10(lo)));
  const int d1 = std::max(d0 + 1, static_cast<int>(std::ceil(std::log10(hi))));
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  const auto y = [&](double ms) { return kTop + (1 - (std::log10(ms) - d0) / (d1 - d0)) * plot_h; };
  // Invocations spread evenly, oldest on the left.
  const double step = plot_w / static_cast<double>(std::max<std::size_t>(reports.size(), 2));
  const auto x = [&](std::size_t i) { return kLeft + step * (static_cast<double>(i) + 0.5); };

  std::string svg = R"(<svg class="plot" role="img" width=")" + num(kWidth, 0) + R"(" height=")" +
                    num(kHeight, 0) + R"(" viewBox="0 0 )" + num(kWidth, 0) + " " +
                    num(kHeight, 0) + "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
  svg += R"(<rect x=")" + num(kLeft) + R"(" y=")" + num(kTop) + R"(" width=")" + num(plot_w) +
         R"(" height=")" + num(plot_h) + "\" fill=\"#fff\" stroke=\"#ccc\"/>\n";
  for (int d = d0; d <= d1; ++d) {
    const double gy = y(std::pow(10.0, d));
    svg += R"(<line x1=")" + num(kLeft) + R"(" y1=")" + num(gy) + R"(" x2=")" +
           num(kWidth - kRight) + R"(" y2=")" + num(gy) + "\" stroke=\"#e5e5e5\"/>\n";
    svg += R"(<text x=")" + num(kLeft - 6) + R"(" y=")" + num(gy + 4) +
           R"(" text-anchor="end" font-size="11">)" + decade_label(d) + "</text>\n";
  }
  svg += R"(<text x=")" + num(kLeft) + R"(" y=")" + num(kHeight - 6) +
         "\" font-size=\"11\">oldest</text>\n<text x=\"" + num(kWidth - kRight) + R"(" y=")" +
         num(kHeight - 6) + "\" text-anchor=\"end\" font-size=\"11\">newest</text>\n";
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& report = *reports[i];
    const bool cold = is_cold(report);
    const double ms = latency_ms(report);
    const bool failed = text(report, "outcome") != "success";
    const char* outline = failed ? R"( stroke="#000" stroke-width="1.5")" : "";
    std::string title = "<title>" + html_escape(text(report, "request_id"));
    title += ": " + num(ms, 2) + " ms, " + (cold ? "cold" : "warm") + ", ";
    title += html_escape(text(report, "outcome")) + "</title>";
    if (cold) {
      svg += R"(<rect class="cold" x=")" + num(x(i) - 5) + R"(" y=")" + num(y(ms) - 5);
      svg += R"(" width="10" height="10" fill=")";
      svg += kColdColour;
      svg += '"';
      svg += outline;
      svg += ">" + title + "</rect>\n";
    } else {
      svg += R"(<circle class="warm" cx=")" + num(x(i)) + R"(" cy=")" + num(y(ms));
      svg += R"(" r="5" fill=")";
      svg += kWarmColour;
      svg += '"';
      svg += outline;
      svg += ">" + title + "</circle>\n";
    }
  }
  return svg + "</svg>\n";
}

}  // namespace ember::engine
