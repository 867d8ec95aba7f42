// POST /ember/v1/reload (`ember reload`): the node re-reads its configuration file.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

namespace ember::runtime_api {

class ReloadService {
 public:
  ReloadService() = default;
  ReloadService(const ReloadService&) = delete;
  ReloadService& operator=(const ReloadService&) = delete;
  ReloadService(ReloadService&&) = delete;
  ReloadService& operator=(ReloadService&&) = delete;
  virtual ~ReloadService() = default;
  // What the reload changed ({"added": [...], ...}), or {"refused": "why"} when the file did
  // not load and the node kept its configuration. Completes once the node serves the result.
  virtual boost::asio::awaitable<boost::json::object> reload() = 0;
};

}  // namespace ember::runtime_api
