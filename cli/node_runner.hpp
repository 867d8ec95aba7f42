// Running a node from a configuration: its sandbox backends, listeners and servers, and the
// signals that drain and stop it. `ember serve` (a YAML file) and `ember rie` (a command
// line, as aws-lambda-rie's) differ only in how they make the configuration.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"

namespace ember::cli {

struct NodeRun {
  std::string command = "ember serve";  // prefixes every message
  // Where node.listen was set, for errors: "node.listen in FILE" or a command-line flag.
  std::string listen_origin;
  int ready_fd = -1;  // --ready-fd; -1: none
  std::optional<int> pin_cpu;
  double time_scale = 1.0;
  // The functions' output on ember's stdout; null: each line prefixed with `[function] `.
  std::function<void(std::string_view function, std::string_view lines)> echo;
  // When set, every Invoke API request goes to this function whatever its path names.
  std::string only_function;
  bool announce = true;  // print ember's own lines (what runs unisolated, where it listens)
  // SIGHUP and POST /ember/v1/reload re-read the config's file (ember serve); false: SIGHUP
  // is ignored, with a line saying so.
  bool reloadable = false;
  bool watch = false;  // --watch: reload when the file or a function's code changes
};

// Runs the node until SIGINT/SIGTERM have drained and stopped it; SIGHUP reloads (see
// NodeRun::reloadable). The exit status: 0 after a
// clean stop, 2 when it could not start (after saying why).
int run_node(config::Config config, const NodeRun& run);

}  // namespace ember::cli
