#include "ember/bench/timings.hpp"

#include <charconv>

namespace ember::bench {

std::optional<double> EngineTimings::at(std::string_view name) const {
  for (const auto& p : phases) {
    if (p.name == name) return p.us;
  }
  return std::nullopt;
}

std::optional<EngineTimings> parse_timings(std::string_view header) {
  EngineTimings out;
  bool saw_cold = false;
  while (!header.empty()) {
    const auto semi = header.find(';');
    const auto item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    long long value = 0;
    const auto text = item.substr(eq + 1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    const auto name = item.substr(0, eq);
    if (name == "cold") {
      out.cold = value != 0;
      saw_cold = true;
    } else {
      out.phases.push_back({std::string(name), static_cast<double>(value)});
    }
  }
  if (!saw_cold) return std::nullopt;
  return out;
}

std::vector<PhaseSpan> spans(const EngineTimings& timings, double client_total_us) {
  std::vector<PhaseSpan> out;
  std::string prev = "request";
  double prev_us = 0;
  for (const auto& p : timings.phases) {
    if (p.us < 0) continue;
    out.push_back({prev + "->" + p.name, p.us - prev_us});
    prev = p.name;
    prev_us = p.us;
  }
  out.push_back({prev + "->client", client_total_us - prev_us});
  return out;
}

}  // namespace ember::bench
