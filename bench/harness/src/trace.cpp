#include "ember/bench/trace.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ember/bench/progress.hpp"
#include "ember/bench/runner.hpp"

namespace ember::bench {

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::stringstream in(line);
  while (std::getline(in, cell, ',')) {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    out.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

std::string where(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column + 1);
}

template <typename T>
T number(const std::string& text, std::size_t line, std::size_t column) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::runtime_error(where(line, column) + ": not a number: '" + text + "'");
  }
  return value;
}

std::size_t column_of(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw std::runtime_error("line 1: no column named " + name);
  return static_cast<std::size_t>(it - header.begin());
}

// Minute number of a per-minute column ("minute_7" or "7"), or 0 for any other column.
std::size_t minute_of(const std::string& name) {
  std::string_view digits = name;
  if (digits.starts_with("minute_")) digits.remove_prefix(7);
  std::size_t minute = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), minute);
  return ec == std::errc{} && end == digits.data() + digits.size() ? minute : 0;
}

Trace parse_2019(std::istream& in, const TraceLimits& limits) {
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("empty trace");
  const auto header = split_csv_line(line);
  const auto function_col = column_of(header, "HashFunction");
  std::vector<std::pair<std::size_t, std::size_t>> minute_cols;  // column, minute
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (const auto m = minute_of(header[c]); m > 0) minute_cols.emplace_back(c, m);
  }
  if (minute_cols.empty()) throw std::runtime_error("line 1: no per-minute columns");

  Trace trace;
  std::size_t last_minute = 0;
  for (std::size_t line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty() || line == "\r") continue;
    if (limits.max_functions > 0 && trace.functions.size() >= limits.max_functions) break;
    const auto cells = split_csv_line(line);
    if (cells.size() != header.size()) {
      throw std::runtime_error("line " + std::to_string(line_no) + ": " +
                               std::to_string(cells.size()) + " columns, the header has " +
                               std::to_string(header.size()));
    }
    const std::size_t function = trace.functions.size();
    trace.functions.push_back(cells[function_col]);
    for (const auto& [col, minute] : minute_cols) {
      last_minute = std::max(last_minute, minute);
      const auto count = number<std::size_t>(cells[col], line_no, col);
      const double minute_start = static_cast<double>(minute - 1) * 60.0;
      for (std::size_t j = 0; j < count; ++j) {
        const double at =
            minute_start + (static_cast<double>(j) + 0.5) * 60.0 / static_cast<double>(count);
        if (limits.max_span_s > 0 && at >= limits.max_span_s) break;
        trace.events.push_back({at, function});
      }
    }
  }
  trace.span_s = static_cast<double>(last_minute) * 60.0;
  if (limits.max_span_s > 0) trace.span_s = std::min(trace.span_s, limits.max_span_s);
  return trace;
}

Trace parse_2021(std::istream& in, const TraceLimits& limits) {
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("empty trace");
  const auto header = split_csv_line(line);
  const auto func_col = column_of(header, "func");
  const auto end_col = column_of(header, "end_timestamp");
  const auto duration_col = column_of(header, "duration");
  const auto app_it = std::find(header.begin(), header.end(), "app");

  Trace trace;
  std::map<std::string, std::size_t> index;
  for (std::size_t line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_line(line);
    if (cells.size() != header.size()) {
      throw std::runtime_error("line " + std::to_string(line_no) + ": " +
                               std::to_string(cells.size()) + " columns, the header has " +
                               std::to_string(header.size()));
    }
    // The same function hash can appear under two apps; the pair names the function.
    std::string key = cells[func_col];
    if (app_it != header.end()) {
      key = std::string(cells[static_cast<std::size_t>(app_it - header.begin())])
                .append("/")
                .append(key);
    }
    auto it = index.find(key);
    if (it == index.end()) {
      if (limits.max_functions > 0 && trace.functions.size() >= limits.max_functions) continue;
      it = index.emplace(key, trace.functions.size()).first;
      trace.functions.push_back(key);
    }
    const auto end = number<double>(cells[end_col], line_no, end_col);
    const auto duration = number<double>(cells[duration_col], line_no, duration_col);
    const double start = std::max(0.0, end - duration);
    if (limits.max_span_s > 0 && start >= limits.max_span_s) continue;
    trace.events.push_back({start, it->second});
  }
  std::stable_sort(trace.events.begin(), trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.at_s < b.at_s; });
  trace.span_s = trace.events.empty() ? 0 : trace.events.back().at_s;
  return trace;
}

}  // namespace

Trace parse_trace(std::istream& in, TraceFormat format, const TraceLimits& limits) {
  Trace trace = format == TraceFormat::kAzure2019 ? parse_2019(in, limits) : parse_2021(in, limits);
  std::stable_sort(trace.events.begin(), trace.events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.at_s < b.at_s; });
  return trace;
}

Trace load_trace(const std::string& path, TraceFormat format, const TraceLimits& limits) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  try {
    return parse_trace(in, format, limits);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::optional<TraceFormat> parse_trace_format(const std::string& name) {
  if (name == "azure2019") return TraceFormat::kAzure2019;
  if (name == "azure2021") return TraceFormat::kAzure2021;
  return std::nullopt;
}

ReplayOutcome replay(const Trace& trace, const std::vector<std::string>& function_names,
                     ClientKind kind, const Endpoint& endpoint, double time_scale,
                     std::size_t concurrency, const std::string& payload, Progress* progress) {
  using Clock = std::chrono::steady_clock;
  ReplayOutcome out;
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  const auto start = Clock::now();
  std::vector<std::jthread> threads;
  for (std::size_t t = 0; t < std::max<std::size_t>(concurrency, 1); ++t) {
    threads.emplace_back([&] {
      auto client = make_client(kind, endpoint);
      ReplayOutcome mine;
      for (auto i = next.fetch_add(1); i < trace.events.size(); i = next.fetch_add(1)) {
        const auto& event = trace.events[i];
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(event.at_s / time_scale));
        std::this_thread::sleep_until(due);
        mine.max_lateness_s = std::max(mine.max_lateness_s,
                                       std::chrono::duration<double>(Clock::now() - due).count());
        const auto m = invoke_once(*client, function_names.at(event.function), payload);
        ++mine.invocations;
        if (m.ok) {
          mine.client_us.push_back(m.client_us);
          if (m.engine.cold) ++mine.cold;
        } else {
          ++mine.errors;
        }
        if (progress != nullptr) progress->tick();
      }
      const std::lock_guard lock(merge);
      out.invocations += mine.invocations;
      out.errors += mine.errors;
      out.cold += mine.cold;
      out.max_lateness_s = std::max(out.max_lateness_s, mine.max_lateness_s);
      out.client_us.insert(out.client_us.end(), mine.client_us.begin(), mine.client_us.end());
    });
  }
  threads.clear();
  out.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

}  // namespace ember::bench
