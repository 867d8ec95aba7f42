// ember conform: starts a runtime against a Runtime API of its own and checks, scenario by
// scenario, that it follows the spec (docs/runtimes.md, "Checking a runtime").
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "command_line.hpp"
#include "commands.hpp"
#include "conform/conformance.hpp"
#include "ember/runtime_api/runtime_environment.hpp"

namespace ember::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// A module no runtime has: the init-error scenario's _HANDLER.
constexpr const char* kMissingHandler = "conform_missing_module.handler";

struct RuntimeSettings {
  std::string handler;
  std::string runtime;
  std::string function_name;
  std::uint32_t memory_mb = 128;
  fs::path task_root;
  std::vector<std::string> variables;  // the function's own, KEY=VALUE
};

// The environment ember gives a runtime it starts without a sandbox (runtime_command, as the
// engine's workers get it), with the function's own variables over it.
std::vector<std::string> runtime_env(const RuntimeSettings& settings, const std::string& handler) {
  runtime_api::RuntimeLaunch launch;
  launch.function_name = settings.function_name;
  launch.runtime = settings.runtime;
  launch.handler = handler;
  launch.memory_mb = settings.memory_mb;
  launch.log_stream = "conform";
  launch.task_root = settings.task_root.string();
  auto env = runtime_api::runtime_command(launch).env;
  runtime_api::set_environment(env, settings.variables);
  return env;
}

conform::RunSpec run_spec(std::vector<std::string> argv, const RuntimeSettings& settings,
                          const std::string& handler, const std::string& log) {
  conform::RunSpec spec;
  // The runtime runs in the task root: a relative path to it means from here.
  if (argv[0].find('/') != std::string::npos) argv[0] = fs::absolute(argv[0]).string();
  spec.argv = std::move(argv);
  spec.env = runtime_env(settings, handler);
  spec.cwd = settings.task_root;
  if (!log.empty()) spec.log = fs::absolute(log);
  return spec;
}

}  // namespace

int conform_command(const std::vector<std::string>& args) {
  // Everything after "--" is the runtime's command line, untouched by option parsing.
  const auto dashes = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), dashes);
  std::vector<std::string> command;
  if (dashes != args.end()) command.assign(dashes + 1, args.end());

  const char* env_handler = std::getenv("_HANDLER");  // NOLINT: read once, at start
  RuntimeSettings settings;
  int timeout_s = 10;
  std::string task_root;
  std::string log;
  po::options_description options("ember conform [options] -- BOOTSTRAP [ARGS...]");
  options.add_options()("help,h", "show this help")(
      "json", "one JSON object per check and line (name, result, expected, actual, section)")(
      "timeout", po::value(&timeout_s)->default_value(10),
      "seconds each wait of a scenario may take")(
      "handler",
      po::value(&settings.handler)
          ->default_value(env_handler != nullptr ? env_handler : "conform_probe.handler"),
      "_HANDLER of the probe handler (default: $_HANDLER, else conform_probe.handler)")(
      "task-root", po::value(&task_root), "LAMBDA_TASK_ROOT and working directory (default: here)")(
      "runtime", po::value(&settings.runtime)->default_value("provided"),
      "runtime name for AWS_EXECUTION_ENV (python3.11, provided, ...)")(
      "function-name", po::value(&settings.function_name)->default_value("conform"),
      "AWS_LAMBDA_FUNCTION_NAME")("memory", po::value(&settings.memory_mb)->default_value(128),
                                  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB)")(
      "env", po::value(&settings.variables)->composing(),
      "KEY=VALUE for the runtime's environment (repeatable)")(
      "log", po::value(&log),
      "append the runtime's stdout and stderr to FILE (default: discarded)");
  po::variables_map vm;
  constexpr const char* kAbout =
      "Starts a runtime against a Runtime API of ember's own, drives it through scenarios with\n"
      "the probe handler and prints one line per check (pass, warn or fail). Exit status 1\n"
      "when a check failed, 2 on bad usage. See docs/runtimes.md, \"Checking a runtime\".\n\n";
  const CommandLine command_line{"ember conform", kAbout, &options, nullptr, nullptr};
  if (const auto exit_code = parse_command_line(own, command_line, vm)) return *exit_code;
  if (command.empty()) {
    std::cerr << "ember conform: no runtime to check: give its command after --\n\n"
              << kAbout << options;
    return 2;
  }
  if (timeout_s <= 0) {
    std::cerr << "ember conform: --timeout: must be at least 1 second, got " << timeout_s << "\n";
    return 2;
  }
  for (const auto& variable : settings.variables) {
    if (variable.find('=') == std::string::npos || variable.front() == '=') {
      std::cerr << "ember conform: --env " << variable << ": expected KEY=VALUE\n";
      return 2;
    }
  }
  settings.task_root = fs::absolute(task_root.empty() ? fs::current_path() : fs::path(task_root));
  if (!fs::is_directory(settings.task_root)) {
    std::cerr << "ember conform: --task-root " << settings.task_root.string()
              << ": not a directory\n";
    return 2;
  }

  conform::ConformOptions conform_options;
  conform_options.runtime = run_spec(command, settings, settings.handler, log);
  conform_options.missing_handler = run_spec(command, settings, kMissingHandler, log);
  conform_options.timeout = std::chrono::seconds(timeout_s);
  conform::Report report(stdout, vm.count("json") != 0U);
  conform::Conformance(std::move(conform_options), report).run();
  report.finish();
  return report.failures() == 0 ? 0 : 1;
}

}  // namespace ember::cli
