// ember image ls|prune: the images a node has unpacked in its state directory.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/config/config.hpp"
#include "ember/image/image.hpp"
#include "function_images.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

// The digest of each image function's image, when its reference can be read now, and of the
// control plane's.
std::map<std::string, std::vector<std::string>> functions_by_digest(const config::Config& config,
                                                                    const image::ImageStore& store,
                                                                    const char* command) {
  // The control plane's image functions (aws lambda create-function --package-type Image) by
  // the digest they were stored with.
  auto out = engine::control_plane_images(config.node.state_dir);
  for (const auto& function : config.functions) {
    if (function.image.empty()) continue;
    try {
      out[store.resolve(image::parse_image_ref(function.image, "/"))].push_back(function.name);
    } catch (const image::ImageError& e) {
      std::cerr << "ember image " << command << ": function " << function.name << ": " << e.what()
                << "\n";
      out[""].push_back(function.name);  // unknown: prune must keep everything
    }
  }
  return out;
}

int list(const config::Config& config, image::ImageStore& store) {
  const auto users = functions_by_digest(config, store, "ls");
  std::printf("%-19s  %12s  %-24s  %s\n", "DIGEST", "UNPACKED", "FUNCTIONS", "SOURCE");
  for (const auto& stored : store.list()) {
    std::string functions;
    if (const auto it = users.find(stored.digest); it != users.end()) {
      for (const auto& name : it->second) functions += (functions.empty() ? "" : ",") + name;
    }
    std::printf("%-19s  %12s  %-24s  %s\n", stored.digest.substr(0, 19).c_str(),
                megabytes(stored.unpacked_bytes).c_str(),
                functions.empty() ? "-" : functions.c_str(), stored.source.c_str());
  }
  return 0;
}

int prune(const config::Config& config, image::ImageStore& store) {
  const auto users = functions_by_digest(config, store, "prune");
  if (users.contains("")) {
    std::cerr << "ember image prune: nothing removed: an image function's image cannot be read, "
                 "so which stored image it uses is unknown\n";
    return 1;
  }
  std::set<std::string> keep;
  for (const auto& [digest, names] : users) keep.insert(digest);
  const auto removed = store.prune(keep);
  for (const auto& digest : removed) std::printf("removed %s\n", digest.c_str());
  std::printf("%zu image(s) removed; images a running node uses are kept\n", removed.size());
  return 0;
}

}  // namespace

int image_command(const std::vector<std::string>& args) {
  po::options_description options("ember image ls|prune [options]");
  std::string config_file;
  std::string action;
  options.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_file)->default_value("ember.yaml"),
      "the node's YAML file: its state directory, and the functions that use each image");
  po::options_description hidden;
  hidden.add_options()("action", po::value(&action));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("action", 1);
  po::variables_map vm;
  const CommandLine command_line{
      "ember image",
      "ls: the images unpacked in the node's state directory, with the functions using them.\n"
      "prune: removes the ones no function of the YAML file uses (a running node's are kept).\n\n",
      &options, &all, &positional};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  if (action != "ls" && action != "prune") {
    std::cerr << "ember image: expected ls or prune" << (action.empty() ? "" : ", got " + action)
              << "\n";
    return 2;
  }
  config::Config config;
  try {
    config = config::load_config(config_file);
  } catch (const config::ConfigError& e) {
    std::cerr << "ember image: " << e.what() << "\n";
    return 2;
  }
  try {
    auto store = engine::node_image_store(config.node);
    return action == "ls" ? list(config, store) : prune(config, store);
  } catch (const image::ImageError& e) {
    std::cerr << "ember image " << action << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace ember::cli
