#include "function_images.hpp"

#include <iostream>
#include <stdexcept>

namespace ember::cli {

std::variant<FunctionImages, std::string> load_function_images(config::Config& config) {
  FunctionImages out;
  std::optional<image::ImageStore> store;
  for (config::FunctionConfig& function : config.functions) {
    if (function.image.empty()) continue;
    try {
      if (!store) store.emplace(engine::node_image_store(config.node));
      const auto ref = image::parse_image_ref(function.image, "/");
      auto leased = engine::lease_image(*store, ref);
      out.leases.push_back(std::move(leased.lease));
      image::StoredImage stored = std::move(leased.stored);
      engine::check_image_launch(stored, function.image_config, config.node);
      out.by_function.emplace(function.name, std::move(stored));
    } catch (const std::exception& e) {
      // The store's messages start with the reference already.
      std::string message = e.what();
      if (!message.starts_with(function.image)) {
        message = std::string(function.image).append(": ").append(message);
      }
      return function.source + ": function " + function.name + ": image " + message;
    }
  }
  return out;
}

std::optional<FunctionImages> prepare_function_images(config::Config& config) {
  auto images = load_function_images(config);
  if (auto* problem = std::get_if<std::string>(&images)) {
    std::cerr << "ember serve: " << *problem << "\n";
    return std::nullopt;
  }
  return std::get<FunctionImages>(std::move(images));
}

}  // namespace ember::cli
