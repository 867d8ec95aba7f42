#include "runtime_run.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <map>

namespace ember::cli::conform {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// ChildProcess waits for its exit on an io_context of its own, so a wait for "a call or the
// exit" looks at the exit between slices of waiting for a call.
constexpr milliseconds kExitCheckEvery{20};

std::string seconds_text(milliseconds limit) {
  const auto ms = limit.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::map<std::string, std::string> env_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& entry : env) {
    const auto eq = entry.find('=');
    out[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return out;
}

}  // namespace

std::string Waited::describe(milliseconds limit) const {
  if (exit_status) {
    if (*exit_status > 128) return "exited, killed by signal " + std::to_string(*exit_status - 128);
    return "exited with status " + std::to_string(*exit_status);
  }
  if (!call) return "made no call within " + seconds_text(limit);
  return "made another call";
}

RuntimeRun::RuntimeRun(const RunSpec& spec)
    : work_(io_.get_executor()), api_(std::make_shared<ConformApi>(io_.get_executor())) {
  asio::ip::tcp::acceptor acceptor(
      io_, asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  server_ = std::make_shared<runtime_api::HttpServer>(
      std::move(acceptor), runtime_api::make_runtime_api(api_), runtime_api::runtime_api_limits());
  server_->start();
  thread_ = std::thread([this] { io_.run(); });

  client::ChildOptions options;
  options.argv = spec.argv;
  options.env = env_map(spec.env);
  options.env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:" + std::to_string(port);
  options.replace_env = true;
  options.cwd = spec.cwd;
  options.output = spec.log;
  try {
    child_ = client::ChildProcess(options);
  } catch (...) {
    shut_down();
    throw;
  }
}

RuntimeRun::~RuntimeRun() {
  try {
    if (!exit_status_) child_.stop(milliseconds(0));
    shut_down();
  } catch (const std::exception&) {
    // Only a failed allocation or wait gets here; ChildProcess's own destructor still kills.
  }
}

void RuntimeRun::shut_down() {
  asio::post(io_, [this] {
    api_->close();
    server_->close();
    // What still runs (sessions ending) is destroyed with the io_context.
    io_.stop();
  });
  thread_.join();
}

Waited RuntimeRun::wait(milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  Waited waited;
  while (true) {
    if (auto call = api_->call_at(seen_, kExitCheckEvery)) {
      ++seen_;
      waited.call = std::move(call);
      return waited;
    }
    if (!exit_status_) exit_status_ = child_.wait_for(milliseconds(1));  // 0 would run no handler
    if (exit_status_) {
      // Calls it made just before it ended come first.
      if (auto call = api_->call_at(seen_, milliseconds(0))) {
        ++seen_;
        waited.call = std::move(call);
        return waited;
      }
      waited.exit_status = exit_status_;
      return waited;
    }
    if (std::chrono::steady_clock::now() >= until) return waited;
  }
}

int RuntimeRun::terminate(milliseconds grace) {
  if (!exit_status_) exit_status_ = child_.stop(grace);
  return *exit_status_;
}

}  // namespace ember::cli::conform
