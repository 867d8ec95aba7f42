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
#include "control_images.hpp"
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

// An image function's own settings: ImageConfig (replaced whole when given); no Runtime or
// Handler, which the image's entrypoint and command take the place of.
std::optional<std::string> apply_image_settings(const boost::json::object& body,
                                                StoredFunction& f) {
  for (const char* key : {"Runtime", "Handler"}) {
    const auto* v = body.if_contains(key);
    if (v != nullptr && !v->is_null() && !(v->is_string() && v->as_string().empty())) {
      return std::string(key) +
             " is not for PackageType Image: the image's entrypoint and command say what "
             "runs (change them with ImageConfig)";
    }
  }
  if (const auto* v = body.if_contains("ImageConfig")) {
    auto overrides = parse_image_config(*v);
    if (auto* why = std::get_if<std::string>(&overrides)) return *why;
    f.image_config = std::get<config::ImageOverrides>(std::move(overrides));
  }
  return std::nullopt;
}

// What ember cannot honour is refused rather than silently dropped.
std::optional<std::string> unsupported_setting(const boost::json::object& body,
                                               const StoredFunction& f) {
  for (const std::string_view key : {"Layers", "VpcConfig", "FileSystemConfigs", "ImageConfig",
                                     "KMSKeyArn", "SnapStart", "DeadLetterConfig"}) {
    const auto* v = body.if_contains(key);
    const bool empty = v == nullptr || v->is_null() || (v->is_array() && v->as_array().empty()) ||
                       (v->is_object() && v->as_object().empty());
    if (empty) continue;
    if (key != "ImageConfig") {
      return std::string(key) + " is not supported by ember's control plane";
    }
    if (!f.is_image()) return std::string("ImageConfig is only for PackageType Image");
  }
  return std::nullopt;
}

// Applies the settings CreateFunction and UpdateFunctionConfiguration share.
std::optional<std::string> apply_settings(const boost::json::object& body, StoredFunction& f) {
  Fields fields(body);
  if (f.is_image()) {
    if (auto why = apply_image_settings(body, f)) return why;
  }
  if (auto v = fields.string("Runtime")) f.runtime = *v;
  if (auto v = fields.string("Handler")) f.handler = *v;
  if (auto v = fields.string("Description")) f.description = *v;
  if (auto v = fields.string("Role")) f.role = *v;
  if (auto v = fields.number("MemorySize", 128, 10240)) f.memory_mb = *v;
  if (auto v = fields.number("Timeout", 1, 900)) f.timeout_s = *v;
  if (auto v = fields.environment()) f.environment = std::move(*v);
  if (f.description.size() > 256) return "Description is longer than 256 characters";
  if (fields.problem()) return fields.problem();
  return unsupported_setting(body, f);
}

bool dry_run(const boost::json::object& body) {
  const auto* v = body.if_contains("DryRun");
  return v != nullptr && v->is_bool() && v->as_bool();
}

bool publish(const boost::json::object& body) {
  const auto* v = body.if_contains("Publish");
  return v != nullptr && v->is_bool() && v->as_bool();
}

// CreateFunction of PackageType Image: Code.ImageUri and the settings, checked; the image is
// unpacked after.
std::variant<PendingCode, ControlResult> prepare_image_create(const boost::json::object& body,
                                                              const boost::json::object* code,
                                                              StoredFunction f) {
  const auto* uri = code != nullptr ? code->if_contains("ImageUri") : nullptr;
  if (uri == nullptr || !uri->is_string()) {
    return invalid(
        "Code.ImageUri is required for PackageType Image (aws lambda create-function "
        "--package-type Image --code ImageUri=oci:/DIR:TAG)");
  }
  if (code->contains("ZipFile")) {
    return invalid("Code.ZipFile is not for PackageType Image; give Code.ImageUri only");
  }
  auto parsed_uri = parse_image_uri(std::string(uri->as_string()));
  if (auto* why = std::get_if<std::string>(&parsed_uri)) return invalid(*why);
  auto image_ref = std::get<image::ImageRef>(std::move(parsed_uri));
  f.image_uri = image_ref.to_string();
  if (auto why = apply_settings(body, f)) return invalid(*why);
  return PendingCode{std::move(f), {}, std::move(image_ref), true, false, publish(body)};
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
    if (auto why = load_image(f)) {
      problems.push_back("function " + f.name + ": " + *why);
      continue;
    }
    auto made = to_config(f);
    if (auto* why = std::get_if<std::string>(&made)) {
      problems.push_back("function " + f.name + ": " + *why);
      used.insert(f.code_sha256_hex);
      continue;
    }
    auto& runnable = std::get<Runnable>(made);
    node_.put_function(std::move(runnable.config), std::move(runnable.image));
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
      auto stored = co_await store_code(code);
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

std::variant<Runnable, std::string> ControlPlane::to_config(const StoredFunction& s,
                                                            std::uint32_t version) const {
  auto made = to_config(s);
  if (auto* r = std::get_if<Runnable>(&made)) {
    auto& f = r->config;
    f.version = std::to_string(version);
    f.source = "control plane, version " + f.version + " (" +
               (s.is_image() ? s.image_uri + " sha256:" + s.code_sha256_hex
                             : store_.code_dir(s.code_sha256_hex).string()) +
               ")";
  }
  return made;
}

std::variant<Runnable, std::string> ControlPlane::to_config(const StoredFunction& s) const {
  config::FunctionConfig f;
  f.name = s.name;
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
  if (s.is_image()) {
    f.runtime_kind = config::RuntimeKind::kImage;
    f.image = s.image_uri;
    f.image_config = s.image_config;
    f.source = "control plane (" + s.image_uri + " sha256:" + s.code_sha256_hex + ")";
    if (f.isolation == config::Isolation::kNone) {
      return std::string(
          "an image function needs node.isolation native or oci: the image is the sandbox's "
          "root, which a plain process (isolation: none) does not have");
    }
    const auto it = images_.find("sha256:" + s.code_sha256_hex);
    if (it == images_.end()) return "its image sha256:" + s.code_sha256_hex + " is not loaded";
    image::StoredImage stored = it->second;
    try {
      check_image_launch(stored, f.image_config, file_.node);
    } catch (const image::ImageError& e) {
      return "ImageUri " + s.image_uri + ": " + e.what();
    }
    return Runnable{std::move(f), std::move(stored)};
  }
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
  f.source = "control plane (" + store_.code_dir(s.code_sha256_hex).string() + ")";
  return Runnable{std::move(f), std::nullopt};
}

boost::json::object ControlPlane::configuration(const StoredFunction& f, const std::string& version,
                                                const std::string& qualifier) const {
  boost::json::object o;
  o["FunctionName"] = f.name;
  o["FunctionArn"] = arn(f.name, qualifier);
  if (!f.is_image()) {
    o["Runtime"] = f.runtime;
    o["Handler"] = f.handler;
  }
  o["Role"] = f.role;
  o["CodeSize"] = f.code_size;
  o["Description"] = f.description;
  o["Timeout"] = f.timeout_s;
  o["MemorySize"] = f.memory_mb;
  o["LastModified"] = f.last_modified;
  // Of an image, Lambda's CodeSha256 is its manifest digest in hex.
  o["CodeSha256"] = f.is_image() ? f.code_sha256_hex
                                 : runtime_api::base64_encode(raw_from_hex(f.code_sha256_hex));
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
  o["PackageType"] = f.is_image() ? "Image" : "Zip";
  if (f.is_image() && !(f.image_config == config::ImageOverrides{})) {
    o["ImageConfigResponse"] =
        boost::json::object{{"ImageConfig", image_config_json(f.image_config)}};
  }
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
  return StoredCode{hex, zip->size(), std::nullopt};
}

}  // namespace

image::ImageStore& ControlPlane::image_store() {
  if (!image_store_) image_store_.emplace(node_image_store(file_.node));
  return *image_store_;
}

std::optional<std::string> ControlPlane::load_image(const StoredFunction& f) {
  if (!f.is_image()) return std::nullopt;
  const std::string digest = "sha256:" + f.code_sha256_hex;
  if (images_.contains(digest)) return std::nullopt;
  try {
    auto& store = image_store();
    if (auto stored = store.find(digest)) {
      auto lease = store.lease(digest);
      leases_.push_back(std::move(lease));
      images_.emplace(digest, std::move(*stored));
      return std::nullopt;
    }
    // Pruned while the node was down: unpacked again when its reference still names it.
    auto leased = lease_image(store, image::parse_image_ref(f.image_uri, "/"));
    if (leased.stored.digest != digest) {
      return "its image " + digest + " is no longer in " +
             (file_.node.state_dir / "images").string() + " and " + f.image_uri + " now names " +
             leased.stored.digest + "; update-function-code --image-uri to use it";
    }
    leases_.push_back(std::move(leased.lease));
    images_.emplace(digest, std::move(leased.stored));
    return std::nullopt;
  } catch (const std::exception& e) {
    return "its image " + digest + " is not in the store and cannot be unpacked again: " + e.what();
  }
}

namespace {

// On the control plane's file thread: unpacks (or finds) and leases an image function's image
// in the store `get_store()` gives (made on first use, which may fail too).
template <class GetStore>
std::variant<StoredCode, ControlResult> store_image(GetStore get_store,
                                                    const image::ImageRef& ref) {
  try {
    auto leased = lease_image(get_store(), ref);
    std::string hex = leased.stored.digest.substr(leased.stored.digest.find(':') + 1);
    return StoredCode{std::move(hex), 0, std::move(leased)};
  } catch (const std::exception& e) {
    // The store's messages start with the reference already.
    std::string message = e.what();
    if (!message.starts_with(ref.to_string())) message = ref.to_string() + ": " + message;
    return invalid("ImageUri " + message);
  }
}

}  // namespace

boost::asio::awaitable<std::variant<StoredCode, ControlResult>> ControlPlane::store_code(
    PendingCode& pending) {
  using Outcome = std::variant<StoredCode, ControlResult>;
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code, Outcome)>;
  auto channel = std::make_shared<Channel>(executor_, 1);
  boost::asio::post(files_, [this, channel, zip = std::move(pending.base64_zip),
                             ref = pending.image, used = code_storage_used(),
                             limit = code_storage_limit_]() {
    auto outcome = ref ? store_image([this]() -> image::ImageStore& { return image_store(); }, *ref)
                       : store_package(store_, zip, used, limit);
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
  auto& runnable = std::get<Runnable>(made);
  f.last_modified = now_text();
  f.revision_id = runtime_api::new_request_id();
  if (auto failed = store_.save(f)) {
    return ControlResult::fail(500, "ServiceException", "Storing the function failed: " + *failed);
  }
  node_.put_function(std::move(runnable.config), std::move(runnable.image));
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
  const auto package_type = fields.string("PackageType").value_or("Zip");
  if (fields.problem()) return invalid(*fields.problem());
  if (package_type != "Zip" && package_type != "Image") {
    return invalid("PackageType " + package_type + " must be Zip or Image");
  }
  StoredFunction f;
  f.name = ref.name;
  const auto* code = body.if_contains("Code");
  const auto* code_fields = code != nullptr && code->is_object() ? &code->as_object() : nullptr;
  if (package_type == "Image") return prepare_image_create(body, code_fields, std::move(f));
  if (auto why = apply_settings(body, f)) return invalid(*why);
  if (f.runtime.empty()) return invalid("Runtime is required for a Zip package");
  const auto* zip = code_fields != nullptr ? code_fields->if_contains("ZipFile") : nullptr;
  if (zip == nullptr || !zip->is_string()) {
    return invalid(
        "Code.ZipFile is required (aws lambda create-function --zip-file fileb://f.zip), or "
        "Code.ImageUri with PackageType Image; ember takes no S3 location");
  }
  return PendingCode{std::move(f), std::string(zip->as_string()), std::nullopt, true, false,
                     publish(body)};
}

ControlResult ControlPlane::get(const Request& request, bool whole) const {
  auto found = find_api_function(request, false);
  boost::json::object config;
  std::optional<std::uint32_t> reserved;
  std::optional<boost::json::object> code;
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
    if (f->is_image()) {
      code = image_code(f->image_uri, "sha256:" + f->code_sha256_hex);
    } else {
      code = boost::json::object{
          {"RepositoryType", "S3"},
          {"Location", "file://" + store_.zip_path(f->code_sha256_hex).string()}};
    }
  }
  if (!whole) return ok(std::move(config));
  boost::json::object out;
  out["Configuration"] = std::move(config);
  if (code) out["Code"] = std::move(*code);
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
  const auto* uri = request.body.if_contains("ImageUri");
  if (f.is_image()) {
    if (uri == nullptr || !uri->is_string() || (zip != nullptr && !zip->is_null())) {
      return invalid(
          "Please provide ImageUri when updating a function with packageType Image "
          "(aws lambda update-function-code --image-uri oci:/DIR:TAG)");
    }
    auto parsed_uri = parse_image_uri(std::string(uri->as_string()));
    if (auto* why = std::get_if<std::string>(&parsed_uri)) return invalid(*why);
    auto image_ref = std::get<image::ImageRef>(std::move(parsed_uri));
    f.image_uri = image_ref.to_string();
    return PendingCode{std::move(f),         {}, std::move(image_ref), false, dry_run(request.body),
                       publish(request.body)};
  }
  if (uri != nullptr && !uri->is_null()) {
    return invalid("Please don't provide ImageUri when updating a function with packageType Zip");
  }
  if (zip == nullptr || !zip->is_string()) {
    return invalid(
        "ZipFile is required (aws lambda update-function-code --zip-file fileb://f.zip); "
        "ember takes no S3 location");
  }
  return PendingCode{std::move(f), std::string(zip->as_string()), std::nullopt,
                     false,        dry_run(request.body),         publish(request.body)};
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
  auto& stored = std::get<StoredCode>(code);
  f.code_sha256_hex = stored.sha256_hex;
  f.code_size = stored.size;
  if (stored.image) {
    // Kept leased until the node stops, also when the change below is refused or a dry run:
    // `ember image prune` may remove it once no node runs.
    leases_.push_back(std::move(stored.image->lease));
    images_.insert_or_assign(stored.image->stored.digest, std::move(stored.image->stored));
  }
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
