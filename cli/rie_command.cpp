// ember rie: a drop-in for aws-lambda-rie (the Runtime Interface Emulator). Same command line,
// environment variables and endpoint, but each concurrent request gets a runtime process of
// its own, and the REPORT line, errors, Tail logs and Event invocations are Lambda's.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "ember/client/child_process.hpp"
#include "ember/config/config.hpp"
#include "node_runner.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace ember::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = R"(usage: ember rie [options] [BOOTSTRAP [ARGS...]]
       aws-lambda-rie [options] [BOOTSTRAP [ARGS...]]   (ember under that name)

Runs one function as the AWS Lambda Runtime Interface Emulator does: its Invoke API at
POST /2015-03-31/functions/function/invocations (any function name reaches it), the runtime
started with the Runtime API in AWS_LAMBDA_RUNTIME_API.

options (aws-lambda-rie's; unknown options are passed to the bootstrap, as it does):
  --runtime-interface-emulator-address HOST:PORT   the Invoke API (default 0.0.0.0:8080)
  --runtime-api-address HOST:PORT   checked as aws-lambda-rie does; each runtime process gets
                                    its own Runtime API on an ephemeral loopback port instead
  --log-level LEVEL                 trace, debug, info, warn, error, fatal or panic
                                    (default: env LOG_LEVEL, else info)
  --enable-init-caching             accepted; has no effect
ember's own:
  --isolation none|native           run the runtime as a plain process (default, like
                                    aws-lambda-rie) or in ember's native sandbox
  --state-dir DIR                   logs and queued Event invocations (default: a temporary
                                    directory removed at exit)
  --ready-fd N                      write the Invoke API's HOST:PORT and a newline to this
                                    descriptor, then close it, once requests are accepted

environment: AWS_LAMBDA_FUNCTION_NAME (test_function), AWS_LAMBDA_FUNCTION_TIMEOUT (300 s),
AWS_LAMBDA_FUNCTION_MEMORY_SIZE (3008 MB), AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_HANDLER
or _HANDLER, AWS_LAMBDA_MAX_CONCURRENCY (most runtime processes at once, default 32; more
concurrent requests get 429 TooManyRequestsException). Every variable of this environment
reaches the runtime, as with aws-lambda-rie.
)";

struct RieArgs {
  std::string emulator_address = "0.0.0.0:8080";
  std::string runtime_api_address = "127.0.0.1:9001";
  std::string log_level;
  std::string isolation = "none";
  std::string state_dir;
  std::string ready_fd;
  bool help = false;
  std::vector<std::string> positionals;  // BOOTSTRAP ARGS..., unknown options among them
};

// The options that take a value, and where it goes.
std::string* value_option(RieArgs& out, std::string_view name) {
  if (name == "--runtime-interface-emulator-address") return &out.emulator_address;
  if (name == "--runtime-api-address") return &out.runtime_api_address;
  if (name == "--log-level") return &out.log_level;
  if (name == "--isolation") return &out.isolation;
  if (name == "--state-dir") return &out.state_dir;
  if (name == "--ready-fd") return &out.ready_fd;
  return nullptr;
}

// As aws-lambda-rie's parser (go-flags, IgnoreUnknown): its options are taken wherever they
// appear, `--name VALUE` or `--name=VALUE`; anything else, unknown options included, stays in
// order as the bootstrap's command line; `--` ends the options.
std::optional<RieArgs> parse_rie_args(const std::vector<std::string>& args) {
  RieArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.positionals.insert(out.positionals.end(), args.begin() + static_cast<long>(i) + 1,
                             args.end());
      break;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg == "--enable-init-caching") continue;
    const auto equals = arg.find('=');
    const std::string_view name = std::string_view(arg).substr(0, equals);
    std::string* value = arg.starts_with("--") ? value_option(out, name) : nullptr;
    if (value == nullptr) {
      out.positionals.push_back(arg);
    } else if (equals != std::string::npos) {
      *value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      *value = args[++i];
    } else {
      std::cerr << "ember rie: " << name << " needs a value\n";
      return std::nullopt;
    }
  }
  return out;
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): before any thread
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

// An integer environment variable in [low, high]; nullopt after naming what is wrong.
std::optional<std::uint32_t> env_number(const char* name, std::uint32_t fallback, std::uint32_t low,
                                        std::uint32_t high) {
  const std::string text = env_or(name, std::to_string(fallback));
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    std::cerr << "ember rie: " << name << "='" << text << "' must be a whole number from " << low
              << " to " << high << "\n";
    return std::nullopt;
  }
  return value;
}

// What runs, and where: aws-lambda-rie's choice. With no arguments, the first bootstrap of
// /var/task, /opt and /var/runtime in /var/task; otherwise the arguments, in the current
// directory. The program is looked up in PATH when it has no '/'.
struct Launch {
  std::vector<std::string> argv;
  fs::path directory;
  std::string handler;
};

std::optional<Launch> choose_launch(const std::vector<std::string>& positionals) {
  Launch launch;
  if (positionals.empty()) {
    for (const char* candidate :
         {"/var/task/bootstrap", "/opt/bootstrap", "/var/runtime/bootstrap"}) {
      std::error_code ec;
      if (fs::exists(candidate, ec) && !fs::is_directory(candidate, ec)) {
        launch.argv = {candidate};
        break;
      }
    }
    if (launch.argv.empty()) {
      std::cerr << "ember rie: no bootstrap given and none of /var/task/bootstrap, "
                   "/opt/bootstrap, /var/runtime/bootstrap exists\n";
      return std::nullopt;
    }
    launch.directory = "/var/task";
  } else {
    launch.argv = positionals;
    launch.directory = fs::current_path();
    // aws-lambda-rie: with a bootstrap and arguments, the last one is the handler.
    if (positionals.size() >= 2) launch.handler = positionals.back();
  }
  const auto program = client::find_program(launch.argv.front());
  if (!program) {
    std::cerr << "ember rie: bootstrap '" << launch.argv.front()
              << "' is not an executable file (nor one in PATH)\n";
    return std::nullopt;
  }
  launch.argv.front() = fs::absolute(*program).string();
  launch.handler = env_or("AWS_LAMBDA_FUNCTION_HANDLER", env_or("_HANDLER", launch.handler));
  return launch;
}

// Every variable of ember rie's environment, as aws-lambda-rie passes its own, except those
// the node sets for each runtime process itself.
std::vector<std::pair<std::string, std::string>> passed_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {  // NOLINT: C's environ
    const std::string_view variable(*entry);
    const auto equals = variable.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    const std::string name(variable.substr(0, equals));
    if (name == "AWS_LAMBDA_RUNTIME_API" || name == "_HANDLER") continue;
    out.emplace_back(name, std::string(variable.substr(equals + 1)));
  }
  return out;
}

bool valid_log_level(std::string_view level) {
  constexpr std::array<std::string_view, 8> kLevels{"trace",   "debug", "info",  "warn",
                                                    "warning", "error", "fatal", "panic"};
  return std::ranges::find(kLevels, level) != kLevels.end();
}

// The node's configuration for the one function, from the arguments and environment.
std::optional<config::Config> rie_config(const RieArgs& args, const Launch& launch,
                                         const fs::path& state_dir) {
  const auto address = config::parse_listen(args.emulator_address);
  if (!address) {
    std::cerr << "ember rie: --runtime-interface-emulator-address '" << args.emulator_address
              << "' is not HOST:PORT (an IPv4 address, a bracketed IPv6 one or localhost)\n";
    return std::nullopt;
  }
  if (!config::parse_listen(args.runtime_api_address)) {
    std::cerr << "ember rie: --runtime-api-address '" << args.runtime_api_address
              << "' is not HOST:PORT\n";
    return std::nullopt;
  }
  config::FunctionConfig function;
  function.name = env_or("AWS_LAMBDA_FUNCTION_NAME", "test_function");
  if (!config::is_function_name(function.name)) {
    std::cerr << "ember rie: AWS_LAMBDA_FUNCTION_NAME='" << function.name
              << "' is not a function name (1 to 64 of A-Z a-z 0-9 _ -)\n";
    return std::nullopt;
  }
  const auto timeout = env_number("AWS_LAMBDA_FUNCTION_TIMEOUT", 300, 1, 900);
  const auto memory = env_number("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 3008, 128, 10240);
  const auto concurrency = env_number("AWS_LAMBDA_MAX_CONCURRENCY", 32, 1, 1024);
  if (!timeout || !memory || !concurrency) return std::nullopt;
  if (args.isolation != "none" && args.isolation != "native") {
    std::cerr << "ember rie: --isolation '" << args.isolation << "' must be none or native\n";
    return std::nullopt;
  }

  function.runtime = "provided";
  function.code_dir = launch.directory;
  function.bootstrap_command = launch.argv;
  function.handler = launch.handler;
  function.timeout_s = *timeout;
  function.memory_mb = *memory;
  function.reserved_concurrency = *concurrency;
  function.keep_alive = std::chrono::hours(1);
  function.environment = passed_environment();
  function.isolation =
      args.isolation == "native" ? config::Isolation::kNative : config::Isolation::kNone;
  function.source = "ember rie";

  config::Config config;
  config.file = "ember rie";
  config.node.listen_host = address->host;
  config.node.listen_port = address->port;
  config.node.state_dir = state_dir;
  config.node.isolation = function.isolation;
  // Memory is not what limits an emulator's runtimes (aws-lambda-rie enforces none): the
  // concurrency limit is.
  config.node.memory_budget_mb = std::uint64_t{*memory} * *concurrency;
  config.node.max_workers = *concurrency;
  // aws-lambda-rie gives a runtime 2 s to end after SIGTERM.
  config.node.shutdown_grace = std::chrono::seconds(2);
  config.functions.push_back(std::move(function));
  return config;
}

// The state directory, made; a temporary one (removed by the caller) unless --state-dir.
std::optional<fs::path> make_state_dir(const RieArgs& args) {
  std::error_code ec;
  if (!args.state_dir.empty()) {
    const fs::path dir = fs::absolute(args.state_dir);
    fs::create_directories(dir / "logs", ec);
    if (ec) {
      std::cerr << "ember rie: --state-dir " << dir.string() << ": " << ec.message() << "\n";
      return std::nullopt;
    }
    return dir;
  }
  std::string pattern = (fs::temp_directory_path(ec) / "ember-rie-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "ember rie: cannot make a temporary state directory " << pattern << ": "
              << std::system_category().message(errno) << "\n";
    return std::nullopt;
  }
  fs::create_directories(fs::path(pattern) / "logs", ec);
  return fs::path(pattern);
}

// Removes the temporary state directory however the command returns.
class TemporaryDir {
 public:
  explicit TemporaryDir(fs::path dir) : dir_(std::move(dir)) {}
  TemporaryDir(const TemporaryDir&) = delete;
  TemporaryDir& operator=(const TemporaryDir&) = delete;
  TemporaryDir(TemporaryDir&&) = delete;
  TemporaryDir& operator=(TemporaryDir&&) = delete;
  ~TemporaryDir() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

 private:
  fs::path dir_;
};

// The runtime's output as it wrote it: aws-lambda-rie prints it unprefixed.
void echo_raw(std::string_view /*function*/, std::string_view lines) {
  std::fwrite(lines.data(), 1, lines.size(), stdout);
}

}  // namespace

int rie_command(const std::vector<std::string>& args) {
  auto parsed = parse_rie_args(args);
  if (!parsed) return 2;
  if (parsed->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string level =
      parsed->log_level.empty() ? env_or("LOG_LEVEL", "info") : parsed->log_level;
  if (!valid_log_level(level)) {
    std::cerr << "ember rie: --log-level '" << level
              << "' must be trace, debug, info, warn, error, fatal or panic\n";
    return 2;
  }
  int ready_fd = -1;
  if (!parsed->ready_fd.empty()) {
    const auto& text = parsed->ready_fd;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ready_fd);
    if (ec != std::errc{} || end != text.data() + text.size() || ready_fd < 0) {
      std::cerr << "ember rie: --ready-fd '" << text << "' is not a descriptor number\n";
      return 2;
    }
  }
  auto launch = choose_launch(parsed->positionals);
  if (!launch) return 2;
  auto state_dir = make_state_dir(*parsed);
  if (!state_dir) return 2;
  const TemporaryDir temporary(parsed->state_dir.empty() ? *state_dir : fs::path());
  auto config = rie_config(*parsed, *launch, *state_dir);
  if (!config) return 2;

  NodeRun run;
  run.command = "ember rie";
  run.listen_origin = "--runtime-interface-emulator-address";
  run.ready_fd = ready_fd;
  run.echo = echo_raw;
  run.only_function = config->functions.front().name;
  run.announce = level == "trace" || level == "debug" || level == "info";
  return run_node(std::move(*config), run);
}

}  // namespace ember::cli
