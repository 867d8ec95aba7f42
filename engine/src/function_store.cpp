#include "function_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <fstream>
#include <sstream>
#include <system_error>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> write_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path tmp = path.string() + ".tmp-" + runtime_api::new_request_id();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return "write " + tmp.string() + " failed";
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return "rename to " + path.string() + ": " + ec.message();
  }
  return std::nullopt;
}

std::vector<std::string> strings(const boost::json::value& v) {
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) out.emplace_back(item.as_string());
  return out;
}

}  // namespace

boost::json::object image_config_json(const config::ImageOverrides& c) {
  boost::json::object o;
  if (!c.entrypoint.empty()) {
    o["EntryPoint"] = boost::json::array(c.entrypoint.begin(), c.entrypoint.end());
  }
  if (!c.command.empty()) o["Command"] = boost::json::array(c.command.begin(), c.command.end());
  if (!c.working_directory.empty()) o["WorkingDirectory"] = c.working_directory;
  return o;
}

config::ImageOverrides image_config_from_json(const boost::json::object& o) {
  config::ImageOverrides c;
  if (const auto* v = o.if_contains("EntryPoint")) c.entrypoint = strings(*v);
  if (const auto* v = o.if_contains("Command")) c.command = strings(*v);
  if (const auto* v = o.if_contains("WorkingDirectory")) c.working_directory = v->as_string();
  return c;
}

boost::json::object to_json(const StoredFunction& f) {
  boost::json::object o;
  o["FunctionName"] = f.name;
  o["Runtime"] = f.runtime;
  o["Handler"] = f.handler;
  o["Description"] = f.description;
  o["Role"] = f.role;
  o["MemorySize"] = f.memory_mb;
  o["Timeout"] = f.timeout_s;
  boost::json::object env;
  for (const auto& [k, v] : f.environment) env[k] = v;
  o["Environment"] = std::move(env);
  if (f.reserved_concurrency) o["ReservedConcurrentExecutions"] = *f.reserved_concurrency;
  o["CodeSha256Hex"] = f.code_sha256_hex;
  o["CodeSize"] = f.code_size;
  if (f.is_image()) {
    o["ImageUri"] = f.image_uri;
    o["ImageConfig"] = image_config_json(f.image_config);
  }
  o["LastModified"] = f.last_modified;
  o["RevisionId"] = f.revision_id;
  return o;
}

StoredFunction stored_function_from_json(const boost::json::object& o) {
  StoredFunction f;
  f.name = o.at("FunctionName").as_string();
  f.runtime = o.at("Runtime").as_string();
  f.handler = o.at("Handler").as_string();
  f.description = o.at("Description").as_string();
  f.role = o.at("Role").as_string();
  f.memory_mb = boost::json::value_to<std::uint32_t>(o.at("MemorySize"));
  f.timeout_s = boost::json::value_to<std::uint32_t>(o.at("Timeout"));
  for (const auto& [k, v] : o.at("Environment").as_object()) {
    f.environment.emplace_back(std::string(k), std::string(v.as_string()));
  }
  if (const auto* r = o.if_contains("ReservedConcurrentExecutions")) {
    f.reserved_concurrency = boost::json::value_to<std::uint32_t>(*r);
  }
  f.code_sha256_hex = o.at("CodeSha256Hex").as_string();
  f.code_size = boost::json::value_to<std::uint64_t>(o.at("CodeSize"));
  if (const auto* uri = o.if_contains("ImageUri")) {
    f.image_uri = uri->as_string();
    f.image_config = image_config_from_json(o.at("ImageConfig").as_object());
  }
  f.last_modified = o.at("LastModified").as_string();
  f.revision_id = o.at("RevisionId").as_string();
  return f;
}

FunctionStore::FunctionStore(const fs::path& state_dir)
    : functions_dir_(state_dir / "functions"),
      versions_dir_(state_dir / "versions"),
      code_root_(state_dir / "code") {}

fs::path FunctionStore::code_dir(const std::string& sha256_hex) const {
  return code_root_ / sha256_hex;
}

fs::path FunctionStore::zip_path(const std::string& sha256_hex) const {
  return code_root_ / (sha256_hex + ".zip");
}

std::vector<StoredFunction> FunctionStore::load(std::vector<std::string>& problems) const {
  std::vector<StoredFunction> out;
  std::error_code ec;
  if (!fs::is_directory(functions_dir_, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(functions_dir_, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    try {
      auto f = stored_function_from_json(boost::json::parse(text.str()).as_object());
      // An image is looked for in the image store when the control plane loads it.
      if (!f.is_image() && !fs::is_directory(code_dir(f.code_sha256_hex), ec)) {
        problems.push_back(file.string() + ": its code " + code_dir(f.code_sha256_hex).string() +
                           " is missing");
        continue;
      }
      out.push_back(std::move(f));
    } catch (const std::exception& e) {
      problems.push_back(file.string() + ": " + e.what());
    }
  }
  return out;
}

std::variant<fs::path, std::string> FunctionStore::store_code(std::string_view zip,
                                                              const std::string& sha256_hex,
                                                              const image::ZipLimits& limits) {
  std::error_code ec;
  const auto dir = code_dir(sha256_hex);
  if (fs::is_directory(dir, ec)) return dir;  // the same package, unpacked before
  fs::create_directories(code_root_, ec);
  if (ec) return "mkdir " + code_root_.string() + ": " + ec.message();
  const fs::path tmp = code_root_ / (".unpacking-" + runtime_api::new_request_id());
  fs::create_directory(tmp, ec);
  if (ec) return "mkdir " + tmp.string() + ": " + ec.message();
  // The sandbox's user reads it as /var/task.
  ::chmod(tmp.c_str(), 0755);
  auto unpacked = image::unpack_zip(zip, tmp, limits);
  if (auto* why = std::get_if<std::string>(&unpacked)) {
    fs::remove_all(tmp, ec);
    return *why;
  }
  if (auto failed = write_atomically(zip_path(sha256_hex), zip)) {
    fs::remove_all(tmp, ec);
    return *failed;
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return "rename to " + dir.string() + ": " + ec.message();
  }
  return dir;
}

std::optional<std::string> FunctionStore::save(const StoredFunction& function) const {
  std::error_code ec;
  fs::create_directories(functions_dir_, ec);
  if (ec) return "mkdir " + functions_dir_.string() + ": " + ec.message();
  return write_atomically(functions_dir_ / (function.name + ".json"),
                          boost::json::serialize(to_json(function)));
}

void FunctionStore::erase(const std::string& name) const {
  std::error_code ec;
  fs::remove(functions_dir_ / (name + ".json"), ec);
}

std::optional<boost::json::object> FunctionStore::load_versions(const std::string& name,
                                                                std::string& problem) const {
  const fs::path file = versions_dir_ / (name + ".json");
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  boost::system::error_code parse_ec;
  auto v = boost::json::parse(text.str(), parse_ec);
  if (parse_ec || !v.is_object()) {
    problem = file.string() + ": " + (parse_ec ? parse_ec.message() : "not a JSON object");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::optional<std::string> FunctionStore::save_versions(const std::string& name,
                                                        const boost::json::object& versions) const {
  std::error_code ec;
  fs::create_directories(versions_dir_, ec);
  if (ec) return "mkdir " + versions_dir_.string() + ": " + ec.message();
  return write_atomically(versions_dir_ / (name + ".json"), boost::json::serialize(versions));
}

void FunctionStore::erase_versions(const std::string& name) const {
  std::error_code ec;
  fs::remove(versions_dir_ / (name + ".json"), ec);
}

void FunctionStore::keep_only(const std::set<std::string>& used) const {
  std::error_code ec;
  if (!fs::is_directory(code_root_, ec)) return;
  std::vector<fs::path> unused;
  for (const auto& entry : fs::directory_iterator(code_root_, ec)) {
    if (!used.contains(entry.path().stem().string())) unused.push_back(entry.path());
  }
  for (const auto& path : unused) fs::remove_all(path, ec);
}

}  // namespace ember::engine
