#include "control_plane.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

#include "control_fields.hpp"
#include "ember/engine/node.hpp"
#include "ember/image/zip_archive.hpp"
#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/hex.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

using runtime_api::ControlOp;
using runtime_api::ControlResult;

namespace {

// Lambda's limit on a zip uploaded in the request (the base64 body is bounded before).
constexpr std::uint64_t kMaxZippedBytes = 52428800;
// ember's reserved_concurrency when the API sets none (the config file's default).
std::uint32_t default_concurrency() { return config::FunctionConfig{}.reserved_concurrency; }

std::string raw_from_hex(std::string_view hex) {
  std::string raw;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return raw;
}

// Applies the settings CreateFunction and UpdateFunctionConfiguration share.
std::optional<std::string> apply_settings(const boost::json::object& body, StoredFunction& f) {
  Fields fields(body);
  if (auto v = fields.string("Runtime")) f.runtime = *v;
  if (auto v = fields.string("Handler")) f.handler = *v;
  if (auto v = fields.string("Description")) f.description = *v;
  if (auto v = fields.string("Role")) f.role = *v;
  if (auto v = fields.number("MemorySize", 128, 10240)) f.memory_mb = *v;
  if (auto v = fields.number("Timeout", 1, 900)) f.timeout_s = *v;
  if (auto v = fields.environment()) f.environment = std::move(*v);
  if (f.description.size() > 256) return "Description is longer than 256 characters";
  if (fields.problem()) return fields.problem();
  // What ember cannot honour is refused rather than silently dropped.
  for (const char* key : {"Layers", "VpcConfig", "FileSystemConfigs", "ImageConfig", "KMSKeyArn",
                          "SnapStart", "DeadLetterConfig"}) {
    const auto* v = body.if_contains(key);
    const bool empty = v == nullptr || v->is_null() || (v->is_array() && v->as_array().empty()) ||
                       (v->is_object() && v->as_object().empty());
    if (!empty) return std::string(key) + " is not supported by ember's control plane";
  }
  return std::nullopt;
}

bool dry_run(const boost::json::object& body) {
  const auto* v = body.if_contains("DryRun");
  return v != nullptr && v->is_bool() && v->as_bool();
}

bool publish(const boost::json::object& body) {
  const auto* v = body.if_contains("Publish");
  return v != nullptr && v->is_bool() && v->as_bool();
}

}  // namespace

ControlPlane::ControlPlane(Node& node, boost::asio::any_io_executor executor,
                           const std::function<void(const std::string&)>& warn)
    : node_(node),
      executor_(std::move(executor)),
      file_(node.config()),
      store_(node.config().node.state_dir) {
  std::vector<std::string> problems;
  std::set<std::string> used;
  for (auto& f : store_.load(problems)) {
    if (file_function(f.name) != nullptr) {
      problems.push_back("function " + f.name +
                         " is stored from the control plane but the config file now defines it; "
                         "the file's is used");
      used.insert(f.code_sha256_hex);
      continue;
    }
    auto made = to_config(f);
    if (auto* why = std::get_if<std::string>(&made)) {
      problems.push_back("function " + f.name + ": " + *why);
      used.insert(f.code_sha256_hex);
      continue;
    }
    node_.put_function(std::get<config::FunctionConfig>(std::move(made)));
    used.insert(f.code_sha256_hex);
    std::string name = f.name;
    functions_.emplace(name, std::move(f));
    load_versions(name, used, problems);
  }
  store_.keep_only(used);
  for (const auto& problem : problems) warn("ember: control plane: " + problem);
}

// The file thread stops (joined by files_) before the store and the executor go.
ControlPlane::~ControlPlane() = default;

const config::FunctionConfig* ControlPlane::file_function(std::string_view name) const {
  for (const auto& f : file_.functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string ControlPlane::arn(std::string_view name) const {
  return runtime_api::function_arn(file_.node.region, file_.node.account_id, name);
}

std::string ControlPlane::arn(std::string_view name, std::string_view qualifier) const {
  if (qualifier.empty() || qualifier == "$LATEST") return arn(name);
  return runtime_api::function_arn(file_.node.region, file_.node.account_id, name,
                                   std::string(qualifier));
}

ControlResult ControlPlane::not_found(std::string_view name, std::string_view qualifier) const {
  return ControlResult::fail(404, "ResourceNotFoundException",
                             "Function not found: " + arn(name, qualifier));
}

bool ControlPlane::names_this_node(const runtime_api::FunctionRef& ref) const {
  return (!ref.region || *ref.region == file_.node.region) &&
         (!ref.account_id || *ref.account_id == file_.node.account_id);
}

namespace {

// The operations whose FunctionName (or ?Qualifier=) may name a version or an alias.
bool takes_qualifier(ControlOp op) {
  return op == ControlOp::kGetFunction || op == ControlOp::kGetFunctionConfiguration ||
         op == ControlOp::kDeleteFunction;
}

}  // namespace

boost::asio::awaitable<ControlResult> ControlPlane::control(Request request) {
  switch (request.op) {
    case ControlOp::kCreateFunction:
    case ControlOp::kUpdateFunctionCode: {
      auto pending = request.op == ControlOp::kCreateFunction ? prepare_create(request)
                                                              : prepare_code_update(request);
      if (auto* refused = std::get_if<ControlResult>(&pending)) co_return std::move(*refused);
      auto& code = std::get<PendingCode>(pending);
      std::string zip = std::move(code.base64_zip);
      auto stored = co_await store_code(std::move(zip));
      co_return finish_code(std::move(code), std::move(stored));
    }
    case ControlOp::kGetFunction:
      co_return get(request, true);
    case ControlOp::kGetFunctionConfiguration:
      co_return get(request, false);
    case ControlOp::kListFunctions:
      co_return list(request);
    case ControlOp::kDeleteFunction:
      co_return remove(request);
    case ControlOp::kUpdateFunctionConfiguration:
      co_return update_configuration(request);
    case ControlOp::kPutFunctionConcurrency:
      co_return put_concurrency(request);
    case ControlOp::kGetFunctionConcurrency:
      co_return get_concurrency(request);
    case ControlOp::kDeleteFunctionConcurrency:
      co_return delete_concurrency(request);
    case ControlOp::kPublishVersion:
      co_return publish_version(request);
    case ControlOp::kListVersionsByFunction:
      co_return list_versions(request);
    case ControlOp::kCreateAlias:
      co_return create_alias(request);
    case ControlOp::kListAliases:
      co_return list_aliases(request);
    case ControlOp::kGetAlias:
      co_return get_alias(request);
    case ControlOp::kUpdateAlias:
      co_return update_alias(request);
    case ControlOp::kDeleteAlias:
      co_return delete_alias(request);
  }
  co_return ControlResult::fail(500, "ServiceException", "unknown operation");
}

std::variant<config::FunctionConfig, std::string> ControlPlane::to_config(
    const StoredFunction& s, std::uint32_t version) const {
  auto made = to_config(s);
  if (auto* f = std::get_if<config::FunctionConfig>(&made)) {
    f->version = std::to_string(version);
    f->source = "control plane, version " + f->version + " (" +
                store_.code_dir(s.code_sha256_hex).string() + ")";
  }
  return made;
}

std::variant<config::FunctionConfig, std::string> ControlPlane::to_config(
    const StoredFunction& s) const {
  config::FunctionConfig f;
  f.name = s.name;
  if (auto why = config::set_runtime(f, s.runtime)) return "Runtime: " + *why;
  f.handler = s.handler;
  if (f.runtime_kind == config::RuntimeKind::kPython) {
    const auto dot = f.handler.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == f.handler.size()) {
      return "Handler '" + f.handler +
             "' must be module.function (like lambda_function.lambda_handler) for " + s.runtime;
    }
  }
  f.code_dir = store_.code_dir(s.code_sha256_hex);
  if (f.runtime_kind == config::RuntimeKind::kProvided &&
      ::access((f.code_dir / "bootstrap").c_str(), X_OK) != 0) {
    return "the deployment package has no executable bootstrap at its top, which runtime " +
           s.runtime + " starts";
  }
  f.memory_mb = s.memory_mb;
  f.timeout_s = s.timeout_s;
  f.environment = s.environment;
  f.reserved_concurrency = s.reserved_concurrency.value_or(default_concurrency());
  f.keep_alive = file_.node.keep_alive;
  f.isolation = file_.node.isolation;
  f.log_bytes_per_invocation = file_.node.log_bytes_per_invocation;
  f.log_bytes_per_second = file_.node.log_bytes_per_second;
  f.log_file_bytes = file_.node.log_file_bytes;
  f.log_files = file_.node.log_files;
  f.source = "control plane (" + store_.code_dir(s.code_sha256_hex).string() + ")";
  return f;
}

boost::json::object ControlPlane::configuration(const StoredFunction& f, const std::string& version,
                                                const std::string& qualifier) const {
  boost::json::object o;
  o["FunctionName"] = f.name;
  o["FunctionArn"] = arn(f.name, qualifier);
  o["Runtime"] = f.runtime;
  o["Role"] = f.role;
  o["Handler"] = f.handler;
  o["CodeSize"] = f.code_size;
  o["Description"] = f.description;
  o["Timeout"] = f.timeout_s;
  o["MemorySize"] = f.memory_mb;
  o["LastModified"] = f.last_modified;
  o["CodeSha256"] = runtime_api::base64_encode(raw_from_hex(f.code_sha256_hex));
  o["Version"] = version;
  if (!f.environment.empty()) {
    boost::json::object vars;
    for (const auto& [k, v] : f.environment) vars[k] = v;
    o["Environment"] = boost::json::object{{"Variables", std::move(vars)}};
  }
  o["TracingConfig"] = boost::json::object{{"Mode", "PassThrough"}};
  o["RevisionId"] = f.revision_id;
  o["State"] = "Active";
  o["LastUpdateStatus"] = "Successful";
  o["PackageType"] = "Zip";
  o["Architectures"] = boost::json::array{"x86_64"};
  o["EphemeralStorage"] = boost::json::object{{"Size", 512}};
  return o;
}

boost::json::object ControlPlane::configuration(const config::FunctionConfig& f) const {
  boost::json::object o;
  o["FunctionName"] = f.name;
  o["FunctionArn"] = arn(f.name);
  if (!f.runtime.empty()) o["Runtime"] = f.runtime;
  if (!f.handler.empty()) o["Handler"] = f.handler;
  o["CodeSize"] = 0;
  o["Description"] = "Managed by the config file " + file_.file.string() + " (" + f.source + ")";
  o["Timeout"] = f.timeout_s;
  o["MemorySize"] = f.memory_mb;
  o["CodeSha256"] = "";
  o["Version"] = "$LATEST";
  if (!f.environment.empty()) {
    boost::json::object vars;
    for (const auto& [k, v] : f.environment) vars[k] = v;
    o["Environment"] = boost::json::object{{"Variables", std::move(vars)}};
  }
  o["State"] = "Active";
  o["LastUpdateStatus"] = "Successful";
  o["PackageType"] = f.image.empty() ? "Zip" : "Image";
  o["Architectures"] = boost::json::array{"x86_64"};
  o["EphemeralStorage"] = boost::json::object{{"Size", f.ephemeral_storage_mb}};
  return o;
}

std::variant<const StoredFunction*, ControlResult> ControlPlane::find_api_function(
    const Request& request, bool changing) const {
  const auto& ref = request.function;
  const auto it = functions_.find(ref.name);
  const bool qualified = ref.qualifier && *ref.qualifier != "$LATEST";
  if (names_this_node(ref) && (!qualified || takes_qualifier(request.op))) {
    if (it != functions_.end()) return &it->second;
    if (const auto* f = file_function(ref.name)) {
      if (!changing) return ControlResult{};  // the caller answers from the file's function
      return ControlResult::fail(409, "ResourceConflictException",
                                 "Function " + f->name + " is managed by the config file " +
                                     file_.file.string() + " (" + f->source +
                                     "); change it there, not through the API");
    }
  }
  return ControlResult::fail(
      404, "ResourceNotFoundException",
      "Function not found: " + runtime_api::function_arn(file_.node.region, file_.node.account_id,
                                                         ref.name, ref.qualifier));
}

namespace {

// On the control plane's file thread: decodes, hashes, stores and unpacks a package.
std::variant<StoredCode, ControlResult> store_package(FunctionStore& store,
                                                      const std::string& base64_zip,
                                                      std::uint64_t storage_used,
                                                      std::uint64_t storage_limit) {
  auto zip = runtime_api::base64_decode(base64_zip);
  if (!zip) return invalid("Code.ZipFile is not valid base64");
  if (zip->size() > kMaxZippedBytes) {
    return ControlResult::fail(
        413, "RequestEntityTooLargeException",
        "Zipped size must be smaller than " + std::to_string(kMaxZippedBytes) + " bytes");
  }
  const std::string hex = runtime_api::hex_encode(image::sha256_raw(*zip));
  const bool known = std::filesystem::exists(store.zip_path(hex));
  if (!known && storage_used + zip->size() > storage_limit) {
    return ControlResult::fail(400, "CodeStorageExceededException",
                               "Code storage limit exceeded: the node's packages take " +
                                   std::to_string(storage_used) + " bytes, the limit is " +
                                   std::to_string(storage_limit));
  }
  auto stored = store.store_code(*zip, hex, image::ZipLimits{});
  if (auto* why = std::get_if<std::string>(&stored)) {
    return invalid("Could not unpack the deployment package: " + *why);
  }
  return StoredCode{hex, zip->size()};
}

}  // namespace

boost::asio::awaitable<std::variant<StoredCode, ControlResult>> ControlPlane::store_code(
    std::string base64_zip) {
  using Outcome = std::variant<StoredCode, ControlResult>;
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code, Outcome)>;
  auto channel = std::make_shared<Channel>(executor_, 1);
  boost::asio::post(files_, [this, channel, zip = std::move(base64_zip), used = code_storage_used(),
                             limit = code_storage_limit_]() {
    auto outcome = store_package(store_, zip, used, limit);
    // The channel belongs to the engine's thread: the answer is handed over there.
    boost::asio::post(executor_, [channel, outcome = std::move(outcome)]() mutable {
      channel->try_send(boost::system::error_code{}, std::move(outcome));
    });
  });
  auto [ec, outcome] =
      co_await channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) {
    co_return ControlResult::fail(500, "ServiceException", "Storing the code: " + ec.message());
  }
  co_return std::move(outcome);
}

std::uint64_t ControlPlane::code_storage_used() const {
  std::set<std::string> counted;
  std::uint64_t total = 0;
  for (const auto& [name, f] : functions_) {
    if (counted.insert(f.code_sha256_hex).second) total += f.code_size;
  }
  for (const auto& [name, v] : versions_) {
    for (const auto& [n, f] : v.versions) {
      if (counted.insert(f.code_sha256_hex).second) total += f.code_size;
    }
  }
  return total;
}

std::optional<ControlResult> ControlPlane::commit(StoredFunction f) {
  auto made = to_config(f);
  if (auto* why = std::get_if<std::string>(&made)) return invalid(*why);
  f.last_modified = now_text();
  f.revision_id = runtime_api::new_request_id();
  if (auto failed = store_.save(f)) {
    return ControlResult::fail(500, "ServiceException", "Storing the function failed: " + *failed);
  }
  node_.put_function(std::get<config::FunctionConfig>(std::move(made)));
  std::string name = f.name;
  functions_.insert_or_assign(std::move(name), std::move(f));
  return std::nullopt;
}

std::variant<PendingCode, ControlResult> ControlPlane::prepare_create(const Request& request) {
  const auto& body = request.body;
  Fields fields(body);
  const auto name_text = fields.string("FunctionName");
  if (fields.problem()) return invalid(*fields.problem());
  if (!name_text) return invalid("FunctionName is required");
  auto parsed = runtime_api::parse_function_ref(*name_text);
  if (auto* why = std::get_if<std::string>(&parsed)) return invalid("FunctionName: " + *why);
  const auto ref = std::get<runtime_api::FunctionRef>(parsed);
  if (ref.qualifier || !names_this_node(ref)) {
    return invalid("FunctionName " + *name_text + " must name a function of this node without " +
                   "a qualifier");
  }
  if (functions_.contains(ref.name) || file_function(ref.name) != nullptr) {
    return ControlResult::fail(
        409, "ResourceConflictException",
        "Function already exist: " + ref.name +
            (file_function(ref.name) != nullptr
                 ? " (defined in the config file " + file_.file.string() + ")"
                 : std::string()));
  }
  if (const auto* type = body.if_contains("PackageType");
      type != nullptr && type->is_string() && type->as_string() != "Zip") {
    return invalid("PackageType " + std::string(type->as_string()) +
                   " is not supported by ember's control plane yet; use Zip");
  }
  StoredFunction f;
  f.name = ref.name;
  if (auto why = apply_settings(body, f)) return invalid(*why);
  if (f.runtime.empty()) return invalid("Runtime is required for a Zip package");
  const auto* code = body.if_contains("Code");
  const auto* zip =
      code != nullptr && code->is_object() ? code->as_object().if_contains("ZipFile") : nullptr;
  if (zip == nullptr || !zip->is_string()) {
    return invalid(
        "Code.ZipFile is required (aws lambda create-function --zip-file fileb://f.zip); "
        "ember takes no S3 location or image");
  }
  return PendingCode{std::move(f), std::string(zip->as_string()), true, false, publish(body)};
}

ControlResult ControlPlane::get(const Request& request, bool whole) const {
  auto found = find_api_function(request, false);
  boost::json::object config;
  std::optional<std::uint32_t> reserved;
  std::string location;
  const auto& qualifier = request.function.qualifier;
  if (auto* answer = std::get_if<ControlResult>(&found)) {
    if (answer->error) return *answer;
    // The file's functions have only $LATEST.
    if (qualifier && *qualifier != "$LATEST") return not_found(request.function.name, *qualifier);
    const auto* file = file_function(request.function.name);
    config = configuration(*file);
    reserved = file->reserved_concurrency;
  } else {
    const auto* f = std::get<const StoredFunction*>(found);
    reserved = f->reserved_concurrency;
    auto qualified = qualified_configuration(f, request);
    if (auto* refused = std::get_if<ControlResult>(&qualified)) return *refused;
    config = std::get<boost::json::object>(std::move(qualified));
    location = "file://" + store_.zip_path(f->code_sha256_hex).string();
  }
  if (!whole) return ok(std::move(config));
  boost::json::object out;
  out["Configuration"] = std::move(config);
  if (!location.empty()) {
    out["Code"] = boost::json::object{{"RepositoryType", "S3"}, {"Location", location}};
  }
  if (reserved) {
    out["Concurrency"] = boost::json::object{{"ReservedConcurrentExecutions", *reserved}};
  }
  return ok(std::move(out));
}

ControlResult ControlPlane::list(const Request& request) const {
  std::map<std::string, boost::json::object, std::less<>> all;
  for (const auto& f : file_.functions) all.emplace(f.name, configuration(f));
  for (const auto& [name, f] : functions_) all.emplace(name, configuration(f));
  const std::size_t page = request.max_items ? static_cast<std::size_t>(*request.max_items) : 50;
  auto it = request.marker.empty() ? all.begin() : all.upper_bound(request.marker);
  boost::json::array functions;
  for (; it != all.end() && functions.size() < page; ++it) functions.push_back(it->second);
  boost::json::object out;
  if (it != all.end()) out["NextMarker"] = std::prev(it)->first;
  out["Functions"] = std::move(functions);
  return ok(std::move(out));
}

ControlResult ControlPlane::remove(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  const std::string name = std::get<const StoredFunction*>(found)->name;
  const auto& qualifier = request.function.qualifier;
  if (qualifier && *qualifier != "$LATEST") return delete_version(name, *qualifier);
  remove_versions(name);
  store_.erase(name);
  functions_.erase(name);
  node_.remove_function(name);
  return no_content();
}

std::variant<PendingCode, ControlResult> ControlPlane::prepare_code_update(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  StoredFunction f = *std::get<const StoredFunction*>(found);
  if (auto refused = check_revision(request.body, f.revision_id)) return *refused;
  const auto* zip = request.body.if_contains("ZipFile");
  if (zip == nullptr || !zip->is_string()) {
    return invalid(
        "ZipFile is required (aws lambda update-function-code --zip-file fileb://f.zip); "
        "ember takes no S3 location or image");
  }
  return PendingCode{std::move(f), std::string(zip->as_string()), false, dry_run(request.body),
                     publish(request.body)};
}

ControlResult ControlPlane::finish_code(PendingCode pending,
                                        std::variant<StoredCode, ControlResult> code) {
  if (auto* refused = std::get_if<ControlResult>(&code)) return *refused;
  auto& f = pending.function;
  // The engine's thread served other calls while the code was stored.
  const bool exists = functions_.contains(f.name) || file_function(f.name) != nullptr;
  if (pending.create && exists) {
    return ControlResult::fail(409, "ResourceConflictException",
                               "Function already exist: " + f.name);
  }
  if (!pending.create && !functions_.contains(f.name)) {
    return ControlResult::fail(404, "ResourceNotFoundException",
                               "Function not found: " + arn(f.name));
  }
  const auto& stored = std::get<StoredCode>(code);
  f.code_sha256_hex = stored.sha256_hex;
  f.code_size = stored.size;
  if (pending.dry_run) return ok(configuration(f));
  if (auto refused = commit(f)) return *refused;
  if (pending.publish) {
    // Lambda answers with the version just published.
    auto published = publish_latest(f.name, std::nullopt);
    if (!published.error) published.status = pending.create ? 201 : 200;
    return published;
  }
  return ok(configuration(functions_.at(f.name)), pending.create ? 201 : 200);
}

ControlResult ControlPlane::update_configuration(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  StoredFunction f = *std::get<const StoredFunction*>(found);
  if (auto refused = check_revision(request.body, f.revision_id)) return *refused;
  if (auto why = apply_settings(request.body, f)) return invalid(*why);
  if (auto refused = commit(f)) return *refused;
  return ok(configuration(functions_.at(f.name)));
}

ControlResult ControlPlane::put_concurrency(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  StoredFunction f = *std::get<const StoredFunction*>(found);
  Fields fields(request.body);
  const auto n = fields.number("ReservedConcurrentExecutions", 0, file_.node.max_workers);
  if (fields.problem()) return invalid(*fields.problem() + " (node.max_workers)");
  if (!n) return invalid("ReservedConcurrentExecutions is required");
  f.reserved_concurrency = *n;
  if (auto refused = commit(f)) return *refused;
  return ok(boost::json::object{{"ReservedConcurrentExecutions", *n}});
}

ControlResult ControlPlane::get_concurrency(const Request& request) const {
  auto found = find_api_function(request, false);
  std::optional<std::uint32_t> reserved;
  if (auto* answer = std::get_if<ControlResult>(&found)) {
    if (answer->error) return *answer;
    reserved = file_function(request.function.name)->reserved_concurrency;
  } else {
    reserved = std::get<const StoredFunction*>(found)->reserved_concurrency;
  }
  boost::json::object out;
  if (reserved) out["ReservedConcurrentExecutions"] = *reserved;
  return ok(std::move(out));
}

ControlResult ControlPlane::delete_concurrency(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  StoredFunction f = *std::get<const StoredFunction*>(found);
  f.reserved_concurrency.reset();
  if (auto refused = commit(f)) return *refused;
  return no_content();
}

}  // namespace ember::engine
