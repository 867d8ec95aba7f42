// ember serve: loads the config and runs a node serving it until a signal.
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/config/config.hpp"
#include "node_runner.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

// The node's config, its state directory made; nullopt after saying what is wrong.
std::optional<config::Config> load_node_config(const std::string& config_file) {
  config::Config config;
  try {
    config = config::load_config(config_file);
  } catch (const config::ConfigError& e) {
    std::cerr << "ember serve: " << e.what() << "\n";
    return std::nullopt;
  }
  std::error_code fs_error;
  std::filesystem::create_directories(config.node.state_dir / "logs", fs_error);
  if (fs_error) {
    std::cerr << "ember serve: cannot create state directory " << config.node.state_dir.string()
              << ": " << fs_error.message() << " (node.state_dir in " << config.file.string()
              << ")\n";
    return std::nullopt;
  }
  return config;
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  po::options_description options("ember serve [options]");
  std::string config_file;
  int ready_fd = -1;
  int pin_cpu = -1;
  double time_scale = 1.0;
  options.add_options()("help,h", "show this help")(
      "watch",
      "reload (as SIGHUP does) when the file, a function's code directory or a layer "
      "changes: new workers run the new code, busy ones finish (for development)")(
      "time-scale", po::value(&time_scale)->default_value(1.0),
      "run the scheduler's clock (keep-alive, pre-warming, idle accounting) this many times "
      "faster than wall time, for trace replays")(
      "config,c", po::value(&config_file)->default_value("ember.yaml"), "the node's YAML file")(
      "ready-fd", po::value(&ready_fd),
      "write the Invoke API's address (host:port and a newline) to this descriptor, and when "
      "functions have HTTP routes a line `http HOST:PORT` with their listener's, then close it, "
      "once the node accepts requests")(
      "pin-cpu", po::value(&pin_cpu),
      "run the node's thread and every worker it starts on this one CPU: warm invocations "
      "wake their runtime on the same CPU (faster), but all functions share that CPU");
  po::variables_map vm;
  const CommandLine command_line{
      "ember serve",
      "Runs a node serving the functions in a YAML file; SIGHUP (or `ember reload`) "
      "re-reads the file.\n\n",
      &options};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;

  auto loaded = load_node_config(config_file);
  if (!loaded) return 2;
  NodeRun run;
  run.ready_fd = ready_fd;
  if (vm.count("pin-cpu") != 0U) run.pin_cpu = pin_cpu;
  run.time_scale = time_scale;
  run.reloadable = true;
  run.watch = vm.count("watch") != 0U;
  return run_node(std::move(*loaded), run);
}

}  // namespace ember::cli
