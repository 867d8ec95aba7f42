// Prometheus' text exposition format (version 0.0.4): families with their HELP and TYPE lines,
// samples with escaped label values, histograms as _bucket/_sum/_count series.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "ember/metrics/histogram.hpp"

namespace ember::metrics {

// What GET /metrics answers with.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Label {
  std::string_view name;
  std::string_view value;
};

enum class Type { kCounter, kGauge, kHistogram };

// [a-zA-Z_:][a-zA-Z0-9_:]*, and without ':' for label names.
bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view text);
// A label value: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);
// A sample value: integers as written, +Inf, -Inf, NaN, otherwise the shortest exact form.
std::string format_value(double value);

// Appends families to one text. Names are ember's own constants: an invalid one aborts.
class TextWriter {
 public:
  // Starts a family; its samples follow before the next family.
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::span<const Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  // NAME_bucket{...,le="..."} for every bound and +Inf, NAME_sum, NAME_count.
  void histogram(std::string_view name, std::span<const Label> labels, const Histogram& h);
  void histogram(std::string_view name, std::initializer_list<Label> labels, const Histogram& h) {
    histogram(name, std::span<const Label>(labels.begin(), labels.size()), h);
  }

  [[nodiscard]] const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void series(std::string_view name, std::span<const Label> labels, std::string_view le = {});

  std::string text_;
};

}  // namespace ember::metrics
