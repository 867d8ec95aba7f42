// Functions made through the control plane, kept in the node's state directory so they
// survive a restart: STATE_DIR/functions/NAME.json (the settings), STATE_DIR/versions/NAME.json
// (its published versions and aliases) and STATE_DIR/code/HEX.zip plus STATE_DIR/code/HEX/
// (the package by its SHA-256, and what it unpacks to). An image function's image is in the
// node's image store (STATE_DIR/images/sha256-HEX), by its manifest digest.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/image/zip_archive.hpp"

namespace ember::engine {

// What CreateFunction and the updates set, as stored.
struct StoredFunction {
  [[nodiscard]] bool is_image() const { return !image_uri.empty(); }

  std::string name;
  std::string runtime;
  std::string handler;
  std::string description;
  std::string role;
  std::uint32_t memory_mb = 128;
  std::uint32_t timeout_s = 3;
  std::vector<std::pair<std::string, std::string>> environment;  // by name
  std::optional<std::uint32_t> reserved_concurrency;             // none: ember's default
  // Of the zip; of an image: its manifest's digest (the store's sha256-HEX, Lambda's CodeSha256).
  std::string code_sha256_hex;
  std::uint64_t code_size = 0;  // bytes of the zip; 0 for an image
  // PackageType Image: the reference (image::ImageRef::to_string(), an absolute path) and
  // ImageConfig as given; empty for a zip.
  std::string image_uri;
  config::ImageOverrides image_config;
  std::string last_modified;  // 2019-10-18T22:34:13.123+0000
  std::string revision_id;    // a UUID, new on every change
};

// Lambda's ImageConfig ({"EntryPoint": [...], "Command": [...], "WorkingDirectory": "..."}, the
// keys set only), and back (throws on an object that does not read).
boost::json::object image_config_json(const config::ImageOverrides& c);
config::ImageOverrides image_config_from_json(const boost::json::object& o);

// The settings as stored, and back (throws on a file that does not read).
boost::json::object to_json(const StoredFunction& f);
StoredFunction stored_function_from_json(const boost::json::object& o);

// Owned by the control plane; only its thread calls it. Writes are atomic (a temporary file
// renamed), so a crash leaves the old or the new settings, never half of them.
class FunctionStore {
 public:
  explicit FunctionStore(const std::filesystem::path& state_dir);

  // Every stored function, by name; a file that does not read adds a line to `problems`.
  std::vector<StoredFunction> load(std::vector<std::string>& problems) const;
  // Keeps the package and unpacks it once per content: the code directory, or why the zip
  // was refused (naming the entry).
  std::variant<std::filesystem::path, std::string> store_code(std::string_view zip,
                                                              const std::string& sha256_hex,
                                                              const image::ZipLimits& limits);
  [[nodiscard]] std::filesystem::path code_dir(const std::string& sha256_hex) const;
  [[nodiscard]] std::filesystem::path zip_path(const std::string& sha256_hex) const;
  // Writes the function's settings; the reason when it could not.
  [[nodiscard]] std::optional<std::string> save(const StoredFunction& function) const;
  void erase(const std::string& name) const;
  // The function's versions and aliases (function_versions.hpp), as JSON; none: never published.
  [[nodiscard]] std::optional<boost::json::object> load_versions(const std::string& name,
                                                                 std::string& problem) const;
  [[nodiscard]] std::optional<std::string> save_versions(const std::string& name,
                                                         const boost::json::object& versions) const;
  void erase_versions(const std::string& name) const;
  // Removes the packages (and unfinished unpackings) not in `used`. Called at start only: a
  // replaced function's workers may still run from its old code until then.
  void keep_only(const std::set<std::string>& used) const;

 private:
  std::filesystem::path functions_dir_;
  std::filesystem::path versions_dir_;
  std::filesystem::path code_root_;
};

}  // namespace ember::engine
