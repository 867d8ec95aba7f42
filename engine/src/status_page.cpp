// GET /: the status JSON as one HTML page, section by section. Everything here reads the JSON
// that GET /ember/v1/functions answers (Node::status() and the HTTP routes' counts); nothing
// asks the pools again, so the page cannot disagree with `ember ps` or `ember cost`.
#include "ember/engine/status_page.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>
#include <map>
#include <vector>

#include "ember/engine/report.hpp"
#include "ember/metrics/cost.hpp"
#include "ember/runtime_api/html.hpp"
#include "latency_plot.hpp"

namespace ember::engine {

namespace {

namespace json = boost::json;
using runtime_api::html_escape;

// --- reading the status JSON (every key may be missing: a node with metrics off, no queue)

double number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_number() ? 0.0 : v->to_number<double>();
}

bool has_number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_number();
}

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_string() ? std::string() : std::string(v->get_string());
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_object() ? nullptr : &v->get_object();
}

const json::array* array_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || !v->is_array() ? nullptr : &v->get_array();
}

// The objects of an array (anything else in it is skipped).
std::vector<const json::object*> objects(const json::array* array) {
  std::vector<const json::object*> out;
  if (array == nullptr) return out;
  for (const auto& v : *array) {
    if (v.is_object()) out.push_back(&v.get_object());
  }
  return out;
}

// --- formatting

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string whole(double v) { return fixed(v, 0); }

// A cell of escaped text; `numeric` cells align right.
std::string cell(std::string_view content, bool numeric = false) {
  return std::string(numeric ? R"(<td class="n">)" : "<td>") + html_escape(content) + "</td>";
}

std::string header_row(std::initializer_list<std::string_view> names) {
  std::string row = "<tr>";
  for (const auto name : names) row += "<th>" + html_escape(name) + "</th>";
  return row + "</tr>\n";
}

// A worker state as a coloured badge; the class only for states the page knows.
std::string state_badge(const std::string& state) {
  static constexpr std::string_view kStates[] = {"starting", "initialising", "idle",    "frozen",
                                                 "assigned", "busy",         "answered"};
  const bool known = std::find(std::begin(kStates), std::end(kStates), state) != std::end(kStates);
  return R"(<span class="state state-)" + (known ? state : std::string("other")) + R"(">)" +
         html_escape(state) + "</span>";
}

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 1.4em; border-bottom: 1px solid #ddd; }
h3 { margin: 0.8em 0 0.2em; font-size: 1em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; background: #fff; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #f0f0f0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n, td.id, td.t { white-space: nowrap; }
code, .id { font-family: ui-monospace, monospace; font-size: 0.9em; }
.meta, .legend, .empty { color: #555; font-size: 0.9em; }
.bad { color: #b00; font-weight: bold; }
.state { display: inline-block; padding: 0.1em 0.6em; border-radius: 3px; font-size: 0.85em; }
.state-frozen { background: #9ecae1; }
.state-starting, .state-initialising { background: #bcbddc; }
.state-assigned, .state-busy { background: #fdae6b; }
.state-answered, .state-other { background: #d9d9d9; }
svg.plot { background: #fff; border: 1px solid #ddd; }
)";

void head(std::string& page) {
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta http-equiv=\"refresh\" content=\"5\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<title>ember node status</title>\n<style>";
  page += kStyle;
  page += ".state-idle { background: " + std::string(kIdleColour) + "; color: #fff; }\n";
  page += "</style>\n</head>\n<body>\n";
}

void summary(std::string& page, const json::object& status,
             std::chrono::system_clock::time_point now) {
  page += "<h1>ember node</h1>\n<p class=\"meta\">As of " + html_escape(iso8601_utc(now)) +
          " (reloads every 5 s). Workers: " + whole(number(status, "workers")) + " of " +
          whole(number(status, "max_workers")) +
          "; memory: " + whole(number(status, "memory_used_mb")) + " of " +
          whole(number(status, "memory_budget_mb")) +
          R"( MB. The same figures as JSON: <a href="/ember/v1/functions">/ember/v1/functions</a>)";
  // Metrics off: no /metrics route, no cost, no recent invocations (status "cost" is null).
  if (object_at(status, "cost") != nullptr) {
    page += R"(, Prometheus: <a href="/metrics">/metrics</a>)";
  }
  page += ".</p>\n";
}

void functions_section(std::string& page, const std::vector<const json::object*>& functions) {
  page += "<h2 id=\"functions\">Functions</h2>\n";
  if (functions.empty()) {
    page += "<p class=\"empty\">No functions.</p>\n";
    return;
  }
  page += "<table>\n" + header_row({"Function", "Runtime / image", "Handler", "Memory", "Timeout",
                                    "Concurrency", "Workers", "Invocations", "Cold starts",
                                    "Throttles", "Waiting", "HTTP route"});
  for (const auto* f : functions) {
    const std::string image = text(*f, "image");
    std::string concurrency = whole(number(*f, "reserved_concurrency")) + " reserved";
    if (number(*f, "provisioned") > 0) {
      concurrency += ", " + whole(number(*f, "provisioned")) + " provisioned";
    }
    std::string route;
    if (const auto* http = object_at(*f, "http")) {
      route = text(*http, "path") + " (" + text(*http, "format") + ")";
    }
    page += "<tr>" + cell(text(*f, "name")) + cell(image.empty() ? text(*f, "runtime") : image) +
            "<td><code>" + html_escape(text(*f, "handler")) + "</code></td>" +
            cell(whole(number(*f, "memory_mb")) + " MB", true) +
            cell(whole(number(*f, "timeout_s")) + " s", true) + cell(concurrency) +
            cell(std::to_string(objects(array_at(*f, "workers")).size()), true) +
            cell(whole(number(*f, "invocations")), true) +
            cell(whole(number(*f, "cold_starts")), true) +
            cell(whole(number(*f, "throttles")), true) + cell(whole(number(*f, "waiting")), true) +
            cell(route) + "</tr>\n";
  }
  page += "</table>\n";
}

void workers_section(std::string& page, const std::vector<const json::object*>& functions) {
  page += "<h2 id=\"workers\">Workers</h2>\n";
  std::string rows;
  for (const auto* f : functions) {
    for (const auto* w : objects(array_at(*f, "workers"))) {
      const std::string last_used =
          has_number(*w, "last_used_s") ? fixed(number(*w, "last_used_s"), 1) + " s ago" : "never";
      rows += "<tr>" + cell(text(*f, "name")) + R"(<td class="id">)" + html_escape(text(*w, "id")) +
              "</td><td>" + state_badge(text(*w, "state")) + "</td>" + cell(text(*w, "kind")) +
              cell(text(*w, "sandbox")) + cell(whole(number(*w, "pid")), true) +
              cell(fixed(number(*w, "age_s"), 1) + " s", true) +
              cell(whole(number(*w, "invocations")), true) + cell(last_used, true) +
              cell(whole(number(*w, "memory_peak_mb")) + " MB", true) + "</tr>\n";
    }
  }
  if (rows.empty()) {
    page += "<p class=\"empty\">No live workers.</p>\n";
    return;
  }
  page += "<table>\n" +
          header_row({"Function", "Worker", "State", "Kind", "Sandbox", "PID", "Age", "Invocations",
                      "Last used", "Peak memory"}) +
          rows + "</table>\n";
}

constexpr std::string_view kNoFigures =
    R"(<p class="empty">node.metrics is off: the node keeps no figures of its invocations )"
    "(recent REPORTs, latency, cost).</p>\n";

std::string median_ms(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double m = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return fixed(m, 2) + " ms";
}

void latency_section(std::string& page, const std::vector<const json::object*>& functions,
                     const json::array* recent) {
  page += "<h2 id=\"latency\">Latency</h2>\n";
  if (recent == nullptr) {
    page += kNoFigures;
    return;
  }
  // The ring is newest first; each plot runs oldest to newest.
  std::map<std::string, std::vector<const json::object*>, std::less<>> by_function;
  const auto reports = objects(recent);
  for (auto it = reports.rbegin(); it != reports.rend(); ++it) {
    by_function[text(**it, "function")].push_back(*it);
  }
  if (by_function.empty()) {
    page += "<p class=\"empty\">No invocations yet.</p>\n";
    return;
  }
  page +=
      R"(<p class="legend">The node's last invocations per function, oldest on the left. Orange )"
      "squares: cold starts, at Init Duration + Duration. Blue circles: warm invocations, at "
      "Duration. A black outline: the invocation failed. Logarithmic scale.</p>\n";
  // In the functions' order, then any function that has since gone.
  std::vector<std::string> names;
  for (const auto* f : functions) {
    if (by_function.contains(text(*f, "name"))) names.push_back(text(*f, "name"));
  }
  for (const auto& [name, list] : by_function) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  for (const auto& name : names) {
    const auto& list = by_function.find(name)->second;
    std::vector<double> cold;
    std::vector<double> warm;
    for (const auto* r : list) {
      const auto* c = r->if_contains("cold");
      if (c != nullptr && c->is_bool() && c->get_bool()) {
        cold.push_back(number(*r, "init_duration_ms") + number(*r, "duration_ms"));
      } else {
        warm.push_back(number(*r, "duration_ms"));
      }
    }
    page += "<h3>" + html_escape(name) + "</h3>\n<p class=\"legend\">" +
            std::to_string(cold.size()) + " cold" +
            (cold.empty() ? "" : " (median " + median_ms(cold) + ")") + ", " +
            std::to_string(warm.size()) + " warm" +
            (warm.empty() ? "" : " (median " + median_ms(warm) + ")") + "</p>\n";
    page += latency_plot_svg(list);
  }
}

void recent_section(std::string& page, const json::array* recent) {
  page += "<h2 id=\"recent\">Recent invocations</h2>\n";
  if (recent == nullptr) {
    page += kNoFigures;
    return;
  }
  const auto reports = objects(recent);
  if (reports.empty()) {
    page += "<p class=\"empty\">No invocations yet.</p>\n";
    return;
  }
  page += R"(<p class="legend">The REPORT line of each of the node's last )" +
          std::to_string(reports.size()) + " invocations that ran on a worker, newest first.</p>\n";
  page += "<table>\n" +
          header_row({"Ended (UTC)", "Function", "Request ID", "Duration", "Billed Duration",
                      "Init Duration", "Memory Size", "Max Memory Used", "Outcome"});
  for (const auto* r : reports) {
    const std::string init =
        has_number(*r, "init_duration_ms") ? fixed(number(*r, "init_duration_ms"), 2) + " ms" : "";
    const std::string outcome = text(*r, "outcome");
    const std::string error_type = text(*r, "error_type");
    std::string outcome_cell =
        outcome == "success"
            ? cell(outcome)
            : R"(<td class="bad">)" + html_escape(outcome) +
                  (error_type.empty() ? "" : ": " + html_escape(error_type)) + "</td>";
    page += R"(<tr><td class="t">)" + html_escape(text(*r, "ended")) + "</td>" +
            cell(text(*r, "function")) + R"(<td class="id">)" +
            html_escape(text(*r, "request_id")) + "</td>" +
            cell(fixed(number(*r, "duration_ms"), 2) + " ms", true) +
            cell(whole(number(*r, "billed_duration_ms")) + " ms", true) + cell(init, true) +
            cell(whole(number(*r, "memory_size_mb")) + " MB", true) +
            cell(whole(number(*r, "max_memory_used_mb")) + " MB", true) + outcome_cell + "</tr>\n";
  }
  page += "</table>\n";
}

void async_section(std::string& page, const std::vector<const json::object*>& functions) {
  page += "<h2 id=\"async\">Asynchronous events</h2>\n";
  std::string rows;
  for (const auto* f : functions) {
    const auto* a = object_at(*f, "async");
    if (a == nullptr) continue;
    const std::string oldest =
        has_number(*a, "oldest_age_s") ? fixed(number(*a, "oldest_age_s"), 1) + " s" : "";
    rows += "<tr>" + cell(text(*f, "name")) + cell(whole(number(*a, "queued")), true) +
            cell(whole(number(*a, "running")), true) + cell(oldest, true) +
            cell(whole(number(*a, "accepted")), true) + cell(whole(number(*a, "retries")), true) +
            cell(whole(number(*a, "succeeded")), true) + cell(whole(number(*a, "failed")), true) +
            cell(whole(number(*a, "expired")), true) + "</tr>\n";
  }
  if (rows.empty()) {
    page += "<p class=\"empty\">No event queue figures (the node has no event queue).</p>\n";
    return;
  }
  page += "<table>\n" +
          header_row({"Function", "Queued", "Running", "Oldest event", "Accepted", "Retries",
                      "Succeeded", "Failed", "Expired"}) +
          rows + "</table>\n";
}

// One row of the cost table, as `ember cost` prints it.
std::string cost_row(std::string_view name, const json::object& usage, bool total = false) {
  const auto c = [&](const std::string& content) { return cell(content, true); };
  return std::string(total ? R"(<tr class="total">)" : "<tr>") + cell(name) +
         c(whole(number(usage, "requests"))) + c(fixed(number(usage, "gb_seconds"), 6)) +
         c(fixed(number(usage, "requests_usd"), 8)) + c(fixed(number(usage, "compute_usd"), 8)) +
         c(fixed(number(usage, "cost_usd"), 8)) + "</tr>\n";
}

void cost_section(std::string& page, const json::object& status,
                  const std::vector<const json::object*>& functions) {
  page += "<h2 id=\"cost\">Cost</h2>\n";
  const auto* cost = object_at(status, "cost");
  if (cost == nullptr) {
    page += kNoFigures;
    return;
  }
  page += R"(<p class="legend">What the node's invocations since it started would cost on Lambda: )"
          "billed requests, and GB-seconds (Billed Duration x Memory Size), at " +
          html_escape(metrics::price_text(number(*cost, "usd_per_million_requests"))) +
          " USD per million requests and " +
          html_escape(metrics::price_text(number(*cost, "usd_per_gb_second"))) +
          " USD per GB-second (node.cost).</p>\n";
  page += "<table>\n" + header_row({"Function", "Requests", "GB-seconds", "Requests USD",
                                    "Compute USD", "Total USD"});
  for (const auto* f : functions) {
    if (const auto* billed = object_at(*f, "billed")) page += cost_row(text(*f, "name"), *billed);
  }
  page += cost_row("all functions", *cost, true) + "</table>\n";
  if (const auto* tier = object_at(*cost, "free_tier")) {
    page += "<p>Free tier (" + whole(number(*tier, "free_requests")) + " requests and " +
            whole(number(*tier, "free_gb_seconds")) + " GB-seconds a month), shown apart: covers " +
            whole(number(*tier, "requests")) + " requests and " +
            fixed(number(*tier, "gb_seconds"), 6) + " GB-seconds, " +
            fixed(number(*tier, "covered_usd"), 8) + " USD. Due after the free tier: <b>" +
            fixed(number(*cost, "due_usd"), 8) + " USD</b>.</p>\n";
  }
}

}  // namespace

std::string render_status_page(const json::object& status,
                               std::chrono::system_clock::time_point now) {
  const auto functions = objects(array_at(status, "functions"));
  const auto* recent = array_at(status, "recent");
  std::string page;
  page.reserve(16 * 1024);
  head(page);
  summary(page, status, now);
  functions_section(page, functions);
  workers_section(page, functions);
  latency_section(page, functions, recent);
  recent_section(page, recent);
  async_section(page, functions);
  cost_section(page, status, functions);
  page += "</body>\n</html>\n";
  return page;
}

}  // namespace ember::engine
