// The Lambda control plane of a node: functions created, changed and deleted through the API
// (aws lambda create-function, ...), kept in STATE_DIR and served by the node's registry next
// to the functions of the config file, which it lists but does not change.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "ember/config/config.hpp"
#include "ember/runtime_api/control_api.hpp"
#include "function_store.hpp"

namespace ember::engine {

class Node;

// Runs on the node's engine thread, which owns it and its store (docs/design.md#threading:
// with shards it becomes the owner that posts each change to every shard).
class ControlPlane final : public runtime_api::ControlService {
 public:
  // Loads the stored functions into `node`; one that cannot be loaded is reported through
  // `warn` and left out.
  ControlPlane(Node& node, const std::function<void(const std::string&)>& warn);

  boost::asio::awaitable<runtime_api::ControlResult> control(
      runtime_api::ControlRequest request) override;

  // Lambda's 75 GB of code storage, summed over the stored packages; tests lower it.
  void set_code_storage_limit(std::uint64_t bytes) { code_storage_limit_ = bytes; }

 private:
  using Result = runtime_api::ControlResult;
  using Request = runtime_api::ControlRequest;

  Result create(const Request& request);
  Result get(const Request& request, bool whole) const;
  Result list(const Request& request) const;
  Result remove(const Request& request);
  Result update_code(const Request& request);
  Result update_configuration(const Request& request);
  Result put_concurrency(const Request& request);
  Result get_concurrency(const Request& request) const;
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
  // Unpacks and stores Code.ZipFile / ZipFile; sets the code fields of `f` or answers why not.
  std::optional<Result> take_code(std::string_view base64_zip, StoredFunction& f);
  // Checks the settings as the node would load them, saves and (re)starts the function.
  std::optional<Result> commit(StoredFunction f);
  [[nodiscard]] std::variant<config::FunctionConfig, std::string> to_config(
      const StoredFunction& f) const;
  [[nodiscard]] std::uint64_t code_storage_used() const;

  Node& node_;
  const config::Config& file_;
  FunctionStore store_;
  std::map<std::string, StoredFunction, std::less<>> functions_;
  std::uint64_t code_storage_limit_ = 75ULL * 1024 * 1024 * 1024;
};

}  // namespace ember::engine
