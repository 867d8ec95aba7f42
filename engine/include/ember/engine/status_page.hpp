// The node's status page (GET / on the Invoke API's port): one self-contained HTML document
// drawn from what GET /ember/v1/functions answers, so the page and `ember ps`/`ember cost`
// show the same figures. Plain HTML, inline CSS and inline SVG: no script, nothing fetched from
// elsewhere, and it reloads itself every 5 s (docs/operating.md#status-page).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>

namespace ember::engine {

// Colours the page draws in, which its browser test looks for in a screenshot: cold starts and
// warm invocations on the latency plots, and the badge of an idle worker.
inline constexpr const char* kColdColour = "#e6550d";
inline constexpr const char* kWarmColour = "#3182bd";
inline constexpr const char* kIdleColour = "#31a354";

// `status`: Node::status() (with what the Invoke API adds: HTTP routes); `now`: the time the
// page says it shows. Every text taken from `status` is escaped.
std::string render_status_page(const boost::json::object& status,
                               std::chrono::system_clock::time_point now);

}  // namespace ember::engine
