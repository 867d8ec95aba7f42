#include "ember/metrics/text_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ember::metrics {

namespace {

bool is_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  const auto first_ok = [colon](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  };
  if (!first_ok(name.front())) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); });
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool is_metric_name(std::string_view name) { return is_name(name, /*colon=*/true); }
bool is_label_name(std::string_view name) { return is_name(name, /*colon=*/false); }

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buffer{};
  // Shortest text that reads back as the same double: 0.25, 1e-05, 3.
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc{}) return "NaN";
  return {buffer.data(), end};
}

void TextWriter::family(std::string_view name, Type type, std::string_view help) {
  if (!is_metric_name(name)) std::abort();
  text_.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type_name(type)).append("\n");
}

void TextWriter::series(std::string_view name, std::span<const Label> labels, std::string_view le) {
  if (!is_metric_name(name)) std::abort();
  text_.append(name);
  if (labels.empty() && le.empty()) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  bool first = true;
  for (const auto& label : labels) {
    if (!is_label_name(label.name)) std::abort();
    if (!first) text_ += ',';
    first = false;
    text_.append(label.name).append("=\"").append(escape_label_value(label.value)).append("\"");
  }
  if (!le.empty()) {
    if (!first) text_ += ',';
    text_.append("le=\"").append(le).append("\"");
  }
  text_ += "} ";
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  series(name, labels);
  text_.append(format_value(value)).append("\n");
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, std::uint64_t value) {
  series(name, labels);
  text_.append(std::to_string(value)).append("\n");
}

void TextWriter::histogram(std::string_view name, std::span<const Label> labels,
                           const Histogram& h) {
  const std::string base(name);
  const auto bounds = h.bounds();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    series(base + "_bucket", labels, format_value(bounds[i]));
    text_.append(std::to_string(h.cumulative(i))).append("\n");
  }
  series(base + "_bucket", labels, "+Inf");
  text_.append(std::to_string(h.count())).append("\n");
  sample(base + "_sum", labels, h.sum());
  sample(base + "_count", labels, h.count());
}

}  // namespace ember::metrics
