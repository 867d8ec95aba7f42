// The Lambda control plane of a node: functions created, changed and deleted through the API
// (aws lambda create-function, ...), kept in STATE_DIR and served by the node's registry next
// to the functions of the config file, which it lists but does not change.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <string>

#include "ember/config/config.hpp"
#include "ember/runtime_api/control_api.hpp"
#include "function_store.hpp"

namespace ember::engine {

class Node;

// A package stored by its SHA-256.
struct StoredCode {
  std::string sha256_hex;
  std::uint64_t size = 0;
};

// A CreateFunction or UpdateFunctionCode checked, waiting for its package to be stored.
struct PendingCode {
  StoredFunction function;
  std::string base64_zip;
  bool create = false;
  bool dry_run = false;
};

// Runs on the node's engine thread, which owns it and its store (docs/design.md#threading:
// with shards it becomes the owner that posts each change to every shard).
class ControlPlane final : public runtime_api::ControlService {
 public:
  // Loads the stored functions into `node`; one that cannot be loaded is reported through
  // `warn` and left out.
  // Runs on `executor` (the node's); packages are unpacked on a thread of its own.
  ControlPlane(Node& node, boost::asio::any_io_executor executor,
               const std::function<void(const std::string&)>& warn);
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;
  ControlPlane(ControlPlane&&) = delete;
  ControlPlane& operator=(ControlPlane&&) = delete;
  ~ControlPlane() override;

  boost::asio::awaitable<runtime_api::ControlResult> control(
      runtime_api::ControlRequest request) override;

  // Whether the function `name` was made through this control plane (not by the file).
  [[nodiscard]] bool made(std::string_view name) const { return functions_.contains(name); }

  // Lambda's 75 GB of code storage, summed over the stored packages; tests lower it.
  void set_code_storage_limit(std::uint64_t bytes) { code_storage_limit_ = bytes; }

 private:
  using Result = runtime_api::ControlResult;
  using Request = runtime_api::ControlRequest;

  std::variant<PendingCode, Result> prepare_create(const Request& request);
  std::variant<PendingCode, Result> prepare_code_update(const Request& request);
  // Decodes, hashes and unpacks the zip on the file thread, so invocations go on meanwhile.
  boost::asio::awaitable<std::variant<StoredCode, Result>> store_code(std::string base64_zip);
  Result finish_code(PendingCode pending, std::variant<StoredCode, Result> code);
  [[nodiscard]] Result get(const Request& request, bool whole) const;
  [[nodiscard]] Result list(const Request& request) const;
  Result remove(const Request& request);
  Result update_configuration(const Request& request);
  Result put_concurrency(const Request& request);
  [[nodiscard]] Result get_concurrency(const Request& request) const;
  Result delete_concurrency(const Request& request);

  // The stored function the request names, or the error answer (404, a function of the
  // file: 409 when `changing`).
  // A function of the file when not `changing` gives an empty Result (no error, no body).
  [[nodiscard]] std::variant<const StoredFunction*, Result> find_api_function(
      const Request& request, bool changing) const;
  [[nodiscard]] const config::FunctionConfig* file_function(std::string_view name) const;
  [[nodiscard]] std::string arn(std::string_view name) const;
  [[nodiscard]] bool names_this_node(const runtime_api::FunctionRef& ref) const;
  [[nodiscard]] boost::json::object configuration(const StoredFunction& f) const;
  [[nodiscard]] boost::json::object configuration(const config::FunctionConfig& f) const;
  // Checks the settings as the node would load them, saves and (re)starts the function.
  std::optional<Result> commit(StoredFunction f);
  [[nodiscard]] std::variant<config::FunctionConfig, std::string> to_config(
      const StoredFunction& s) const;
  [[nodiscard]] std::uint64_t code_storage_used() const;

  Node& node_;
  boost::asio::any_io_executor executor_;
  const config::Config& file_;
  FunctionStore store_;
  std::map<std::string, StoredFunction, std::less<>> functions_;
  std::uint64_t code_storage_limit_ = 75ULL * 1024 * 1024 * 1024;
  // Last: joined first, before what its jobs use goes.
  boost::asio::thread_pool files_{1};
};

}  // namespace ember::engine
