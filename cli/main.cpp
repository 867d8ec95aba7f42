// ember: a self-hosted, Lambda-compatible invocation engine.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"

namespace {

constexpr const char* kUsage = R"(usage: ember <command> [options]

commands:
  serve    run a node serving the functions of a YAML file (ember serve --config ember.yaml)
  invoke   invoke a function on a running node (ember invoke NAME --payload '{...}')
  ps       list each function's workers on a running node
  logs     print a function's log lines from a running node (ember logs NAME [--follow])
  reload   make a running node re-read its YAML file (as SIGHUP does)
  cost     what a running node's invocations would cost on Lambda, per function
  bench    measure cold and warm starts, throughput, trace replay (ember bench cold|warm|...)
  image    list (ls) or remove (prune) the container images a node has unpacked
  rie      run one function as aws-lambda-rie does (ember rie [options] BOOTSTRAP [ARGS...]);
           ember run as `aws-lambda-rie` (a symlink) is this command
  conform  check that a runtime follows the Runtime API (ember conform -- ./bootstrap)

ember <command> --help shows a command's options; ember --version prints the version.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);  // NOLINT: the C++ way to read argv
  // A drop-in for the Runtime Interface Emulator: an image's /usr/local/bin/aws-lambda-rie
  // may be a symlink to ember.
  if (argc > 0 && std::filesystem::path(argv[0]).filename() == "aws-lambda-rie") {  // NOLINT
    return ember::cli::rie_command(args);
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("ember %s\n", EMBER_VERSION);
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") return ember::cli::serve_command(args);
  if (command == "invoke") return ember::cli::invoke_command(args);
  if (command == "ps") return ember::cli::ps_command(args);
  if (command == "reload") return ember::cli::reload_command(args);
  if (command == "logs") return ember::cli::logs_command(args);
  if (command == "cost") return ember::cli::cost_command(args);
  if (command == "bench") return ember::cli::bench_command(args);
  if (command == "image") return ember::cli::image_command(args);
  if (command == "rie") return ember::cli::rie_command(args);
  if (command == "conform") return ember::cli::conform_command(args);
  std::fprintf(stderr, "ember: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
