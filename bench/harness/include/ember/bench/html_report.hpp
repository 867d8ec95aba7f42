// The report as one self-contained HTML page: inline SVG charts (CDF, histograms, per-phase
// stacked breakdown) and tables; no scripts, no stylesheets or fonts from the network.
#pragma once

#include <string>

#include "ember/bench/report.hpp"

namespace ember::bench {

std::string html_text(const Report& report);

}  // namespace ember::bench
