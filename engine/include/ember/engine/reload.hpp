// What a reload of the node's configuration changed, or why it changed nothing.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ember::engine {

struct ReloadOutcome {
  // Why the new configuration was not applied at all; the node serves the old one.
  std::optional<std::string> refused;
  std::vector<std::string> added;     // functions new in the file
  std::vector<std::string> replaced;  // settings or code changed: new workers run the new ones
  std::vector<std::string> removed;   // gone from the file: new invocations get 404
  std::size_t unchanged = 0;
  // Changes that wait for the next start ("node.listen: ..."), each naming its key.
  std::vector<std::string> not_applied;

  // {"added": [...], ...} or {"refused": "..."}; the answer of POST /ember/v1/reload.
  [[nodiscard]] boost::json::object to_json() const;
  // One line for the node's log: "reloaded FILE: 1 added (a), ..." or "... refused: why".
  [[nodiscard]] std::string summary() const;
};

}  // namespace ember::engine
