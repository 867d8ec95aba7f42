// The Lambda control plane of a node: functions created, changed and deleted through the API
// (aws lambda create-function, ...), kept in STATE_DIR and served by the node's registry next
// to the functions of the config file, which it lists but does not change.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/engine/function_image.hpp"
#include "ember/image/image.hpp"
#include "ember/runtime_api/control_api.hpp"
#include "function_store.hpp"
#include "function_versions.hpp"

namespace ember::engine {

class Node;

// A package stored by its SHA-256, or an image unpacked and leased (by its manifest digest).
struct StoredCode {
  std::string sha256_hex;
  std::uint64_t size = 0;
  std::optional<LeasedImage> image;
};

// A CreateFunction or UpdateFunctionCode checked, waiting for its package to be stored.
struct PendingCode {
  StoredFunction function;
  std::string base64_zip;
  std::optional<image::ImageRef> image;  // PackageType Image: unpacked instead of a zip
  bool create = false;
  bool dry_run = false;
  bool publish = false;  // Publish: a version of the new code once it is stored
};

// A stored function as the node runs it: its settings and, for an image, its checked image.
struct Runnable {
  config::FunctionConfig config;
  std::optional<image::StoredImage> image;
};

// Where an invocation of NAME[:QUALIFIER] goes.
struct InvokeTarget {
  std::string pool_key;  // the registry's key: NAME or NAME:N
  std::string version;   // "$LATEST" or "N": X-Amz-Executed-Version
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
  // The pool an invocation of `name` with `qualifier` (none, $LATEST, a version or an alias)
  // runs in; an alias with a second version picks one by its weight. Nothing: no such
  // function, version or alias.
  [[nodiscard]] std::optional<InvokeTarget> route(std::string_view name,
                                                  const std::optional<std::string>& qualifier);

  // Lambda's 75 GB of code storage, summed over the stored packages; tests lower it.
  void set_code_storage_limit(std::uint64_t bytes) { code_storage_limit_ = bytes; }

 private:
  using Result = runtime_api::ControlResult;
  using Request = runtime_api::ControlRequest;

  std::variant<PendingCode, Result> prepare_create(const Request& request);
  std::variant<PendingCode, Result> prepare_code_update(const Request& request);
  // Decodes, hashes and unpacks the zip, or unpacks and leases the image, on the file thread,
  // so invocations go on meanwhile.
  boost::asio::awaitable<std::variant<StoredCode, Result>> store_code(PendingCode& pending);
  // The image store, made on first use (on the file thread, or while loading at start).
  image::ImageStore& image_store();
  // Makes sure the image of `f` (a stored image function or version) is loaded and leased:
  // from the image store by its digest, else unpacked again from its reference (which must
  // still name that digest). The problem, when it cannot be.
  std::optional<std::string> load_image(const StoredFunction& f);
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
  // `version`: "$LATEST" or a published one's number; `qualifier`: what FunctionArn ends in
  // (the version, or the alias it was asked through), none for $LATEST.
  [[nodiscard]] boost::json::object configuration(const StoredFunction& f,
                                                  const std::string& version = "$LATEST",
                                                  const std::string& qualifier = "") const;
  [[nodiscard]] boost::json::object configuration(const config::FunctionConfig& f) const;
  // Checks the settings as the node would load them, saves and (re)starts the function.
  std::optional<Result> commit(StoredFunction f);
  [[nodiscard]] std::variant<Runnable, std::string> to_config(const StoredFunction& s) const;
  [[nodiscard]] std::uint64_t code_storage_used() const;

  // Versions and aliases (control_versions.cpp).
  Result publish_version(const Request& request);
  // Publishes $LATEST of `name` (an API function): its version's configuration, 201.
  Result publish_latest(const std::string& name, const std::optional<std::string>& description);
  [[nodiscard]] Result list_versions(const Request& request) const;
  Result create_alias(const Request& request);
  Result update_alias(const Request& request);
  [[nodiscard]] Result get_alias(const Request& request) const;
  [[nodiscard]] Result list_aliases(const Request& request) const;
  Result delete_alias(const Request& request);
  // DeleteFunction with a version as Qualifier.
  Result delete_version(const std::string& name, const std::string& qualifier);
  // Forgets every version and alias of `name`, and their pools.
  void remove_versions(const std::string& name);
  // GetFunction(Configuration) of a version or alias: the configuration, or 404.
  [[nodiscard]] std::variant<boost::json::object, Result> qualified_configuration(
      const StoredFunction*& f, const Request& request) const;
  // Loads the stored versions of `name` into the node; `used` gains their packages.
  void load_versions(const std::string& name, std::set<std::string>& used,
                     std::vector<std::string>& problems);
  [[nodiscard]] std::optional<Result> save_versions(const std::string& name);
  // The version of `s` as the node runs it (its own pool, NAME:N).
  [[nodiscard]] std::variant<Runnable, std::string> to_config(const StoredFunction& s,
                                                              std::uint32_t version) const;
  [[nodiscard]] std::string arn(std::string_view name, std::string_view qualifier) const;
  [[nodiscard]] Result not_found(std::string_view name, std::string_view qualifier) const;

  Node& node_;
  boost::asio::any_io_executor executor_;
  const config::Config& file_;
  FunctionStore store_;
  std::map<std::string, StoredFunction, std::less<>> functions_;
  // Of API functions that have published a version or made an alias.
  std::map<std::string, FunctionVersions, std::less<>> versions_;
  std::uint64_t code_storage_limit_ = 75ULL * 1024 * 1024 * 1024;
  // The images of image functions and versions, by digest, as stored (unchecked); their leases
  // are kept until the node stops (a replaced function's workers may still run from one).
  std::map<std::string, image::StoredImage, std::less<>> images_;
  std::vector<image::ImageLease> leases_;
  std::optional<image::ImageStore> image_store_;
  // Last: joined first, before what its jobs use goes.
  boost::asio::thread_pool files_{1};
};

}  // namespace ember::engine
