// The status page's latency plot of one function: its recent invocations in order, cold starts
// and warm ones apart, as inline SVG drawn on the node (no script draws it).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "ember/engine/status_page.hpp"

namespace ember::engine {

// `reports`: entries of GET /ember/v1/functions' "recent", oldest first. A cold start is an
// orange square at its Init Duration + Duration (what its caller waited, less the sandbox made
// ahead), a warm invocation a blue circle at its Duration; the y axis is logarithmic, so
// microseconds and seconds read on one plot. Failed invocations get a black outline.
std::string latency_plot_svg(const std::vector<const boost::json::object*>& reports);

}  // namespace ember::engine
